"""Every bad input of the command line: one message, the right exit code, nothing written.

Each case runs the real entry point (:func:`crossscale.cli.main.main`) in a folder of real
files and compares every byte of that folder before and after. Validation comes before any
data loading or fitting, so each case takes well under a second.
"""

import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossscale.atlas import DK_REGIONS
from crossscale.cli.main import main


def _map(path: Path, values, regions=DK_REGIONS) -> None:
    pd.DataFrame({"region": list(regions), "d": list(values)}).to_csv(path, index=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A user's project folder full of inputs, other people's files and crossscale outputs."""
    d = tmp_path_factory.mktemp("project")
    good = np.linspace(-1, 1, 68)
    _map(d / "map.csv", good)
    _map(d / "const.csv", [0.3] * 68)
    _map(d / "inf.csv", [*good[:-1], np.inf])
    _map(d / "huge.csv", [*good[:-1], 1e308])
    _map(d / "big.csv", [*good[:-1], 1e12])
    _map(d / "nan.csv", [*good[:-1], np.nan])
    _map(d / "typo.csv", good, ["L_banksts", *DK_REGIONS[1:]])
    _map(d / "few.csv", good[:5], DK_REGIONS[:5])
    (d / "text.csv").write_text("region,d\n" + "".join(f"{r},high\n" for r in DK_REGIONS))
    (d / "empty.csv").write_bytes(b"")
    (d / "header.csv").write_text("region,d\n")
    with zipfile.ZipFile(d / "excel.csv", "w") as z:  # what an .xlsx renamed .csv looks like
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    (d / "png.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (d / "study" / "sub").mkdir(parents=True)
    _map(d / "study" / "my_map.csv", good)
    (d / "study" / "notes.txt").write_text("notes\n")
    (d / "study" / "sub" / "s1.csv").write_text("subject data\n")
    (d / "project").mkdir()
    (d / "project" / "thesis.tex").write_text("\\chapter{Results}\n")
    (d / "afile.txt").write_text("a file\n")
    (d / "cohort.csv").write_text("subject,time," + ",".join(DK_REGIONS) + "\n")
    (d / "table.csv").write_text("SubjID,L_bankssts_thickavg\ns1,2.5\n")
    (d / "cov.csv").write_text("SubjID,Dx,Age,Sex\ns1,AD,70,1\n")
    (d / "fitrun").mkdir()  # a crossscale fit folder whose model/ has gone
    (d / "fitrun" / "run.json").write_text(json.dumps({"command": "crossscale fit"}))
    (d / "fitrun2" / "model").mkdir(parents=True)  # run.json + model/: options are checked next
    (d / "fitrun2" / "run.json").write_text(json.dumps({"command": "crossscale fit"}))
    (d / "fitrun2" / "extra.gmt").write_text("set\tNA\tGFAP\n")
    return d


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


VULN = ["vulnerability", "table.csv", "-c", "cov.csv", "--case", "AD", "--control", "CN"]

# (argv, exit code, message regex)
CASES = [
    # usage errors: click's usage line, exit 2, no traceback
    ([], 2, r"Usage: crossscale"),
    (["fitt"], 2, r"Usage: crossscale .*\n.*\n\nError: No such command 'fitt'. Did you mean 'fit'"),
    (["fit", "--bogus"], 2, r"No such option: --bogus"),
    (["fit", "--n-perm", "abc"], 2, r"Invalid value for '--n-perm'"),
    (["fit", "--seed", "1.5"], 2, r"Invalid value for '--seed'"),
    (["data", "info"], 2, r"Missing argument"),
    (["spread", "simulate"], 2, r"Missing option '--out'"),
    (["interpret"], 2, r"(?i)Missing argument 'results_dir'"),
    # option values, checked before any work
    (["fit", "--n-perm", "-5"], 2, r"--n-perm must be >= 1; got -5"),
    (["fit", "--null-cv", "1"], 2, r"--null-cv must be a number of spatial folds >= 2"),
    (["fit", "--nulls", "perm"], 2, r"--nulls must be 'spin', 'moran' or 'none'; got 'perm'"),
    (["fit", "--cv", "kfold"], 2, r"--cv must be 'loro', 'spatial' or 'loro,spatial'"),
    (["fit", "--graph", "knn"], 2, r"--graph must be 'surface' or 'connectome'"),
    (["fit", "--max-epochs", "0"], 2, r"--max-epochs must be >= 1"),
    (["fit", "--param", "smoothness=-1"], 2, r"parameter 'smoothness' must be >= 0; got -1"),
    (["fit", "--param", "beta=-0.1"], 2, r"parameter 'beta' must be >= 0"),
    (["fit", "--param", "n_latent=0"], 2, r"parameter 'n_latent' must be an integer >= 1; got 0"),
    (["fit", "--param", "n_components=-1"], 2, r"'n_components' must be 'auto', None or an"),
    (["fit", "--param", "n_latnet=4"], 2, r"no parameter\(s\) 'n_latnet'; valid .*n_latent"),
    (["fit", "--param", "n_latent"], 2, r"--param must be KEY=VALUE"),
    (["fit", "--model", "nope"], 2, r"Unknown model 'nope'; registered models: graphvae"),
    (["benchmark", "--param", "beta=-1"], 2, r"parameter 'beta' must be >= 0"),
    (["fit", "--interpret-n-perm", "0"], 2, r"--interpret-n-perm must be >= 1.*--no-interpret"),
    (["fit", "--param", "beta=nan"], 2, r"parameter 'beta' must be >= 0; got nan"),
    (["fit", "--batch-size", "0"], 2, r"--batch-size must be >= 1"),
    (["fit", "--scheduler", "nowhere"], 2, r"--scheduler must be 'local' or a Dask scheduler"),
    (["fit", "--device", "tpu"], 2, r"--device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    pytest.param(
        ["fit", "--device", "cuda"],
        2,
        r"--device 'cuda' asks for a GPU, but",
        marks=pytest.mark.skipif("_cuda()", reason="this machine has CUDA"),
    ),  # fmt: skip
    (["fit", "--group", "XYZ"], 2, r"No ADNI2 map for group='XYZ'"),
    # the map
    (["fit", "--map", "nope.csv"], 2, r"the map file 'nope.csv' does not exist"),
    (["fit", "--map", "study"], 2, r"'study' is a folder"),
    (["fit", "--map", "const.csv"], 2, r"The map 'const.csv' is constant"),
    (["fit", "--map", "inf.csv"], 2, r"1 infinite value\(s\) in 'R_insula'"),
    (["fit", "--map", "huge.csv"], 2, r"beyond ±1e\+09 \('R_insula' = 1e\+308\)"),
    (["fit", "--map", "big.csv"], 2, r"beyond ±1e\+09 \('R_insula' = 1e\+12\)"),
    (["fit", "--map", "nan.csv"], 2, r"1 region\(s\) with a missing or non-numeric value"),
    (["fit", "--map", "text.csv"], 2, r"68 region\(s\) with a missing or non-numeric value"),
    (["fit", "--map", "typo.csv"], 2, r"'L_banksts' \(did you mean 'L_bankssts'\?\)"),
    (["fit", "--map", "few.csv"], 2, r"has only 5 region\(s\); at least 10"),
    (["fit", "--map", "empty.csv"], 2, r"'empty.csv' is empty \(0 bytes\)"),
    (["fit", "--map", "header.csv"], 2, r"has a header line \(region, d\) but no data rows"),
    (["fit", "--map", "excel.csv"], 2, r"is an Excel workbook \(.xlsx\), not a text table"),
    (["fit", "--map", "png.csv"], 2, r"is a PNG image, not a text table"),
    (["fit", "--map", "map.csv", "--value-column", "t"], 2, r"has no column 't'"),
    # the output folder
    (
        ["fit", "--map", "study/my_map.csv", "--out", "study", "--overwrite"],
        2,
        r"--out 'study' contains the input 'study/my_map.csv'",
    ),
    (["fit", "--map", "study/my_map.csv", "--out", "study/my_map.csv"], 2, r"is the input"),
    (["fit", "--out", ".", "--overwrite"], 2, r"--out '.' is the current folder"),
    (
        ["fit", "--out", "project", "--overwrite"],
        2,
        r"--overwrite refused: 'project' was not written by crossscale",
    ),
    (["fit", "--out", "project"], 2, r"'project' already exists.*--overwrite"),
    (["fit", "--out", "afile.txt"], 2, r"'afile.txt' is a file, not a folder"),
    (["fit", "--out", "afile.txt/res"], 2, r"is not a writable folder"),
    (["benchmark", "--out", "project", "--overwrite"], 2, r"not written by crossscale"),
    (["benchmark", "--maps", "nope"], 2, r"--maps: unknown map 'nope'"),
    (["benchmark", "--n-perm", "-1"], 2, r"--n-perm must be >= 0"),
    (["spread", "simulate", "--out", "project", "--overwrite"], 2, r"not written by crossscale"),
    (["spread", "simulate", "--out", ".", "--overwrite"], 2, r"is the current folder"),
    (
        ["spread", "simulate", "--out", "x", "--timepoints", "0,a"],
        2,
        r"--timepoints must be comma-separated numbers .*'a' in '0,a' is not a number",
    ),
    (
        ["spread", "simulate", "--out", "x", "--subtypes", "L_entorhinal:a:0.5"],
        2,
        r"RHO and ALPHA must be numbers",
    ),
    (["spread", "simulate", "--out", "x", "--model", "sir"], 2, r"--model must be"),
    (["spread", "fit", "nope.csv", "--out", "x"], 2, r"'nope.csv' does not exist"),
    (["spread", "fit", "--out", "x"], 2, r"Give a maps CSV"),
    (
        ["spread", "fit", "cohort.csv", "--out", "x", "--n-subtypes", "two"],
        2,
        r"--n-subtypes must be an integer or 'auto'; got 'two'",
    ),
    (["spread", "fit", "cohort.csv", "--out", "."], 2, r"is the current folder"),
    (["spread", "fit", "cohort.csv", "--adni", "--out", "x"], 2, r"Both a maps file .* --adni"),
    (["spread", "fit-group", "map.csv", "--adni", "--out", "x"], 2, r"Both a maps file .* --adni"),
    (["spread", "fit-group", "--out", "x"], 2, r"Give a CSV of group maps"),
    (["spread", "fit-group", "map.csv", "--out", "x", "--graph", "hcp"], 2, r"--graph must be one"),
    (["spread", "fit-group", "map.csv", "--out", "x", "--models", "sir"], 2, r"--models\) must be"),
    (["spread", "fit-group", "map.csv", "--out", "x", "--n-length", "-1"], 2, r"--n-length\) must"),
    (["spread", "benchmark", "--out", "project", "--overwrite"], 2, r"not written by crossscale"),
    (["interpret", "project"], 2, r"'project' is not a `crossscale fit` output folder"),
    (["interpret", "fitrun"], 2, r"needs run.json and model/"),
    (["interpret", "fitrun2", "--n-perm", "0"], 2, r"--n-perm must be >= 1; got 0"),
    (["interpret", "fitrun2", "--holdout", "1"], 2, r"--holdout must be in \[0, 1\); got 1.0"),
    (["interpret", "fitrun2", "--gmt", "none.gmt"], 2, r"--gmt: the GMT gene-set file 'none.gmt'"),
    (["interpret", "fitrun2", "--gmt", "fitrun2/interpretation/x.gmt"], 2, r"does not exist"),
    (["interpret", "fitrun2"], 2, r"no readable config.json"),
    ([*VULN, "--out", "cov.csv", "--overwrite"], 2, r"the output 'cov.csv' is the input"),
    ([*VULN, "--out", "project/thesis.tex", "--overwrite"], 2, r"--overwrite refused: .*thesis"),
    ([*VULN, "--out", "afile.txt"], 2, r"Output file\(s\) already exist: afile.txt"),
    ([*VULN, "--out", "d.csv", "--alpha", "2"], 2, r"--alpha must be in \(0, 1\); got 2.0"),
    ([*VULN, "--out", "d.html"], 2, r"two outputs would be the same file 'd.html'"),
    ([*VULN, "--out", "d.csv", "--harmonize", "x"], 2, r"--harmonize must be"),
    (
        [
            "vulnerability",
            "no.csv",
            "-c",
            "cov.csv",
            "--case",
            "AD",
            "--control",
            "CN",
            "--out",
            "d.csv",
        ],
        2,
        r"TABLE: 'no.csv' does not exist",
    ),  # fmt: skip
    (["data", "info", "nope"], 2, r"No dataset named 'nope'"),
    (["-V"], 0, r"^crossscale \d+\.\d+"),
]


@pytest.mark.parametrize(("argv", "code", "match"), CASES)
def test_bad_input_one_message_nothing_written(
    workdir, monkeypatch, capsys, snapshot, argv, code, match
):
    monkeypatch.chdir(workdir)
    before = snapshot(workdir)
    t0 = time.perf_counter()
    assert main(argv) == code
    elapsed = time.perf_counter() - t0
    out = capsys.readouterr()
    text = out.err + out.out
    assert __import__("re").search(match, text), text
    assert "Traceback" not in text
    if code == 2 and argv and argv[0] != "-V":
        assert len(text.strip().splitlines()) <= 6 or argv == []  # one message (+ usage line)
    assert snapshot(workdir) == before  # nothing written, nothing deleted
    assert elapsed < 5, f"validation took {elapsed:.1f} s"


def test_a_bug_is_one_line_exit_1_and_debug_shows_the_traceback(monkeypatch, capsys):
    import crossscale.datasets

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(crossscale.datasets, "registry", broken)
    assert main(["data", "list"]) == 1
    err = capsys.readouterr().err
    assert "Internal error (RuntimeError: boom). This is a bug" in err and "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "data", "list"])
    with pytest.raises(RuntimeError, match="boom"):
        main(["-vv", "data", "list"])


def test_usage_error_with_debug_raises():
    from click.exceptions import UsageError as ClickUsageError

    try:
        from typer._click.exceptions import UsageError as TyperUsageError
    except ImportError:  # pragma: no cover
        TyperUsageError = ClickUsageError
    with pytest.raises((ClickUsageError, TyperUsageError)):
        main(["--debug", "fitt"])


def test_ctrl_c_before_the_write_exits_130(workdir, monkeypatch, capsys, snapshot):
    import crossscale.transcriptomics

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.chdir(workdir)
    monkeypatch.setattr(crossscale.transcriptomics, "load_expression", lambda *a, **k: interrupted())
    before = snapshot(workdir)
    assert main(["fit", "--map", "map.csv", "--out", "res"]) == 130
    assert "Interrupted; nothing was written" in capsys.readouterr().err
    assert snapshot(workdir) == before


@pytest.mark.slow
def test_sigint_during_a_fit_exits_130_and_leaves_nothing(workdir, tmp_path):
    """A real Ctrl-C (SIGINT) in the middle of the training loop of a real fit."""
    import shutil
    import signal
    import subprocess
    import sys

    shutil.copy(workdir / "map.csv", tmp_path / "map.csv")
    # A terminal delivers Ctrl-C to a process that honours SIGINT. A job started in the background
    # of a non-interactive shell (as `make test` may be) inherits SIGINT *ignored* (POSIX), and a
    # child that ignores it never stops: the child restores Python's handler first.
    code = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from crossscale.cli.main import run; run()")
    cmd = [sys.executable, "-c", code, "fit", "--map",
           "map.csv", "--out", "res", "--max-epochs", "100000", "--cv", "spatial",
           "--no-baselines", "--no-interpret"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"COLUMNS": "200", "PYTHONFAULTHANDLER": "1"},
    )  # fmt: skip
    for line in proc.stdout:  # wait until the fit has started
        if "Fitting GraphVAE" in line:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # once in a full `make test` under load: show where it hung
        proc.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack to stderr
        _, err = proc.communicate(timeout=60)
        pytest.fail(f"no exit within 60 s of SIGINT; the child's stacks:\n{err[-6000:]}")
    assert proc.returncode == 130, err
    assert "Interrupted; nothing was written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.csv"]


def test_an_os_error_is_one_line_not_a_bug(monkeypatch, capsys):
    import crossscale.datasets

    def denied():
        raise PermissionError(13, "Permission denied", "/data/cache")

    monkeypatch.setattr(crossscale.datasets, "registry", denied)
    assert main(["data", "list"]) == 2
    err = capsys.readouterr().err
    assert "Error: Permission denied ('/data/cache')" in err and "bug" not in err


def test_usage_errors_are_exit_2_without_click_installed(monkeypatch, capsys):
    # typer >= 0.16 brings its own copy of click and no longer installs click: a plain
    # `pip install crossscale` crashed at start-up on `import click` (found by the wheel test).
    import sys

    monkeypatch.setitem(sys.modules, "click", None)  # `import click` raises ImportError
    assert main(["--version"]) == 0
    assert "crossscale" in capsys.readouterr().out
    assert main(["fitt"]) == 2
    assert "No such command" in capsys.readouterr().err
