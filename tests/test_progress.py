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


def test_nested_bars_share_one_display_and_leave_one_bar_per_stage(monkeypatch):
    monkeypatch.setattr(_progress, "_ENABLED", True)
    with _progress.progress("Evaluating 2 models", total=2) as outer:
        for _ in range(2):  # e.g. LORO and spatial CV: two inner bars with the same label
            with _progress.progress("GraphVAE, 68 models", total=68) as inner:
                assert inner._progress is outer._progress  # one live display
                assert len(outer._progress.tasks) == 2
                inner.advance(68)
            assert [t.description for t in outer._progress.tasks] == ["Evaluating 2 models"]
            outer.advance()
    assert _progress._ACTIVE is None


def test_automatic_bars_only_in_a_terminal(monkeypatch):
    import io

    monkeypatch.setattr(_progress, "_ENABLED", None)
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal (e.g. a log file, CI)
    monkeypatch.delitem(__import__("sys").modules, "ipykernel", raising=False)
    assert not _progress.progress_enabled()

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    assert _progress.progress_enabled()
    _progress.set_progress_enabled(False)
    assert not _progress.progress_enabled()
