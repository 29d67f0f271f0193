"""Rich progress bars that follow the CLI's verbosity (off under --quiet and in tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_ENABLED = False


def set_progress_enabled(enabled: bool) -> None:
    """Turn progress bars on or off (the CLI turns them on unless --quiet)."""
    global _ENABLED
    _ENABLED = bool(enabled)


class _Task:
    def __init__(self, progress: object | None, task_id: object | None) -> None:
        self._progress, self._task = progress, task_id

    def advance(self, n: float = 1.0) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)  # type: ignore[attr-defined]

    def update(self, **kwargs: object) -> None:
        if self._progress is not None:
            self._progress.update(self._task, **kwargs)  # type: ignore[attr-defined]


@contextlib.contextmanager
def progress(description: str, total: float | None) -> Iterator[_Task]:
    """Context manager yielding a task with ``advance(n)``; a no-op when bars are off."""
    if not _ENABLED:
        yield _Task(None, None)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), transient=False,
    ) as bar:  # fmt: skip
        yield _Task(bar, bar.add_task(description, total=total))
