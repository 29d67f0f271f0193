"""Rich progress bars that follow the CLI's verbosity and show in a terminal or notebook.

The bars refresh from the calling thread (``auto_refresh=False``, at most every 0.1 s), not
from rich's background refresh thread: a Ctrl-C that lands while that thread waits for the
display lock can leave ``Progress.__exit__`` joining it forever (a known race of rich's Live;
see Textualize/rich#90, #927), so a command could hang instead of exiting with code 130.

Bars are on when the CLI turns them on (unless ``--quiet``), or, from Python, when standard
error is a terminal or the code runs in a Jupyter kernel (``set_progress(None)``, the default);
``set_progress(False)`` turns them off. Bars opened while another is open join its display as
transient sub-tasks: when a stage ends only its own bar is left on screen, one per stage.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

#: True / False: forced on or off; None: automatic (a terminal or a notebook, main process).
_ENABLED: bool | None = None
_ACTIVE: object | None = None  # the rich Progress of the outermost open bar


def set_progress_enabled(enabled: bool | None) -> None:
    """Turn progress bars on (True), off (False) or automatic (None: in a terminal or notebook).

    The CLI turns them on unless ``--quiet``; worker processes turn them off.

    Parameters
    ----------
    enabled : bool or None
        True draws bars, False hides them, None decides by the output (terminal or notebook).
    """
    global _ENABLED
    _ENABLED = None if enabled is None else bool(enabled)


#: The public name (``crossscale.set_progress``).
set_progress = set_progress_enabled


def progress_enabled() -> bool:
    """Whether a bar opened now would draw."""
    if _ENABLED is not None:
        return _ENABLED
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return False
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


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
    """Context manager yielding a task with ``advance(n)``; a no-op when bars are off.

    Inside another open bar, the new bar is a transient line of the same display (removed when
    its block ends).
    """
    global _ACTIVE
    if not progress_enabled():
        yield _Task(None, None)
        return
    if _ACTIVE is not None:
        bar = _ACTIVE
        task_id = bar.add_task(description, total=total)  # type: ignore[attr-defined]
        try:
            yield _Task(bar, task_id)
        finally:
            bar.remove_task(task_id)  # type: ignore[attr-defined]
            bar.refresh()  # type: ignore[attr-defined]
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(bar_width=24),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), transient=False, auto_refresh=False,
    ) as bar:  # fmt: skip
        _ACTIVE = bar
        try:
            yield _Task(bar, bar.add_task(description, total=total))
        finally:
            _ACTIVE = None
