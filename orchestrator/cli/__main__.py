"""`python -m orchestrator.cli`, as `sre-agent`."""

from orchestrator.cli import main

main()
