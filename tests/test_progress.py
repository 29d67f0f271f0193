"""Progress bars draw from the calling thread: no refresh thread that a Ctrl-C could deadlock."""

import threading

from crossscale import _progress


def test_bars_run_without_a_background_refresh_thread(monkeypatch):
    monkeypatch.setattr(_progress, "_ENABLED", True)
    before = {t.ident for t in threading.enumerate()}
    with _progress.progress("work", total=3) as task:
        task.advance()
        started = [t for t in threading.enumerate() if t.ident not in before]
        task.advance(2)
        task.update(description="done")
        assert task._progress.tasks[0].completed == 3
    assert started == []  # rich's auto-refresh thread would show up here


def test_bars_are_no_ops_when_disabled(monkeypatch):
    monkeypatch.setattr(_progress, "_ENABLED", False)
    with _progress.progress("work", total=3) as task:
        task.advance()  # nothing to draw, nothing raised
        assert task._progress is None
