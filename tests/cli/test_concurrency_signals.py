"""Other writers, other signals, leftovers of dead runs (issue 24), with real processes.

* two processes with one ``--out``: the second fails at once, the first's folder is whole;
* SIGTERM / SIGHUP while the output is being written: exit 143 / 129, a message, nothing
  half-written visible, no lock file;
* the hidden ``.NAME.tmp-PID-*`` folder of a killed run is removed by the next run (its pid is
  gone), and the previous version of a folder a killed run was replacing is put back.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crossscale import _lock
from crossscale.cli.main import main

PY = sys.executable


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([PY, "-c", "pass"])
    proc.wait()
    return proc.pid


def _holder(out: Path, seconds: float = 30.0) -> subprocess.Popen:
    """Another process that holds the lock of `out` (as a running crossscale command does)."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.argv = ["crossscale", "fit", "--out", {str(out)!r}]
        from crossscale import _lock
        _lock.lock_output({str(out)!r})
        print("locked", flush=True)
        time.sleep({seconds})
    """)
    proc = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_on_a_locked_out_fails_fast_and_names_the_first(tmp_path, monkeypatch, capsys,
                                                                      snapshot):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    holder = _holder(tmp_path / "res")
    try:
        before = snapshot(tmp_path)
        t0 = time.perf_counter()
        code = main(["spread", "simulate", "--out", "res", "--n-subjects", "2"])
        elapsed = time.perf_counter() - t0
        err = capsys.readouterr().err
        assert code == 2
        text = " ".join(err.split())
        assert f"--out 'res' is being written by another crossscale run right now (pid {holder.pid}, `crossscale fit --out" in text
        assert "choose another --out" in text
        assert elapsed < 5
        assert snapshot(tmp_path) == before  # only the holder's lock file, untouched
    finally:
        holder.kill()
        holder.wait()
    # the lock of a killed holder is free again (the kernel drops it with the process)
    assert main(["spread", "simulate", "--out", "res", "--n-subjects", "2", "--timepoints", "0"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.lock", "res"] or sorted(
        p.name for p in tmp_path.iterdir()) == ["res"]  # fmt: skip


def test_lock_is_reentrant_and_released_without_a_trace(tmp_path):
    out = tmp_path / "a" / "b" / "res"
    _lock.lock_output(out)
    _lock.lock_output(out)  # the same process again: fine
    assert (tmp_path / "a" / "b" / ".res.lock").read_text().split("\n")[0] == str(os.getpid())
    _lock.release_output(out)
    assert list(tmp_path.iterdir()) == []  # the lock file and the folders made for it are gone


@pytest.mark.slow
def test_two_processes_one_out_exactly_one_writes(tmp_path):
    """Two real `spread simulate` runs started together with the same --out."""
    cmd = [PY, "-c", "from crossscale.cli.main import run; run()", "spread", "simulate", "--out",
           "res", "--n-subjects", "4", "--timepoints", "0,2"]  # fmt: skip
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=os.environ | {"COLUMNS": "200"}) for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    text = " ".join(loser[2].split())
    assert "is being written by another crossscale run right now" in text or (
        "The output folder 'res' already exists" in text), text  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no lock, no tmp left
    assert {"maps.csv", "truth.csv", "run.json"} <= {p.name for p in (tmp_path / "res").iterdir()}


_SLOW_WRITE = textwrap.dedent("""
    import sys, time
    import crossscale._outdir as o
    stamp = o._stamp_run_json
    def slow(folder):  # the files are in the temporary folder; the rename has not happened
        print("WRITING", flush=True)
        time.sleep(60)
        stamp(folder)
    o._stamp_run_json = slow
    from crossscale.cli.main import run
    sys.argv = ["crossscale", "spread", "simulate", "--out", "res", "--n-subjects", "2",
                "--timepoints", "0"]
    run()
""")


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"),
                                                    (signal.SIGHUP, 129, "SIGHUP")])  # fmt: skip
def test_sigterm_and_sighup_while_writing_leave_nothing(tmp_path, sig, code, name):
    """A batch scheduler's SIGTERM (or a closed terminal's SIGHUP) in the middle of the write."""
    (tmp_path / "res").mkdir()  # an earlier crossscale result that --overwrite would replace
    (tmp_path / "res" / "run.json").write_text('{"written_by": "crossscale", "files": ["run.json"]}')
    before = (tmp_path / "res" / "run.json").read_bytes()
    proc = subprocess.Popen([PY, "-c", _SLOW_WRITE.replace('"0"]', '"0", "--overwrite"]')],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"COLUMNS": "200"})  # fmt: skip
    for line in proc.stdout:
        if "WRITING" in line:
            break
    tmps = [p.name for p in tmp_path.iterdir() if p.name.startswith(".res.tmp-")]
    assert tmps and tmps[0].startswith(f".res.tmp-{proc.pid}-")  # the pid is in the name
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"Terminated by {name}; nothing was written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no tmp, no lock file
    assert [p.name for p in (tmp_path / "res").iterdir()] == ["run.json"]
    assert (tmp_path / "res" / "run.json").read_bytes() == before


def test_sigterm_exit_code_and_message_in_process(tmp_path, monkeypatch, capsys, snapshot):
    """main() turns SIGTERM into exit 143 with a message (the handler is installed per run)."""
    import crossscale.pipeline.spread as spread_pipeline

    def killed(*a, **k):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spread_pipeline, "spread_graph", killed)
    before = snapshot(tmp_path)
    old = signal.getsignal(signal.SIGTERM)
    assert main(["spread", "simulate", "--out", "res"]) == 143
    assert "Terminated by SIGTERM; nothing was written" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == old  # restored after the run
    assert snapshot(tmp_path) == before


def test_leftovers_of_a_dead_run_are_removed_and_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "400")
    dead = _dead_pid()
    stale = tmp_path / f".res.tmp-{dead}-k2j4"
    stale.mkdir()
    (stale / "maps.csv").write_text("half a table")
    running = tmp_path / f".res.tmp-{os.getppid()}-x1"  # a live pid: reported, not removed
    running.mkdir()
    nopid = tmp_path / ".res.tmp-abc123"  # written before pids were recorded: reported
    nopid.mkdir()
    mine = tmp_path / ".mine.tmp-1-x"  # another output's: not touched
    mine.mkdir()
    # a model parameter refused (checked after the output folder, whose lock and clean-up ran
    # first); nothing else is written. (A bad map is refused before the folder is touched.)
    assert main(["fit", "--param", "n_latent=0", "--out", "res"]) == 2
    assert not stale.exists() and running.exists() and nopid.exists() and mine.exists()
    out = capsys.readouterr()
    # whitespace removed: a log handler configured by an earlier test in the same process
    # (pytest -n 2 runs other tests first) may wrap lines, even inside a path
    text = "".join((out.out + out.err).split())

    def said(message):
        return "".join(message.split()) in text

    assert said(f"Removed '{stale}', the temporary folder of an interrupted crossscale run (pid {dead}")
    assert said(f"was left by the running pid {os.getppid()}; it is not removed")
    assert said("was left by a run without a recorded pid")
    assert not (tmp_path / ".res.lock").exists()


def test_a_folder_a_dead_run_was_replacing_is_put_back(tmp_path, caplog):
    """Killed between 'move the old folder aside' and 'move the new one in': nothing is lost."""
    from crossscale._outdir import check_output_dir

    dead = _dead_pid()
    old = tmp_path / f".res.old-{dead}"
    old.mkdir()
    (old / "run.json").write_text('{"written_by": "crossscale", "files": ["x.csv"]}')
    (old / "x.csv").write_text("1\n")
    with caplog.at_level("WARNING"):
        check_output_dir(tmp_path / "res", overwrite=True)
    _lock.release_all()
    assert (tmp_path / "res" / "x.csv").read_text() == "1\n" and not old.exists()
    assert "was restored from" in caplog.text
    # the same leftover when the new folder did arrive: the old version is removed
    old.mkdir()
    (old / "x.csv").write_text("0\n")
    check_output_dir(tmp_path / "res", overwrite=True)
    _lock.release_all()
    assert not old.exists() and (tmp_path / "res" / "x.csv").read_text() == "1\n"


def test_vulnerability_output_files_are_locked_too(tmp_path, monkeypatch, capsys, snapshot):
    """A second `vulnerability --out d.csv` while another writes d.csv fails at once."""
    (tmp_path / "table.csv").write_text("SubjID,L_bankssts_thickavg\ns1,2.5\n")
    (tmp_path / "cov.csv").write_text("SubjID,Dx,Age,Sex\ns1,AD,70,1\n")
    monkeypatch.chdir(tmp_path)
    holder = _holder(tmp_path / "d.csv")
    try:
        before = snapshot(tmp_path)
        assert main(["vulnerability", "table.csv", "-c", "cov.csv", "--case", "AD", "--control",
                     "CN", "--out", "d.csv"]) == 2  # fmt: skip
        err = " ".join(capsys.readouterr().err.split())
        assert "--out 'd.csv' is being written by another crossscale run right now" in err
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(("signal_error", "code", "says"), [
    (KeyboardInterrupt(), 130, "Interrupted; nothing was written"),
    (None, 143, "Terminated by SIGTERM"),
])  # fmt: skip
def test_a_signal_that_python_wraps_during_an_import_is_still_an_interrupt(signal_error, code,
                                                                            says, capsys):
    """Ctrl-C during a lazy ``import torch`` (a class body being built) arrives as RuntimeError.

    Python wraps an exception raised in ``__set_name__`` ("Error calling __set_name__ ...", with
    the interrupt as ``__cause__``): seen as "Internal error", exit 1, when SIGINT reached a fit
    while torch was being imported under load.
    """
    import typer

    from crossscale._signals import Terminated
    from crossscale.cli._guard import run_guarded

    interrupt = signal_error if signal_error is not None else Terminated(signal.SIGTERM)

    class Field:
        def __set_name__(self, owner, name):
            raise interrupt

    app = typer.Typer()

    @app.command()
    def fit() -> None:
        type("Strategy", (), {"field": Field()})  # what a dataclass in torch does at import

    @app.command()
    def other() -> None:
        pass

    assert run_guarded(typer.main.get_command(app), ["fit"]) == code
    err = capsys.readouterr().err
    assert says in err and "Internal error" not in err
