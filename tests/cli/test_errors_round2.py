"""Second round of bad input (issue 24): every command, numeric bounds, other writers, pipes.

Like ``test_errors.py``: each case runs the real entry point in a folder of real files and
compares every byte of that folder (hidden files included: no lock file, no temporary folder)
before and after. Validation comes before any data loading or fitting.
"""

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossscale.atlas import DK_REGIONS
from crossscale.cli.main import main

DESTRIEUX = ["G_and_S_frontomargin", "G_and_S_occipital_inf", "G_and_S_paracentral",
             "G_and_S_subcentral", "G_cingul-Post-dorsal", "G_front_middle", "S_calcarine",
             "S_central", "Pole_occipital", "Lat_Fis-ant-Horizont", "G_insular_short",
             "S_front_sup"]  # fmt: skip


def _subjects(d: Path, n: int = 12) -> None:
    """A FreeSurfer-style thickness table and covariates of n subjects (half AD, half CN)."""
    rng = np.random.default_rng(0)
    cols = [f"{r}_thickavg" for r in DK_REGIONS]
    table = pd.DataFrame(2.5 + 0.1 * rng.standard_normal((n, 68)), columns=cols)
    table.insert(0, "SubjID", [f"s{i}" for i in range(n)])
    table.to_csv(d / "vt.csv", index=False)
    dx = ["AD" if i % 2 else "CN" for i in range(n)]
    cov = pd.DataFrame({"SubjID": table.SubjID, "Dx": dx, "Age": [f"{60 + i} years" for i in range(n)],
                        "Sex": [(i // 2) % 2 for i in range(n)]})  # fmt: skip
    cov.to_csv(d / "vcov_text_age.csv", index=False)
    cov.assign(Age=[60 + i for i in range(n)]).to_csv(d / "vcov.csv", index=False)
    table.iloc[3, 1:] *= 1000  # subject s3 in micrometres
    table.to_csv(d / "vt_x1000.csv", index=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A project folder: inputs, other tools' folders, crossscale outputs, a named pipe."""
    d = tmp_path_factory.mktemp("project2")
    good = np.linspace(-1, 1, 68)
    pd.DataFrame({"region": DK_REGIONS, "d": good}).to_csv(d / "map.csv", index=False)
    # a map without its header line: the first region would become the header
    (d / "noheader.csv").write_text("".join(f"{r},{v}\n" for r, v in zip(DK_REGIONS, good, strict=True)))
    (d / "dup_d.csv").write_text("region,d,d\n" + "".join(f"{r},{v},{-v}\n" for r, v in zip(DK_REGIONS, good, strict=True)))
    pd.DataFrame({"region": DK_REGIONS, "t": good * 3, "p": np.full(68, 0.01), "d": good,
                  "n": np.full(68, 40)}).to_csv(d / "tpdn.csv", index=False)  # fmt: skip
    pd.DataFrame({"region": [f"7Networks_LH_Vis_{i}" for i in range(1, 51)],
                  "d": np.linspace(-1, 1, 50)}).to_csv(d / "schaefer.csv", index=False)  # fmt: skip
    pd.DataFrame({"region": [f"{h}_{n}" for h in ("lh", "rh") for n in DESTRIEUX],
                  "d": np.linspace(-1, 1, 24)}).to_csv(d / "destrieux.csv", index=False)  # fmt: skip
    (d / "cohort.csv").write_text("subject,time," + ",".join(DK_REGIONS) + "\n")
    (d / "table.csv").write_text("SubjID,L_bankssts_thickavg\ns1,2.5\n")
    (d / "cov.csv").write_text("SubjID,Dx,Age,Sex\ns1,AD,70,1\n")
    _subjects(d)
    (d / "afile.txt").write_text("a file\n")
    os.mkfifo(d / "pipe.csv")
    (d / "project").mkdir()
    (d / "project" / "thesis.tex").write_text("\\chapter{Results}\n")
    (d / "other").mkdir()  # another tool's output folder, with its own run.json
    (d / "other" / "run.json").write_text(json.dumps({"tool": "fmriprep", "version": "23.1"}))
    (d / "other" / "result.nii").write_bytes(b"\x5c\x01\x00\x00")
    (d / "fitrun2" / "model").mkdir(parents=True)
    (d / "fitrun2" / "run.json").write_text(json.dumps({"command": "crossscale fit"}))
    (d / "vmodel" / "model").mkdir(parents=True)  # a `volume train` folder (checked before loading)
    (d / "vmodel" / "run.json").write_text(json.dumps({
        "written_by": "crossscale", "command": "crossscale volume train",
        "parameters": {"bin_px": 16, "downsample": 8}, "files": []}))  # fmt: skip
    return d


VULN = ["vulnerability", "table.csv", "-c", "cov.csv", "--case", "AD", "--control", "CN"]
BIG = str(2**70)
SEED = r"--seed must be an integer seed from 0 to 4294967295 \(2\*\*32 - 1\)"
GEN = ["volume", "generate", "--model", "vmodel"]
EVAL = ["volume", "evaluate", "--model", "vmodel"]

# (argv, exit code, message regex)
CASES = [
    # -- numeric options: bounds before any work, on every command ----------------------------
    (["fit", "--seed", "-1"], 2, SEED + r"; got -1"),
    (["fit", "--seed", str(2**32)], 2, SEED + r"; got 4294967296"),
    (["fit", "--max-epochs", BIG], 2, r"--max-epochs must be an integer from 1 to 1000000"),
    (["fit", "--n-perm", BIG, "--nulls", "spin"], 2, r"--n-perm must be an integer from 1 to"),
    (["benchmark", "--seed", "-1"], 2, SEED),
    (["benchmark", "--n-perm", BIG], 2, r"--n-perm must be an integer from 0 to 1000000"),
    (["benchmark", "--max-epochs", BIG], 2, r"--max-epochs must be an integer from 1 to"),
    (["interpret", "fitrun2", "--seed", "-1"], 2, SEED),
    (["interpret", "fitrun2", "--n-perm", BIG], 2, r"--n-perm must be an integer from 1 to"),
    (["interpret", "fitrun2", "--n-clusters", "5000"], 2, r"--n-clusters must be an integer from 2 to 1000"),
    (["spread", "simulate", "--out", "x", "--seed", "-1"], 2, SEED),
    (["spread", "simulate", "--out", "x", "--n-subjects", BIG], 2, r"--n-subjects must be an integer from 1 to"),
    (["spread", "fit", "cohort.csv", "--out", "x", "--epochs", BIG], 2, r"--epochs must be an integer from 1 to 1000000"),
    (["spread", "fit", "cohort.csv", "--out", "x", "--seed", str(2**32)], 2, SEED),
    (["spread", "fit", "cohort.csv", "--out", "x", "--n-subtypes", "auto", "--max-subtypes", "0"], 2, r"--max-subtypes must be an integer from 1 to 100"),
    (["spread", "fit-group", "map.csv", "--out", "x", "--seed", "-5"], 2, SEED),
    (["spread", "benchmark", "--out", "x", "--seed", "-1"], 2, SEED),
    (["spread", "benchmark", "--out", "x", "--epochs", BIG], 2, r"--epochs must be an integer from 1 to"),
    ([*VULN, "--out", "d.csv", "--seed", "-1"], 2, SEED),
    ([*VULN, "--out", "d.csv", "--bootstrap", BIG], 2, r"--bootstrap must be an integer from 0 to"),
    (["volume", "train", "--out", "t", "--seed", "-1"], 2, SEED),
    (["volume", "train", "--out", "t", "--threads", "0"], 2, r"--threads must be an integer from 1 to 4096; got 0"),
    (["volume", "train", "--out", "t", "--bin-px", "0"], 2, r"--bin-px must be an integer from 1 to 4096; got 0"),
    (["volume", "train", "--out", "t", "--downsample", "3"], 2, r"--downsample must be '1', '2', '4', '8' or '16'; got '3'"),
    (["volume", "train", "--out", "t", "--max-iter", BIG], 2, r"--max-iter must be an integer from 1 to 1000000"),
    (["volume", "train", "--out", "t", "--steps", "0"], 2, r"--steps must be an integer from 1 to 1000; got 0"),
    (["volume", "train", "--out", "t", "--holdout", "1.5"], 2, r"--holdout must be in \(0, 1\); got 1.5"),
    (["volume", "train", "--out", "t", "--preset", "huge"], 2, r"--preset must be 'smoke' or 'default'"),
    ([*GEN, "--out", "g", "--steps", "0"], 2, r"--steps must be an integer from 1 to 1000; got 0"),
    ([*GEN, "--out", "g", "--batch-size", "0"], 2, r"--batch-size must be an integer from 1 to"),
    ([*GEN, "--out", "g", "--seed", str(2**32)], 2, SEED),
    ([*GEN, "--out", "g", "--scheme", "collage"], 2, r"--scheme must be 'boundary', 'independent' or 'overlap'"),
    ([*GEN, "--out", "g", "--size", "0x10"], 2, r"--size must be positive"),
    ([*EVAL, "--out", "e", "--max-rows", "0"], 2, r"--max-rows must be an integer from 1 to"),
    ([*EVAL, "--out", "e", "--threads", "-2"], 2, r"--threads must be an integer from 1"),
    # -- output folders: other tools' folders, models, inputs ---------------------------------
    (["volume", "train", "--out", "other"], 2, r"The output folder 'other' already exists"),
    (["volume", "train", "--out", "project", "--overwrite"], 2, r"--overwrite refused: 'project' was not written by crossscale"),
    ([*GEN, "--out", "other"], 2, r"The output folder 'other' already exists"),
    ([*GEN, "--out", "other", "--overwrite"], 2, r"--overwrite refused: 'other' was not written by crossscale"),
    ([*GEN, "--out", "vmodel"], 2, r"--out 'vmodel' is the input 'vmodel'"),
    ([*GEN, "--out", "vmodel/gen"], 2, r"--out 'vmodel/gen' is inside the model folder 'vmodel'"),
    ([*GEN, "--out", "."], 2, r"--out '.' is the current folder"),
    (["volume", "generate", "--model", "nope", "--out", "g"], 2, r"--model 'nope' does not exist"),
    (["volume", "generate", "--model", "project", "--out", "g"], 2, r"'project' is not a 'crossscale volume train' output folder"),
    ([*EVAL, "--out", "vmodel"], 2, r"--out 'vmodel' is the input 'vmodel'"),
    ([*EVAL, "--out", "other", "--overwrite"], 2, r"--overwrite refused: 'other' was not written by crossscale"),
    (["fit", "--out", "other"], 2, r"The output folder 'other' already exists"),
    (["fit", "--out", "other", "--overwrite"], 2, r"--overwrite refused: 'other' was not written by crossscale"),
    (["benchmark", "--out", "other", "--overwrite"], 2, r"--overwrite refused: 'other' was not written"),
    (["spread", "simulate", "--out", "other"], 2, r"The output folder 'other' already exists"),
    (["spread", "fit", "cohort.csv", "--out", "cohort.csv"], 2, r"--out 'cohort.csv' is the input 'cohort.csv'"),
    (["spread", "fit-group", "map.csv", "--out", "other", "--overwrite"], 2, r"--overwrite refused: 'other'"),
    (["spread", "fit", "cohort.csv", "--out", "x", "--truth", "nope.csv"], 2, r"--truth: the truth file 'nope.csv' does not exist"),
    # -- --html is blamed for --html ----------------------------------------------------------
    ([*VULN, "--out", "d.csv", "--html", "afile.txt"], 2, r"Output file\(s\) already exist: afile.txt\. Choose another --html"),
    ([*VULN, "--out", "d.csv", "--html", "table.csv", "--overwrite"], 2, r"--html: the output 'table.csv' is the input 'table.csv'"),
    ([*VULN, "--out", "d.csv", "--html", "d.csv"], 2, r"--html 'd.csv' is the same file as --out"),
    ([*VULN, "--out", "d.csv", "--html", "project"], 2, r"--html: the output 'project' is a folder"),
    # -- pipes and devices are refused before reading (a FIFO would hang for ever) ------------
    (["fit", "--map", "pipe.csv"], 2, r"--map: the map file 'pipe.csv' is a named pipe \(FIFO\), not a regular file"),
    (["fit", "--map", "/dev/null"], 2, r"'/dev/null' is a character device, not a regular file"),
    (["fit", "--expression", "pipe.csv"], 2, r"--expression: the expression file 'pipe.csv' is a named pipe"),
    (["spread", "fit", "pipe.csv", "--out", "x"], 2, r"MAPS: the maps CSV 'pipe.csv' is a named pipe"),
    (["spread", "fit-group", "pipe.csv", "--out", "x"], 2, r"MAPS: the maps CSV 'pipe.csv' is a named pipe"),
    (["vulnerability", "pipe.csv", "-c", "cov.csv", "--case", "AD", "--control", "CN", "--out", "d.csv"], 2, r"TABLE: the table 'pipe.csv' is a named pipe"),
    (["vulnerability", "table.csv", "-c", "pipe.csv", "--case", "AD", "--control", "CN", "--out", "d.csv"], 2, r"--covariates: the covariates file 'pipe.csv' is a named pipe"),
    (["interpret", "fitrun2", "--gmt", "pipe.csv"], 2, r"--gmt: the GMT gene-set file 'pipe.csv' is a named pipe"),
    # -- tables that look valid but are not ---------------------------------------------------
    (["fit", "--map", "noheader.csv"], 2, r"'noheader.csv' has no header line: its first line \('L_bankssts,-1.0'\) is data"),
    (["fit", "--map", "dup_d.csv"], 2, r"names the column\(s\) 'd' twice in its header"),
    (["fit", "--map", "tpdn.csv"], 2, r"'tpdn.csv' has 2 columns that could hold the map \('d', 't'\); crossscale will not guess which. Name it with --value-column"),
    (["fit", "--map", "schaefer.csv"], 2, r"The column 'region' of 'schaefer.csv' holds region names, but they look like Schaefer names \(e.g. '7Networks_LH_Vis_1'\), not Desikan-Killiany ones. Pass their atlas: --atlas schaefer100, schaefer200, schaefer300 or schaefer400"),
    (["fit", "--map", "destrieux.csv"], 2, r"they look like Destrieux \(FreeSurfer aparc.a2009s\) names .*crossscale has no Destrieux atlas"),
    (["fit", "--map", "map.csv", "--region-column", "d"], 2, r"--region-column d: the column 'd' of 'map.csv' holds numbers, not region names"),
    (["fit", "--map", "map.csv", "--value-column", "region"], 2, r"--value-column and --region-column both name 'region'"),
    (["vulnerability", "vt.csv", "-c", "vcov_text_age.csv", "--case", "AD", "--control", "CN", "--out", "d.csv"], 2, r"The covariates column 'Age' holds text \('60 years', '61 years', '62 years' …: 12 different values in 12 subjects\).*It is a number by nature"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "code", "match"), CASES, ids=[" ".join(c[0])[:70] for c in CASES])
def test_bad_input_round2(workdir, monkeypatch, capsys, snapshot, argv, code, match):
    monkeypatch.chdir(workdir)
    before = snapshot(workdir)
    t0 = time.perf_counter()
    assert main(argv) == code
    elapsed = time.perf_counter() - t0
    out = capsys.readouterr()
    text = out.err + out.out
    assert re.search(match, " ".join(text.split())), text
    assert "Traceback" not in text and "Internal error" not in text
    assert len(text.strip().splitlines()) <= 8  # one message
    assert snapshot(workdir) == before  # nothing written, deleted, or left behind (lock, tmp)
    assert elapsed < 5, f"validation took {elapsed:.1f} s"


def test_the_python_api_has_the_same_bounds(tmp_path):
    """The checks of the command line are those of the library."""
    from crossscale import ParameterError
    from crossscale._validate import check_int, check_seed, check_threads

    for bad in (-1, 2**32, 1.5, True, "3"):
        with pytest.raises(ParameterError, match="random_state must be an integer seed"):
            check_seed("random_state", bad)
    check_seed("random_state", 0)
    check_seed("random_state", 2**32 - 1)
    with pytest.raises(ParameterError, match="max_epochs must be an integer from 1 to 10"):
        check_int("max_epochs", 11, 1, 10)
    with pytest.raises(ParameterError, match="threads"):
        check_threads("threads", 0)
    check_threads("threads", None)
    from crossscale._threads import set_torch_threads
    from crossscale.spatial import load_vizgen_mini

    with pytest.raises(ParameterError, match="threads must be an integer from 1"):
        set_torch_threads(0)
    with pytest.raises(ParameterError, match="bin_px must be an integer from 1 to 4096; got 0"):
        load_vizgen_mini(bin_px=0)  # before any data is read


def test_value_column_is_named_in_the_terminal_and_run_json(workdir, tmp_path, monkeypatch):
    """The column a map's values came from is recorded (run.json said value_column: null)."""
    from crossscale.atlas import get_atlas
    from crossscale.pipeline.fit import _load_map

    y, meta, _, _ = _load_map(str(workdir / "map.csv"), "AD", "baseline", None, None,
                              get_atlas("dk"))  # fmt: skip
    assert y.attrs["value_column"] == "d" and y.attrs["region_column"] == "region"
    assert meta["map_columns"] == "regions from column 'region', values from column 'd'"
    from crossscale.pipeline._common import copy_input_map

    entry = copy_input_map(tmp_path, workdir / "map.csv", y, y.attrs["region_column"],
                           y.attrs["value_column"])  # fmt: skip
    assert entry["value_column"] == "d" and entry["region_column"] == "region"


def test_spread_fit_does_not_pick_up_a_truth_file_it_was_not_given(tmp_path):
    """A truth.csv beside the maps is only mentioned, never read, unless --truth names it."""
    from typer.testing import CliRunner

    from crossscale.cli.main import app

    runner = CliRunner()
    sim = tmp_path / "sim"
    res = runner.invoke(app, ["spread", "simulate", "--out", str(sim), "--n-subjects", "6",
                              "--timepoints", "0,2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    # a truth.csv that does not match: reading it would fail the run
    pd.DataFrame({"subject": ["x"], "rho": [0.1]}).to_csv(sim / "truth.csv", index=False)
    out = tmp_path / "fit"
    res = runner.invoke(app, ["spread", "fit", str(sim / "maps.csv"), "--out", str(out),
                              "--epochs", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "was not used" in res.output and "--truth" in res.output
    assert json.loads((out / "run.json").read_text())["parameters"]["truth"] is None
    assert "Simulated against true" not in (out / "report.html").read_text()


@pytest.mark.parametrize("table", ["vt.csv", "vt_x1000.csv"])
def test_vulnerability_warns_about_and_lists_an_outlying_subject(workdir, tmp_path, monkeypatch,
                                                                  capsys, table):  # fmt: skip
    """One subject's values x 1000 shifted every d to about 0.4 with exit 0 and no word."""
    import shutil

    for f in (table, "vcov.csv"):
        shutil.copy(workdir / f, tmp_path / f)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["vulnerability", table, "-c", "vcov.csv", "--case", "AD", "--control", "CN",
                 "--out", "d.csv"]) == 0  # fmt: skip
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    run = json.loads((tmp_path / "d.run.json").read_text())
    if table == "vt.csv":  # the same cohort without the error: no warning
        assert "far from the others" not in text and "outlier_subjects" not in run["model"]
        return
    assert "1 subject(s) lie far from the others in most regions" in text and "'s3' (z = " in text
    assert list(run["model"]["outlier_subjects"]) == ["s3"]
    assert run["model"]["outlier_subjects"]["s3"] > 1000
    assert "Outlying subjects" in (tmp_path / "d.html").read_text()


def test_estimators_refuse_the_same_seeds_and_epochs():
    """GraphVAE and SpreadMixtureVAE check seeds and epochs as the command line does."""
    from crossscale import ParameterError
    from crossscale.models.graphvae import GraphVAE
    from crossscale.models.spread import SpreadMixtureVAE
    from crossscale.models.spread._common import validate_params

    for bad in (-1, 2**32):
        with pytest.raises(ParameterError, match="'random_state' must be None or an integer seed"):
            GraphVAE(random_state=bad).check_params()
        with pytest.raises(ParameterError, match="random_state must be (a non-negative int|an integer seed from 0)"):
            validate_params(SpreadMixtureVAE(2, random_state=bad))
    with pytest.raises(ParameterError, match="'max_epochs' must be an integer from 1 to 1000000"):
        GraphVAE(max_epochs=2**70).check_params()
    GraphVAE(random_state=2**32 - 1).check_params()
