"""Findings as kubectl prints objects: a table by default, or the whole report as JSON or YAML."""

from __future__ import annotations

import json

from .run import Report

FORMATS = ("table", "json", "yaml")
COLUMNS = ("CONFIDENCE", "NAMESPACE", "KIND", "NAME", "OWNER", "CAUSE")


def render(report: Report, output: str = "table") -> str:
    if output == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    if output == "yaml":
        import yaml

        return str(yaml.safe_dump(report.to_dict(), sort_keys=False, allow_unicode=True))
    return table(report)


def table(report: Report) -> str:
    rows = [
        (f.confidence, f.namespace or "", f.kind, f.name, (f.owner or "").split("/", 1)[-1] or "-", f.cause)
        for f in report.findings
    ]
    lines: list[str] = []
    if rows:
        widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]
        for row in [COLUMNS, *rows]:
            lines.append("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "   " + row[-1])
    else:
        lines.append("No findings.")
    lines += [f"error: {e}" for e in report.errors]
    return "\n".join(line.rstrip() for line in lines) + "\n"
