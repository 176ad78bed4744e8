# Two commands on a fresh machine: `make demo` and `make test`. Both create/update .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test compile lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Byte-compile the package (only what changed): where PYTHONDONTWRITEBYTECODE is set, every sre-agent
# process would otherwise compile all of it again (~0.3 s each; the tests start hundreds).
compile: $(STAMP)
	$(BIN)/python -m compileall -q orchestrator

demo: compile
	rm -rf runs/demo
	$(BIN)/sre-agent run examples/incidents/demo.yaml --output-dir runs/demo

test: compile
	$(BIN)/ruff check orchestrator tests
	$(BIN)/ruff format --check orchestrator tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check orchestrator tests

format: $(STAMP)
	$(BIN)/ruff format orchestrator tests
	$(BIN)/ruff check --fix orchestrator tests

bench: $(STAMP)
	$(BIN)/sre-agent bench sim

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
