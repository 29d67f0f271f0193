"""The built wheel installs into a fresh virtual environment and runs.

This is what a user of ``pip install crossscale`` gets: only the declared dependencies (torch
pinned to the local CPU wheel by constraints.txt), none of the development tools, and the
package data (dataset registry) inside the wheel. It found that ``crossscale`` crashed at
start-up without click, which typer >= 0.16 no longer installs.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _fresh_dist_wheel() -> Path | None:
    """The wheel `make dist` built (make test runs it just before pytest), if it is current.

    Current: exactly one ``dist/crossscale-*.whl``, newer than every file it is built from
    (``src/``, ``pyproject.toml``; byte-code caches aside), so that ``make test`` builds the
    wheel once instead of twice. Otherwise None: the test builds its own.
    """
    wheels = list((ROOT / "dist").glob("crossscale-*.whl"))
    if len(wheels) != 1:
        return None
    built = wheels[0].stat().st_mtime
    sources = [ROOT / "pyproject.toml", *(ROOT / "src").rglob("*")]
    sources = [p for p in sources if p.is_file() and "__pycache__" not in p.parts]
    return None if any(p.stat().st_mtime > built for p in sources) else wheels[0]


def test_fresh_dist_wheel_is_refused_when_a_source_is_newer(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "src" / "crossscale" / "__pycache__").mkdir(parents=True)
    (root / "dist").mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "src" / "crossscale" / "x.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", root)
    assert _fresh_dist_wheel() is None  # no wheel
    wheel = root / "dist" / "crossscale-1.2.3-py3-none-any.whl"
    wheel.write_text("")
    for p in (root / "src" / "crossscale" / "x.py", root / "pyproject.toml"):
        os.utime(p, (1e9, 1e9))
    (root / "src" / "crossscale" / "__pycache__" / "x.pyc").write_text("")  # written later
    assert _fresh_dist_wheel() == wheel
    os.utime(root / "src" / "crossscale" / "x.py")  # edited after the build
    assert _fresh_dist_wheel() is None
    os.utime(root / "src" / "crossscale" / "x.py", (1e9, 1e9))
    (root / "dist" / "crossscale-1.2.2-py3-none-any.whl").write_text("")  # two wheels
    assert _fresh_dist_wheel() is None


def _scratch_folder() -> str | None:
    """Shared memory (``/dev/shm``) when it has room for the venv, else the default temp folder.

    Writing the ~1.2 GB of the venv there took 12 s instead of 20 s (pip's system time).
    """
    shm = Path("/dev/shm")
    try:
        return str(shm) if shm.is_dir() and shutil.disk_usage(shm).free > 4 * 2**30 else None
    except OSError:
        return None


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_fits():
    # The venv holds ~1.2 GB (torch): a temporary folder removed at the end, not pytest's
    # tmp_path (which keeps the last three sessions).
    with tempfile.TemporaryDirectory(prefix="crossscale-wheel-", dir=_scratch_folder()) as tmp:
        tmp = Path(tmp)
        wheel = _fresh_dist_wheel()
        if wheel is None:  # not run through `make test`: build one
            _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                  str(tmp / "dist"), str(ROOT)], timeout=600)  # fmt: skip
            (wheel,) = (tmp / "dist").glob("crossscale-*.whl")
        version = wheel.name.split("-")[1]
        names = zipfile.ZipFile(wheel).namelist()
        assert "crossscale/datasets/registry.json" in names and "crossscale/py.typed" in names
        assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))]

        # A venv without pip of its own, filled by this environment's (current) pip through
        # --python: the same packages, ~17 s less than ensurepip's bundled pip 23 (5 s to
        # install itself, 33 s instead of 21 s to install the wheel and its dependencies).
        venv = tmp / "venv"
        _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=300)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env |= {"OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        _run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q",
              "--no-compile", "-c", str(ROOT / "constraints.txt"), str(wheel)],
             env=env, timeout=900)  # fmt: skip
        site = list(venv.glob("lib/python*/site-packages"))
        assert len(site) == 1 and (site[0] / "crossscale").is_dir() and (site[0] / "torch").is_dir()
        assert not (site[0] / "pytest").exists()  # only what the wheel declares, no dev tools

        out = _run([str(venv / "bin/crossscale"), "-V"], env=env, cwd=tmp, timeout=120).stdout
        assert out.strip() == f"crossscale {version}"
        where = _run([str(venv / "bin/python"), "-c", "import crossscale; print(crossscale.__file__)"],
                     env=env, cwd=tmp, timeout=120).stdout  # fmt: skip
        assert Path(where.strip()).is_relative_to(venv), where

        # A smoke fit on the real data: GraphVAE, distance-blocked CV, one network of 2 epochs,
        # the fixed blend (the numbers of full fits are the benchmarks' business, the inner CV of
        # the default blend is tested in the development install; this checks that the installed
        # package runs: most of its 10 s is compiling the imports, which --no-compile left to it).
        _run([str(venv / "bin/crossscale"), "fit", "--cv", "spatial", "--no-baselines",
              "--no-interpret", "--max-epochs", "2", "--ensemble", "1", "--param",
              "shrinkage=fixed", "--out", str(tmp / "fit")],
             env=env, cwd=tmp, timeout=600)  # fmt: skip
        metrics = json.loads((tmp / "fit" / "metrics.json").read_text())
        run = json.loads((tmp / "fit" / "run.json").read_text())
        assert run["versions"]["crossscale"] == version
        assert run["model_params"]["shrinkage"] == "fixed" and run["model_params"]["n_ensemble"] == 1
        assert (tmp / "fit" / "report.html").stat().st_size > 10_000
        text = json.dumps(metrics)
        assert "spatial_r2" in text and "GraphVAE" in text
