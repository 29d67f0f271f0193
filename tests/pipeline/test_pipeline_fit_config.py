"""FitConfig / BenchmarkConfig: the options of fit and benchmark, checked before any work."""

import pytest

from crossscale import InputDataError, ParameterError
from crossscale.pipeline import BenchmarkConfig, FitConfig
from crossscale.pipeline.fit_config import check_output


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"nulls": "perm"}, ParameterError, "--nulls"),
        ({"cv": "kfold"}, ParameterError, "--cv"),
        ({"n_perm": 0}, ParameterError, "--n-perm"),
        ({"ensemble": 0}, ParameterError, "--ensemble"),
        ({"seed": -1}, ParameterError, "--seed"),
        ({"params": ("n_latent",)}, ParameterError, "n_latent"),
        ({"gene_panel": "all"}, ParameterError, "--gene-panel"),
        ({"map": "no_such_map.csv"}, InputDataError, "--map"),
    ],
)
def test_fit_config_names_the_bad_option(options, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        FitConfig(**options).check()


def test_fit_config_check_gives_fit_maps_arguments(tmp_path):
    kwargs = FitConfig(map="BigBrain", cv="spatial", params=("n_latent=3",), max_epochs=7).check()
    assert kwargs["map"] == "bigbrain" and kwargs["cv"] == ("spatial",)
    assert kwargs["params"]["n_latent"] == 3 and kwargs["params"]["max_epochs"] == 7
    assert kwargs["params"]["random_state"] == 0
    # --param wins over its alias option
    assert FitConfig(params=("max_epochs=3",), max_epochs=7).check()["params"]["max_epochs"] == 3


def test_fit_output_may_not_hold_the_map(tmp_path):
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "map.csv").write_text("region,value\n")
    with pytest.raises(ParameterError):
        check_output(FitConfig(map=tmp_path / "study" / "map.csv"), tmp_path / "study",
                     overwrite=True)  # fmt: skip
    assert (tmp_path / "study" / "map.csv").exists()


def test_benchmark_config_names_the_bad_option():
    with pytest.raises(ParameterError, match="--null-cv must name a CV scheme"):
        BenchmarkConfig(n_perm=5, null_cv="none").check()
    with pytest.raises(ParameterError, match="--n-perm"):
        BenchmarkConfig(n_perm=-1).check()
    kwargs = BenchmarkConfig(maps="ad,lmci", n_perm=0, max_epochs=2).check()
    assert len(kwargs["maps"]) == 2 and kwargs["params"]["max_epochs"] == 2
