"""The bench's progress bar: runs done, and per arm so far how many resolved and how many closed falsely."""

from __future__ import annotations

from typing import Any


class BenchProgress:
    def __init__(self, total: int, what: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]bench[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tally]}"),
            transient=False,
        )
        self._task = self._progress.add_task(what, total=total, tally="")
        self._resolved = 0
        self._false = 0

    def __enter__(self) -> BenchProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, row: dict[str, Any]) -> None:
        self._resolved += bool(row["succeeded"])
        self._false += bool(row["false_closure"])
        self._progress.update(self._task, advance=1, tally=f"resolved {self._resolved} · false closures {self._false}")
