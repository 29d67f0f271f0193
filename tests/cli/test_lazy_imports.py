"""The command line starts fast: importing it (and printing help) loads no heavy library.

A bad option must be refused in well under 2 s (benchmarks/results/validation.md); most of that
time used to be spent importing scikit-learn, pandas, SciPy and torch before any check ran.
"""

import subprocess
import sys

import pytest

HEAVY = ("torch", "sklearn", "pandas", "scipy", "numpy", "matplotlib")


def _loaded(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded("import crossscale.cli.main") == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["fit", "--help"],
        ["benchmark", "--help"],
        ["interpret", "--help"],
        ["vulnerability", "--help"],
        ["spread", "--help"],
        ["spread", "fit", "--help"],
        ["volume", "generate", "--help"],
        ["data", "--help"],
    ],
)
def test_help_loads_no_heavy_library(args):
    code = (
        "import contextlib, io\nfrom crossscale.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({args!r}) == 0"
    )
    assert _loaded(code) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["fit", "--seed", "-1"],
        ["benchmark", "--seed", "-1"],
        ["spread", "simulate", "--out", "x", "--seed", "-1"],
        ["volume", "train", "--out", "t", "--threads", "0"],
    ],
)
def test_refusing_a_bad_number_loads_no_model_library(args, tmp_path):
    code = (
        "import contextlib, io, os\nfrom crossscale.cli.main import main\n"
        f"os.chdir({str(tmp_path)!r})\n"
        f"with contextlib.redirect_stderr(io.StringIO()):\n    assert main({args!r}) == 2"
    )
    loaded = _loaded(code)
    assert "torch" not in loaded and "sklearn" not in loaded, loaded


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "--out", "other", "--overwrite"], "was not written by crossscale"),
        (["fit", "--map", "const.csv"], "is constant"),
        (["benchmark", "--out", "other", "--overwrite"], "was not written by crossscale"),
    ],
    ids=["fit foreign --out", "fit constant map", "benchmark foreign --out"],
)
def test_refusing_a_bad_map_or_output_folder_loads_no_model_library(args, message, tmp_path):
    # issue 24's 2-s refusals: the model's own checks (scikit-learn, torch: 2.5 s) come after
    # the output folder and the map are checked
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "run.json").write_text('{"tool": "fmriprep"}')
    from crossscale.atlas import get_atlas

    rows = "".join(f"{r},0.3\n" for r in get_atlas("dk").regions)
    (tmp_path / "const.csv").write_text("region,d\n" + rows)
    code = (
        "import contextlib, io, os\nfrom crossscale.cli.main import main\n"
        f"os.chdir({str(tmp_path)!r})\nerr = io.StringIO()\n"
        f"with contextlib.redirect_stderr(err):\n    rc = main({args!r})\n"
        f"assert rc == 2 and {message!r} in err.getvalue(), err.getvalue()"
    )
    loaded = _loaded(code)
    assert "torch" not in loaded and "sklearn" not in loaded, loaded


def test_the_cpu_only_build_is_read_without_importing_torch():
    code = (
        "import sys\nfrom crossscale._device import _cpu_only_torch\nfast = _cpu_only_torch()\n"
        "assert 'torch' not in sys.modules\nimport torch\n"
        "print(fast == (torch.version.cuda is None and torch.version.hip is None))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.slow
def test_refusing_cuda_on_a_cpu_only_build_loads_no_torch(tmp_path):
    probe = "import torch; print(torch.version.cuda is None and torch.version.hip is None)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    if out.stdout.strip() != "True":
        pytest.skip("torch here is a CUDA or ROCm build: --device cuda needs torch to answer")
    code = (
        "import contextlib, io, os\nfrom crossscale.cli.main import main\n"
        f"os.chdir({str(tmp_path)!r})\nerr = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n    rc = main(['fit', '--device', 'cuda'])\n"
        "assert rc == 2 and 'no CUDA support' in err.getvalue(), err.getvalue()"
    )
    assert "torch" not in _loaded(code)
