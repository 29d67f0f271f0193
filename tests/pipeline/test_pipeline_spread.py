"""The spread workflows as Python: Config -> run -> Result.save, checks before any work."""

import json

import pandas as pd
import pytest

from crossscale import InputDataError, ParameterError
from crossscale.pipeline.spread import (
    CohortFitConfig,
    SimulateConfig,
    SpreadBenchmarkConfig,
    check_output,
    parse_subtypes,
    run,
)


def test_simulate_config_parses_and_checks_with_the_command_lines_messages():
    c = SimulateConfig(subtypes="L_entorhinal:0.1:0.5", timepoints="0,2")
    assert c.subtype_list() == [("L_entorhinal", 0.1, 0.5)] and c.times() == [0.0, 2.0]
    # tuples are the Python form of the same options
    t = SimulateConfig(subtypes=(("L_entorhinal", 0.1, 0.5),), timepoints=(0, 2))
    assert t.subtype_list() == c.subtype_list() and t.times() == c.times()
    assert parse_subtypes("a:1:2,b:3:4") == (("a", 1.0, 2.0), ("b", 3.0, 4.0))
    for kw, match in [
        ({"n_subjects": 0}, "--n-subjects must be >= 1; got 0"),
        ({"seed": -1}, "--seed must be an integer seed"),
        ({"noise": -0.1}, "--noise must be >= 0"),
        ({"dynamics": "sir"}, "--model must be 'fisher_kpp' or 'diffusion'; got 'sir'"),
        ({"graph": "hcp"}, "--graph must be 'connectome' or 'surface'"),
        ({"timepoints": "0,a"}, "'a' in '0,a' is not a number"),
        ({"timepoints": "0,-2"}, "every value must be a finite number >= 0"),
        ({"subtypes": "L_entorhinal:0.1"}, "EPICENTRE:RHO:ALPHA"),
        ({"subtypes": "L_entorhinal:a:0.5"}, "RHO and ALPHA must be numbers"),
    ]:
        with pytest.raises(ParameterError, match=match):
            SimulateConfig(**kw).check()


def test_cohort_fit_config_parses_n_subtypes_once_and_checks_inputs(tmp_path):
    maps = tmp_path / "maps.csv"
    maps.write_text("subject,time\n")
    assert CohortFitConfig(maps=str(maps), n_subtypes="3").k() == 3
    assert CohortFitConfig(maps=str(maps), n_subtypes="auto").k() == "auto"
    for kw, err, match in [
        ({"n_subtypes": "two"}, ParameterError, "--n-subtypes must be an integer or 'auto'"),
        ({"n_subtypes": 0}, ParameterError, "--n-subtypes must be >= 1; got 0"),
        ({"epochs": 0}, ParameterError, "--epochs must be >= 1"),
        ({"max_subtypes": 0}, ParameterError, "--max-subtypes must be an integer from 1 to 100"),
        ({"dynamics": "sir"}, ParameterError, "--model must be"),
        ({"adni": True}, ParameterError, "Both a maps file .* --adni"),
        ({"truth": str(tmp_path / "no.csv")}, InputDataError, "--truth: the truth file"),
    ]:
        with pytest.raises(err, match=match):
            CohortFitConfig(maps=str(maps), **kw).check()
    with pytest.raises(ParameterError, match="Give a maps CSV"):
        CohortFitConfig().check()
    with pytest.raises(InputDataError, match="MAPS: the maps CSV .* does not exist"):
        CohortFitConfig(maps=str(tmp_path / "nope.csv")).check()
    g = CohortFitConfig(adni=True, n_rewired=7, n_length=5, seed=2).group_config()
    assert (g.adni, g.n_degree, g.n_length, g.seed) == (True, 7, 5, 2)
    assert CohortFitConfig(maps=str(maps)).group_config() is None


def test_outputs_may_not_hold_the_inputs(tmp_path):
    maps = tmp_path / "study" / "maps.csv"
    maps.parent.mkdir()
    maps.write_text("subject\n")
    with pytest.raises(ParameterError, match="contains the input"):
        check_output(CohortFitConfig(maps=str(maps)), maps.parent, overwrite=True)
    with pytest.raises(ParameterError, match="takes a spread workflow config"):
        run(object())


def test_benchmark_config_checks_and_plans():
    with pytest.raises(ParameterError, match="--epochs must be an integer from 1 to"):
        SpreadBenchmarkConfig(epochs=2**70).check()
    with pytest.raises(ParameterError, match="--seed must be"):
        SpreadBenchmarkConfig(seed=-1).check()
    quick = SpreadBenchmarkConfig(quick=True, epochs=40).plan()
    assert quick["selection"]["epochs"] == 30 and quick["recovery"]["epochs"] == 40
    assert SpreadBenchmarkConfig(epochs=9).plan() == {"recovery": {"epochs": 9},
                                                      "timing": {"epochs": 9}}  # fmt: skip


@pytest.mark.slow
def test_simulate_then_fit_a_cohort_and_save(tmp_path, monkeypatch):
    sim = run(SimulateConfig(n_subjects=6, timepoints="0,2", seed=3))
    again = run(SimulateConfig(n_subjects=6, timepoints=(0.0, 2.0), seed=3))
    pd.testing.assert_frame_equal(sim.cohort.maps, again.cohort.maps)  # same seed, same cohort
    assert sim.cohort.maps.shape == (12, 68)
    folder = sim.save(tmp_path / "sim")
    rec = json.loads((folder / "run.json").read_text())
    assert rec["written_by"] == "crossscale" and rec["seeds"] == {"random_state": 3}
    assert rec["command"] == ("crossscale.pipeline.spread.run(SimulateConfig(n_subjects=6, "
                              "timepoints='0,2', seed=3))")  # fmt: skip
    assert rec["parameters"]["dynamics"] == "fisher_kpp" and rec["parameters"]["timepoints"] == [0, 2]
    assert "enigma_hcp_struc_matrix_ctx" in rec["data_checksums"]
    assert sorted(rec["files"]) == ["maps.csv", "run.json", "truth.csv"]

    # a truth table that does not match the cohort is refused before anything is fitted
    from crossscale.models.spread import SpreadMixtureVAE

    bad = tmp_path / "bad_truth.csv"
    pd.DataFrame({"subject": ["x"], "rho": [0.1]}).to_csv(bad, index=False)

    def no_fit(*a, **k):
        raise AssertionError("fitted before the truth table was checked")

    with monkeypatch.context() as m:
        m.setattr(SpreadMixtureVAE, "fit", no_fit)
        with pytest.raises(ParameterError, match="must have a row per subject"):
            run(CohortFitConfig(maps=str(folder / "maps.csv"), truth=str(bad), epochs=2))

    notes = []
    res = run(CohortFitConfig(maps=str(folder / "maps.csv"), epochs=2, n_subtypes=2),
              echo=notes.append)  # fmt: skip
    assert res.n_subtypes == 2 and len(res.params) == 6 and res.proba.shape == (6, 2)
    assert res.selection is None and res.truth is None
    out = res.save(tmp_path / "fit", command="crossscale spread fit maps.csv --out fit")
    names = {p.name for p in out.iterdir()}
    assert {"model", "subjects.csv", "subtypes.csv", "epicentre_proba.csv", "history.csv",
            "run.json", "report.html"} == names  # fmt: skip
    rec = json.loads((out / "run.json").read_text())
    assert rec["command"] == "crossscale spread fit maps.csv --out fit"
    assert rec["n_subtypes_fitted"] == 2 and rec["parameters"]["truth"] is None
    assert rec["parameters"]["dynamics"] == "fisher_kpp" and "maps" in rec["data_checksums"]
    assert len(pd.read_csv(out / "subjects.csv")) == 6
    # saving again is refused without overwrite, and leaves the folder as it was
    before = (out / "run.json").read_bytes()
    with pytest.raises(ParameterError, match="already exists"):
        res.save(out)
    assert (out / "run.json").read_bytes() == before
