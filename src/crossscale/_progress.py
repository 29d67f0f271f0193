"""Rich progress bars that follow the CLI's verbosity (off under --quiet and in tests).

The bars refresh from the calling thread (``auto_refresh=False``, at most every 0.1 s), not
from rich's background refresh thread: a Ctrl-C that lands while that thread waits for the
display lock can leave ``Progress.__exit__`` joining it forever (a known race of rich's Live;
see Textualize/rich#90, #927), so a command could hang instead of exiting with code 130.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

_ENABLED = False


def set_progress_enabled(enabled: bool) -> None:
    """Turn progress bars on or off (the CLI turns them on unless --quiet)."""
    global _ENABLED
    _ENABLED = bool(enabled)


#: Seconds between two redraws of a bar.
REFRESH_S = 0.1


class _Task:
    def __init__(self, progress: object | None, task_id: object | None) -> None:
        self._progress, self._task = progress, task_id
        self._drawn = 0.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._drawn >= REFRESH_S:
            self._drawn = now
            self._progress.refresh()  # type: ignore[union-attr]

    def advance(self, n: float = 1.0) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)  # type: ignore[attr-defined]
            self._refresh()

    def update(self, **kwargs: object) -> None:
        if self._progress is not None:
            self._progress.update(self._task, **kwargs)  # type: ignore[attr-defined]
            self._refresh()


@contextlib.contextmanager
def progress(description: str, total: float | None) -> Iterator[_Task]:
    """Context manager yielding a task with ``advance(n)``; a no-op when bars are off."""
    if not _ENABLED:
        yield _Task(None, None)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), transient=False, auto_refresh=False,
    ) as bar:  # fmt: skip
        yield _Task(bar, bar.add_task(description, total=total))
