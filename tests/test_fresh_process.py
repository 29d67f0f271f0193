"""The fork-server runner of the README and gallery tests behaves as ``python -c`` (tests/fresh_process.py)."""

import os
import time

import pytest
from fresh_process import run_code


@pytest.mark.slow  # starts the fork server (imports torch, scikit-learn ...) once per test worker
def test_run_code_is_python_c_in_its_own_folder_environment_and_namespace(tmp_path):
    env = {**os.environ, "CROSSSCALE_TEST_VALUE": "42", "MPLBACKEND": "Agg"}
    code = (
        "import os, sys\n"
        "print(os.getcwd(), os.environ['CROSSSCALE_TEST_VALUE'], __name__, sys.argv)\n"
        "print('crossscale' in sys.modules, 'matplotlib' in sys.modules, 'torch' in sys.modules)\n"
        "print('to stderr', file=sys.stderr)\n"
        "os.write(1, b'from C\\n')\n"
        "sys.exit(3)\n"
    )
    proc = run_code(code, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 3
    assert proc.stdout.splitlines() == [f"{tmp_path} 42 __main__ ['-c']", "False False True", "from C"]
    assert proc.stderr == "to stderr\n"
    assert list(tmp_path.iterdir()) == [] and not list(tmp_path.parent.glob(f".{tmp_path.name}.*"))

    proc = run_code("import sys\nsys.exit('bad input')\n", cwd=tmp_path, env=env, timeout=120)
    assert (proc.returncode, proc.stderr) == (1, "bad input\n")  # as python -c prints it
    # a name the code did not import fails, though the server imported the module
    proc = run_code("x = numpy.zeros(2)\n", cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1 and "NameError: name 'numpy' is not defined" in proc.stderr
    # each run starts from the server's state, not from the previous run's
    run_code("import crossscale\n", cwd=tmp_path, env=env, timeout=120)
    proc = run_code("import sys\nprint('crossscale' in sys.modules)\n", cwd=tmp_path, env=env, timeout=120)
    assert proc.stdout == "False\n" and proc.returncode == 0


@pytest.mark.slow
def test_run_code_shuts_down_worker_processes_as_the_interpreter_does_at_exit(tmp_path):
    # a process pool left open by the code is shut down at exit (its workers do not outlive the run)
    code = (
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import os\n"
        "pool = ProcessPoolExecutor(1)\n"
        "print(pool.submit(os.getpid).result())\n"
    )
    proc = run_code(code, cwd=tmp_path, env=dict(os.environ), timeout=120)
    assert proc.returncode == 0, proc.stderr
    worker = int(proc.stdout)
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with open(f"/proc/{worker}/stat") as f:  # a zombie waiting for its (exited) parent is gone too
        assert f.read().split()[2] == "Z", "the pool's worker outlived the run"
