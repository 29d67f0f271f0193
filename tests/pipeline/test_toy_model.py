"""A newcomer's model: one estimator class + one registration, through fit_map, nulls and the report.

The toy estimator has only the scikit-learn API (``fit(X, y)``, ``predict(X)`` returning an
array): no graph, no ``fit_predict_folds``, no tags. Nothing in evaluate/, report/ or cli/ knows it.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from crossscale import ParameterError
from crossscale.evaluate import null_distribution
from crossscale.evaluate.cv import distance_blocked, out_of_fold
from crossscale.models import registry
from crossscale.pipeline import fit_map


class ToyRidge(BaseEstimator):
    """Ridge regression of the map on the first `n_genes` standardised genes."""

    def __init__(self, alpha: float = 10.0, n_genes: int = 40):
        self.alpha = alpha
        self.n_genes = n_genes

    def fit(self, X, y):
        from sklearn.linear_model import Ridge

        Xv = X.iloc[:, : self.n_genes].to_numpy(dtype=float)
        self.mean_, self.sd_ = Xv.mean(0), Xv.std(0) + 1e-12
        self.ridge_ = Ridge(alpha=self.alpha).fit((Xv - self.mean_) / self.sd_, np.asarray(y, float))
        return self

    def predict(self, X):
        Xv = X.iloc[:, : self.n_genes].to_numpy(dtype=float)
        return self.ridge_.predict((Xv - self.mean_) / self.sd_)


@pytest.fixture
def toy():
    registry.register("toy-ridge", ToyRidge, label="ToyRidge", presets={"strong": {"alpha": 1e4}})
    yield registry.get("toy-ridge")
    registry.unregister("toy-ridge")


def _hand_fit(X, y, alpha=10.0, n_genes=40):
    return ToyRidge(alpha, n_genes).fit(X, y).predict(X)


@pytest.mark.slow
def test_toy_model_through_fit_map_nulls_and_report(toy, landmark_expression, ad_map, tmp_path):
    X = landmark_expression
    y = ad_map.loc[X.index]
    res = fit_map(
        y, expression=X, model="toy-ridge", cv=("spatial",), baselines=False, nulls="spin",
        n_perm=4, null_cv="4", batch_size=2, interpret=True, seed=3,
    )  # fmt: skip
    assert res.model_label == "ToyRidge" and isinstance(res.model, ToyRidge)
    # in-sample metric equals a hand fit
    p = _hand_fit(X, y)
    r = np.corrcoef(p, y.to_numpy())[0, 1]
    assert res.metrics.loc["ToyRidge", "in_sample_r"] == pytest.approx(r, rel=1e-10)
    # spatial CV: each fold a fit on the training regions only
    masks = distance_blocked(res.graph, 0.25)
    P = np.array([ToyRidge().fit(X[~m], y[~m]).predict(X) for m in masks])
    oof = out_of_fold(P, masks)
    np.testing.assert_allclose(res.evaluation.predictions["ToyRidge|spatial"], oof, rtol=1e-10)
    # the null refits are the same as calling null_distribution directly
    direct = null_distribution(ToyRidge(), X, y, res.graph, "spin", cv=4, n_perm=4,
                               random_state=3, batch_size=2)  # fmt: skip
    got = res.nulls["ToyRidge"]
    assert got.method == "hungarian" and got.cv == "kfold4" and got.n_perm == 4
    for key in ("in_sample_r", "cv_r"):
        np.testing.assert_allclose(got.null[key], direct.null[key], rtol=1e-12)
        assert got.p_values[key] == direct.p_values[key]
    assert res.interpretation is None and res.latent is None  # not interpretable, no transform
    # outputs and report
    out = res.save(tmp_path / "run")
    files = {p.name for p in out.iterdir()}
    assert {"predictions.csv", "metrics.json", "run.json", "report.html", "input_map.csv"} <= files
    assert "model" not in files and "latent_programs.csv" not in files
    run = json.loads((out / "run.json").read_text())
    assert run["model"] == "toy-ridge" and run["model_params"] == {"alpha": 10.0, "n_genes": 40}
    assert run["parameters"]["nulls"] == "spin" and run["file_sha256"]["report.html"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["nulls"]) == {"ToyRidge"}
    html = (out / "report.html").read_text()
    assert "Spatial null refits" in html and "ToyRidge" in html and "alpha = 10.0" in html
    assert "graph-regularised VAE" not in html  # the methods text describes this model


def test_presets_and_parameters_of_a_registered_model(toy, landmark_expression, ad_map):
    assert toy.create("strong").alpha == 1e4 and toy.create("strong", alpha=2.0).alpha == 2.0
    with pytest.raises(ParameterError, match="presets 'default', 'strong'; got preset='nope'"):
        toy.create("nope")
    with pytest.raises(ParameterError, match=r"no parameter\(s\) 'beta'; valid parameters \(--param KEY=VALUE\): alpha, n_genes\."):
        toy.create(beta=1.0)
    with pytest.raises(ParameterError, match="already registered"):
        registry.register("TOY-ridge", ToyRidge)
    with pytest.raises(ParameterError, match="Unknown model 'nope'; registered models: graphvae"):
        fit_map(ad_map, expression=landmark_expression, model="nope")


def test_unknown_null_method_lists_vertex(landmark_expression, ad_map, toy):
    with pytest.raises(ParameterError, match="'vertex'"):
        fit_map(ad_map, expression=landmark_expression, model="toy-ridge", nulls="shuffle")


def test_series_without_registry_model_instance(landmark_expression, ad_map):
    """An estimator instance works too (label: its class name)."""
    y = ad_map.iloc[:30]
    res = fit_map(y, expression=landmark_expression, model=ToyRidge(n_genes=5), cv=("loro",),
                  baselines=False, interpret=False)  # fmt: skip
    assert list(res.metrics.index) == ["ToyRidge"] and res.summary["n_regions"] == 30
    assert len(res.summary["missing_regions"]) == 38 and res.summary["input_warnings"]
    assert isinstance(res.evaluation.predictions, pd.DataFrame)


def test_pipeline_and_registry_import_no_torch():
    import subprocess
    import sys

    code = ("import sys, crossscale.pipeline, crossscale.models.registry as r; r.get('graphvae'); "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_toy_model_through_the_command_line(toy, tmp_path):
    """One class + one registration: crossscale fit, benchmark and interpret with no other edit."""
    from typer.testing import CliRunner

    from crossscale.cli.main import app

    runner = CliRunner()
    fit_dir = tmp_path / "fit"
    res = runner.invoke(app, [
        "fit", "--model", "toy-ridge", "--param", "alpha=2.5", "--param", "n_genes=30",
        "--cv", "loro", "--no-baselines", "--nulls", "spin", "--n-perm", "3", "--null-cv", "3",
        "--out", str(fit_dir),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    run = json.loads((fit_dir / "run.json").read_text())
    assert run["model"] == "toy-ridge" and run["model_params"] == {"alpha": 2.5, "n_genes": 30}
    assert "not tagged interpretable" in run["parameters"]["interpret_skipped"]
    assert set(json.loads((fit_dir / "metrics.json").read_text())["nulls"]) == {"ToyRidge"}
    html = (fit_dir / "report.html").read_text()
    assert "The model was ToyRidge" in html and "alpha = 2.5" in html
    bad = runner.invoke(app, ["fit", "--model", "toy-ridge", "--param", "beta=1", "--out",
                              str(tmp_path / "x")])  # fmt: skip
    assert isinstance(bad.exception, ParameterError)  # main() prints it and exits 2
    assert "valid parameters (--param KEY=VALUE): alpha, n_genes" in str(bad.exception)
    bench = tmp_path / "bench"
    res = runner.invoke(app, [
        "benchmark", "--model", "toy-ridge", "--preset", "strong", "--maps", "ad", "--n-perm", "2",
        "--null-cv", "3", "--null-models", "ToyRidge", "--out", str(bench),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(bench / "benchmark.csv")
    assert "ToyRidge" in set(table["model"]) and "GraphVAE" not in set(table["model"])
    assert np.isfinite(table.set_index("model").loc["ToyRidge", "p_spin"])
    res = runner.invoke(app, ["interpret", str(fit_dir)])
    assert res.exit_code != 0
    assert "fit of model 'toy-ridge', which is not tagged interpretable" in str(res.exception)
