"""MAST self-annotation: the 14 failure modes as data, deterministic detectors over the run's trace,
per-run annotations (mast.json), per-model summaries and a benchmark. Import-light: no model, agent or
cluster libraries."""

from .annotate import Annotation, LiveDetectors, MastInputError, annotate, annotate_run_dir, detectors_for_live
from .detectors import Finding
from .taxonomy import MODE_IDS, MODES, mode

__all__ = [
    "MODES",
    "MODE_IDS",
    "Annotation",
    "Finding",
    "LiveDetectors",
    "MastInputError",
    "annotate",
    "annotate_run_dir",
    "detectors_for_live",
    "mode",
]
