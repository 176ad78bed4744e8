"""Ground truth (ITBench `itbench.io/v2` GroundTruth files) and the suites built from it.

Truth: entities become `namespace/Kind/name` (cluster-scoped `/Kind/name`), names may be globs, and a
diagnosis scores recall/precision/strict against them. Suites: `builtin` and ITBench-layout folders, with
one-line errors naming the folder or file at fault.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator.bench.runner import incident_for
from orchestrator.bench.suite import BUILTIN_SUITE, SuiteError, load_suite
from orchestrator.bench.truth import GroundTruth, TruthError, load_truth, root_causes, score_entities
from orchestrator.sim import resolve_scenario

# The builtin suite's scenarios (metadata annotations aside: they describe, they do not simulate) and
# ground truth, as the calibration figures (orchestrator/models/CALIBRATION.md) were measured on them.
CALIBRATED_SUITE_SHA256 = "d1513e6ab7eccc5b5ca14d08e45d07dd6a41abbe185abe197d2c764b422a920a"


def entity(kind: str, name: str, namespace: str | None = None, api_version: str = "apps/v1") -> dict:
    meta = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def truth_doc(*entities: dict, alerts: list | None = None) -> dict:
    spec: dict = {"entities": list(entities)}
    if alerts is not None:
        spec["alerts"] = alerts
    return {"apiVersion": "itbench.io/v2", "kind": "GroundTruth", "metadata": {"name": "t"}, "spec": spec}


def write_yaml(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def one_line_error(exc: pytest.ExceptionInfo, *must_name: str) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    for part in must_name:
        assert part in message, message
    return message


# ------------------------------------------------------------------------------------------ load_truth


def test_entities_become_namespace_kind_name_and_cluster_scoped_ones_have_no_namespace(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "groundtruth.yaml",
        truth_doc(
            entity("Deployment", "ad", "otel-demo"),
            entity("ResourceQuota", "strict-resource-quota", "otel-demo", "v1"),
            entity("Node", "worker-1", api_version="v1"),
            alerts=[{"name": "RequestErrorRate"}, {"name": "PodNotReady", "id": 2}, {"nameless": True}],
        ),
    )
    truth = load_truth(path)
    assert truth.entities == (
        "otel-demo/Deployment/ad",
        "otel-demo/ResourceQuota/strict-resource-quota",
        "/Node/worker-1",
    )
    assert truth.alerts == ("RequestErrorRate", "PodNotReady")
    assert truth.namespaces == ["otel-demo"]  # the cluster-scoped Node adds no "" namespace


def test_namespaces_are_sorted_and_distinct() -> None:
    truth = GroundTruth(("otel-demo/Deployment/a", "book-info/Service/b", "otel-demo/Service/c", "/Node/*"))
    assert truth.namespaces == ["book-info", "otel-demo"]


def test_a_glob_name_is_kept_as_a_pattern(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path / "g.yaml", truth_doc(entity("Deployment", "ad", "otel-demo"), entity("Node", "*", api_version="v1"))
    )
    assert load_truth(path).entities == ("otel-demo/Deployment/ad", "/Node/*")


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (None, "spec.entities"),  # an empty file
        (["not", "a", "mapping"], "spec.entities"),
        ({"apiVersion": "itbench.io/v2", "kind": "GroundTruth"}, "spec.entities"),
        (truth_doc(), "spec.entities"),  # an empty list names no root cause
        ({"spec": {"entities": "otel-demo/Deployment/ad"}}, "spec.entities"),
        (truth_doc(entity("Deployment", "ad", "otel-demo"), {"metadata": {"name": "x"}}), "spec.entities[1]"),
        (truth_doc({"kind": "Deployment", "metadata": {"namespace": "otel-demo"}}), "spec.entities[0]"),
        (truth_doc({"kind": "Deployment", "metadata": ["ad"]}), "spec.entities[0]"),
        (truth_doc("otel-demo/Deployment/ad"), "spec.entities[0]"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_field(tmp_path: Path, doc: object, field: str) -> None:
    path = write_yaml(tmp_path / "groundtruth.yaml", doc)
    with pytest.raises(TruthError) as exc:
        load_truth(path)
    one_line_error(exc, str(path), field)


def test_unparsable_yaml_and_a_missing_file_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec:\n  entities: [\n    - kind: x\n")
    with pytest.raises(TruthError) as exc:
        load_truth(broken)
    one_line_error(exc, str(broken))
    missing = tmp_path / "missing.yaml"
    with pytest.raises(TruthError) as exc:
        load_truth(missing)
    one_line_error(exc, str(missing))


def test_alerts_that_are_not_a_list_are_a_truth_error(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "groundtruth.yaml", truth_doc(entity("Deployment", "ad", "otel-demo"), alerts=5))
    with pytest.raises(TruthError) as exc:
        load_truth(path)
    one_line_error(exc, str(path), "alerts")


def test_a_file_that_is_not_text_is_a_truth_error(tmp_path: Path) -> None:
    path = tmp_path / "groundtruth.yaml"
    path.write_bytes(b"\xff\xfe\x00spec")
    with pytest.raises(TruthError) as exc:
        load_truth(path)
    one_line_error(exc, str(path))


# -------------------------------------------------------------------------------------- score_entities

QUOTA = GroundTruth(("otel-demo/Deployment/ad", "otel-demo/ResourceQuota/strict-resource-quota"))
CORDON = GroundTruth(("otel-demo/Deployment/ad", "/Node/*"))


@pytest.mark.parametrize(
    ("named", "truth", "recall", "precision", "strict"),
    [
        # exact, in any order and with repeats
        (["otel-demo/ResourceQuota/strict-resource-quota", "otel-demo/Deployment/ad"], QUOTA, 1.0, 1.0, True),
        (["otel-demo/Deployment/ad", "otel-demo/Deployment/ad"], GroundTruth(("otel-demo/Deployment/ad",)), 1, 1, True),
        # partial: half the root causes, nothing wrong
        (["otel-demo/Deployment/ad"], QUOTA, 0.5, 1.0, False),
        # extra: every root cause plus a victim
        (
            ["otel-demo/Deployment/ad", "otel-demo/ResourceQuota/strict-resource-quota", "otel-demo/Service/frontend"],
            QUOTA,
            1.0,
            0.6667,
            False,
        ),  # fmt: skip
        # wrong only, and empty
        (["otel-demo/Deployment/frontend"], QUOTA, 0.0, 0.0, False),
        ([], QUOTA, 0.0, 0.0, False),
        # the glob takes whichever node was cordoned, but only a cluster-scoped Node
        (["otel-demo/Deployment/ad", "/Node/worker-2"], CORDON, 1.0, 1.0, True),
        (["otel-demo/Deployment/ad", "otel-demo/Deployment/worker-2"], CORDON, 0.5, 0.5, False),
        (["otel-demo/Deployment/ad", "/Node/a", "/Node/b"], CORDON, 1.0, 1.0, False),  # one node too many
        # names are compared exactly: a different namespace or kind is another object
        (["book-info/Deployment/ad"], GroundTruth(("otel-demo/Deployment/ad",)), 0.0, 0.0, False),
        (["otel-demo/Service/ad"], GroundTruth(("otel-demo/Deployment/ad",)), 0.0, 0.0, False),
    ],
)
def test_score_entities(named: list[str], truth: GroundTruth, recall: float, precision: float, strict: bool) -> None:
    score = score_entities(named, truth)
    assert (score.recall, score.precision, score.strict) == (recall, precision, strict)


def test_an_answer_cannot_win_by_naming_a_glob() -> None:
    # the ground truth may hold patterns; the agent's names are matched as plain names
    score = score_entities(["otel-demo/Deployment/*"], GroundTruth(("otel-demo/Deployment/ad",)))
    assert (score.recall, score.precision, score.strict) == (0.0, 0.0, False)


def test_root_causes_are_the_contributing_entities_of_an_agent_output() -> None:
    output = {
        "entities": [
            {"name": "otel-demo/Deployment/product-catalog", "contributing_factor": True},
            {"name": "otel-demo/Deployment/frontend", "contributing_factor": False},
            {"name": "", "contributing_factor": True},
            "not an entity",
        ]
    }
    assert root_causes(output) == ["otel-demo/Deployment/product-catalog"]
    assert root_causes({}) == []


# ----------------------------------------------------------------------------------------------- suites


def test_builtin_is_the_listed_library_scenarios_with_their_ground_truth() -> None:
    cases = load_suite("builtin")
    assert [c.name for c in cases] == sorted(BUILTIN_SUITE) and len(cases) == 13
    for case in cases:
        folder = resolve_scenario(case.name).parent
        assert case.scenario.resolve() == (folder / "scenario.yaml").resolve()
        assert case.truth == load_truth(folder / "groundtruth.yaml")
        assert case.namespaces, case.name  # the incident's scope comes from the ground truth
        # the scenario loads and its faults validate: the incident a run is given is well-formed
        incident = incident_for(case, "builtin/playbook", 0)
        assert incident.spec.scope.namespaces == case.namespaces


def test_builtin_suite_content_is_what_the_calibration_measured() -> None:
    digest = hashlib.sha256()
    for case in load_suite("builtin"):
        doc = yaml.safe_load(case.scenario.read_text())
        doc.get("metadata", {}).pop("annotations", None)
        digest.update(json.dumps([case.name, doc], sort_keys=True).encode())
        digest.update((case.scenario.parent / "groundtruth.yaml").read_bytes())
    assert digest.hexdigest() == CALIBRATED_SUITE_SHA256


def test_only_keeps_the_named_builtin_cases_in_suite_order() -> None:
    assert [c.name for c in load_suite("builtin", ["scale", "service-selector"])] == ["scale", "service-selector"]
    assert [c.name for c in load_suite("builtin", ["service-selector", "image"])] == ["image", "service-selector"]


def itbench_case(root: Path, folder: str, scenario: str, *entities: dict) -> Path:
    case = root / folder
    case.mkdir(parents=True)
    shutil.copy(resolve_scenario(scenario), case / "scenario.yaml")
    write_yaml(case / "groundtruth.yaml", truth_doc(*entities))
    return case


def test_a_folder_in_itbench_layout_is_a_suite(tmp_path: Path) -> None:
    itbench_case(tmp_path, "scenario_58", "scale", entity("Deployment", "accounting", "otel-demo"))
    itbench_case(tmp_path, "scenario_20", "image", entity("Deployment", "product-catalog", "otel-demo"))
    (tmp_path / "notes").mkdir()  # a folder without scenario.yaml is not a case
    (tmp_path / "README.md").write_text("not a case")
    cases = load_suite(str(tmp_path))
    assert [(c.name, c.truth.entities) for c in cases] == [
        ("scenario_20", ("otel-demo/Deployment/product-catalog",)),
        ("scenario_58", ("otel-demo/Deployment/accounting",)),
    ]
    assert all(c.scenario.read_text() == resolve_scenario(n).read_text() for c, n in
               zip(cases, ["image", "scale"], strict=True))  # fmt: skip
    # a single scenario folder is a suite of one
    single = load_suite(str(tmp_path / "scenario_20"))
    assert [c.name for c in single] == ["scenario_20"]


@pytest.mark.parametrize("problem", ["not a dir", "a file", "no scenario folders", "no groundtruth", "bad truth"])
def test_suite_errors_are_one_line_naming_the_folder_or_file(tmp_path: Path, problem: str) -> None:
    root = tmp_path / "suite"
    if problem == "not a dir":
        named = str(root)
    elif problem == "a file":
        root.write_text("scenario")
        named = str(root)
    elif problem == "no scenario folders":
        (root / "empty-case").mkdir(parents=True)
        named = str(root)
    elif problem == "no groundtruth":
        case = itbench_case(root, "scenario_20", "image", entity("Deployment", "product-catalog", "x"))
        (case / "groundtruth.yaml").unlink()
        named = str(case)
    else:
        case = itbench_case(root, "scenario_20", "image", {"kind": "Deployment"})
        named = str(case / "groundtruth.yaml")
    with pytest.raises(SuiteError) as exc:
        load_suite(str(root))
    one_line_error(exc, named)


def test_only_naming_an_unknown_case_is_an_error() -> None:
    with pytest.raises(SuiteError) as exc:
        load_suite("builtin", ["scale", "no-such-case"])
    message = one_line_error(exc, "no-such-case")
    assert "scale" not in message.split("no case named", 1)[-1]  # only the unknown name is blamed
