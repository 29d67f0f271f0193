"""Run user code (a README block, a gallery script) in a process of its own, as ``python -c`` would.

``tests/test_readme.py`` and ``tests/test_examples.py`` run each block or script in a new process,
in an empty folder, with its own environment, and read what it printed. Starting a new Python for
each paid ~5 s of CPU importing numpy, pandas, SciPy, scikit-learn and torch. :func:`run_code`
instead forks each run from a server process (:mod:`multiprocessing`'s ``"forkserver"``) that
has imported those third-party libraries (:data:`PRELOAD`) and nothing else: crossscale and
matplotlib are imported by the user code itself, in the child, after its environment (``MPLBACKEND``, ``COLUMNS``, ...) is set. The code runs as
``__main__`` in a fresh namespace, so a missing ``import`` in it still fails; what the server has
imported is only faster to import again. The wheel test and the command-line tests still start
new interpreters. Measured (the 15 README and gallery tests, ``pytest -n 2``, two alternating runs
each): 154-166 s of CPU with a new interpreter per test, 131-136 s forked.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
from pathlib import Path

#: imported once by the server (OpenBLAS and torch read OMP_NUM_THREADS when they load)
PRELOAD = ["fresh_process_server"]

_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    """The fork server, started (once per process) with :data:`PRELOAD` imported."""
    global _CONTEXT
    if _CONTEXT is None:
        from multiprocessing import forkserver

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        # Python 3.11's fork server ignores the parent's sys.path when it preloads: the module
        # of PRELOAD (in tests/) is found through PYTHONPATH, set only while the server starts
        # (each child sets its own environment, PYTHONPATH included, before the code runs).
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), saved]))
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        # stop and reap the server when this process exits, so that the CPU time of the runs
        # (children of the server) is counted in this process's children (bench_test_time.py)
        atexit.register(forkserver._forkserver._stop)
        _CONTEXT = ctx
    return _CONTEXT


def _child(code: str, cwd: str, env: dict[str, str], out: str, err: str) -> None:
    import sys
    import threading
    import traceback

    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["-c"]
    status = 0
    try:
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as stop:  # sys.exit(n), sys.exit() and sys.exit("message"), as python -c
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if stop.code is not None and not isinstance(stop.code, int):
            print(stop.code, file=sys.stderr)
    except BaseException:  # what `python -c` prints and its exit status
        traceback.print_exc()
        status = 1
    # what the interpreter does at exit, which a multiprocessing child skips: join the threads and
    # run their exit callbacks (concurrent.futures, joblib's loky executor shut their workers
    # down there), then the atexit functions; without this, worker processes of n_jobs > 1 are
    # left running
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run_code(code: str, *, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run `code` like ``subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True)``.

    Returns
    -------
    subprocess.CompletedProcess
        ``returncode`` (−signal if killed), ``stdout`` and ``stderr`` as text.
    """
    logs = Path(cwd).parent / f".{Path(cwd).name}.out", Path(cwd).parent / f".{Path(cwd).name}.err"
    proc = _context().Process(target=_child, args=(code, str(cwd), dict(env), *map(str, logs)))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise subprocess.TimeoutExpired(["-c", code[:200]], timeout)
    stdout, stderr = (p.read_text(errors="replace") if p.exists() else "" for p in logs)
    for p in logs:
        p.unlink(missing_ok=True)
    return subprocess.CompletedProcess(["-c"], proc.exitcode, stdout, stderr)
