"""Every gallery script runs on the real data and prints what its text says it shows.

The documentation build renders the scripts without running them (``plot_gallery=False``); this
is where they run, each as ``python examples/<name>.py`` would run it (in a process of its own,
forked from a server that has imported only the heavy third-party libraries:
``tests/fresh_process.py``) but with GraphVAE trained
5 epochs instead of its default 100, with one network and a shorter inner CV
(``tests/quick_fits.py``): what the scripts call, print and
draw is tested here, the numbers of full fits in ``benchmarks/``.
"""

import os
import re
from pathlib import Path

import pytest
from fresh_process import run_code
from quick_fits import PREAMBLE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# A line each script must print: the quantity its text talks about.
EXPECTED = {
    "plot_01_fit_ad_map": r"GraphVAE\s+0\.\d+\s+0\.\d+\s+0\.\d+",
    "plot_02_spin_nulls": r"spin p = 0\.\d+",
    "plot_03_atlases": r"Spatial \(Laplacian\)",
    "plot_04_interpret": r"Neuro_Exc",
    "plot_05_benchmark": r"enigma_scz_case_controls_thickness",
    "plot_06_spread": r"p_spin = 0\.\d+",
    "plot_07_vulnerability": r"L_\w+\s+-?\d\.\d+",
}

# the script as `python <path>` runs it: __main__, its own folder first on sys.path
_RUN = """\
import runpy, sys
sys.path.insert(0, {path!r}.rsplit("/", 1)[0])
sys.argv = [{path!r}]
runpy.run_path({path!r}, run_name="__main__")
"""


def test_every_example_has_an_expectation():
    assert sorted(p.stem for p in EXAMPLES.glob("plot_*.py")) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    proc = run_code(PREAMBLE + _RUN.format(path=str(EXAMPLES / f"{name}.py")), cwd=tmp_path, env=env,
                    timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip(), "the example printed nothing"
    assert re.search(EXPECTED[name], proc.stdout), proc.stdout[-2000:]
    assert list(tmp_path.iterdir()) == [], "an example wrote files into the working folder"
