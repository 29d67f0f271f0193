"""Evaluate a model and the baselines in the same run.

In-sample, leave-one-region-out and distance-blocked spatial cross-validation, with wall times.

References
----------
.. [1] Hansen J.Y. et al. (2021). Mapping gene transcription and neurocognition across human
   neocortex. Nat Hum Behav 5, 1240-1250.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from crossscale._errors import ParameterError
from crossscale._progress import progress
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate.cv import distance_blocked, leave_one_region_out, out_of_fold
from crossscale.evaluate.estimators import (
    as_estimator,
    fit_model,
    fit_predict_folds,
    get_tag,
    in_sample_prediction,
    without_attrs,
)
from crossscale.evaluate.metrics import (
    METRIC_COLUMNS,
    foldwise_r,
    pearson_r,
    r2_score,
)

logger = logging.getLogger(__name__)

CV_SCHEMES = ("loro", "spatial")
PROTOCOLS = ("inductive", "transductive")


@dataclass(frozen=True)
class Evaluation:
    """Metrics and predictions of several models on one map.

    Attributes
    ----------
    metrics : pandas.DataFrame, shape (n_models, 10)
        Index ``model``; columns ``in_sample_r2``, ``in_sample_r``, ``loro_r2``, ``loro_r``,
        ``spatial_r2``, ``spatial_r`` (on each region's held-out prediction averaged over folds),
        ``spatial_fold_r_mean``/``_sd`` (Pearson r within each fold's held-out block),
        ``fit_time_s`` (one in-sample fit) and ``cv_time_s`` (all folds of both schemes).
    predictions : pandas.DataFrame, shape (n_regions, 1 + 3 n_models)
        ``observed`` and, per model, ``<model>|in_sample``, ``<model>|loro``, ``<model>|spatial``.
    fold_r : dict of str to numpy.ndarray
        Fold-wise spatial-CV r per model.
    models : dict of str to estimator
        The in-sample fits.
    protocol : str
        Cross-validation protocol ("inductive" or "transductive"), the same for every model.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    fold_r: dict[str, np.ndarray] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    protocol: str = "inductive"

    def __repr__(self) -> str:
        return (f"<Evaluation of {len(self.metrics)} models ({self.protocol} CV): "
                f"{', '.join(map(str, self.metrics.index))}>")  # fmt: skip

    def summary(self, width: int | None = None) -> str:
        """The metrics table as text with short labels, split to fit `width` (default: terminal).

        ``print(ev.summary())``; :attr:`metrics` holds the numbers.
        """
        from crossscale.evaluate.metrics import format_metrics

        return f"{self.protocol.capitalize()} cross-validation\n" + format_metrics(
            self.metrics, width
        )

    __str__ = summary

    def to_frame(self) -> pd.DataFrame:
        """The metrics table."""
        return self.metrics

    def to_dict(self) -> dict[str, Any]:
        """Metrics as nested dicts (model -> metric -> value)."""
        return {m: {k: float(v) for k, v in row.items()} for m, row in self.metrics.iterrows()}


def evaluate_models(
    X: pd.DataFrame,
    y: pd.Series,
    graph: RegionGraph,
    models: dict[str, Any],
    *,
    cv: tuple[str, ...] = CV_SCHEMES,
    spatial_fraction: float = 0.25,
    fitted: dict[str, Any] | None = None,
    protocol: str = "inductive",
) -> Evaluation:
    """Fit every model in-sample and cross-validate it with the same folds.

    Parameters
    ----------
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression, index ``region``, columns ``gene_symbol``.
    y : pandas.Series, shape (n_regions,)
        The regional map to predict, same regions as `X`.
    graph : RegionGraph
        Over the same regions; gives centroids for the spatial CV.
    models : dict of str to estimator
        scikit-learn style regressors: ``fit(X, y[, graph])`` and ``predict(X)`` (an object with
        only these two is wrapped in :class:`~crossscale.evaluate.estimators.PlainEstimator`,
        which clones it by deep copy), and optionally
        ``fit_predict_folds(X, y, graph, masks, protocol=...)`` (see
        :mod:`crossscale.evaluate.estimators`). An estimator tagged ``interpolation_only`` (the
        spatial baseline) gets NaN in-sample metrics.
    cv : tuple of {"loro", "spatial"}
        Cross-validation schemes to run.
    spatial_fraction : float
        Fraction of a hemisphere held out per spatial-CV fold.
    fitted : dict or None
        Models already fitted in-sample (their fit is not repeated; its time is reused).
    protocol : {"inductive", "transductive"}, default "inductive"
        Cross-validation protocol, the same for every model. Inductive: every preprocessing step
        (gene standardisation, principal axes, graph propagation) is learned from each fold's
        training regions. Transductive: the expression of all regions is known to every fold,
        the map values of held-out regions are not.

    Returns
    -------
    Evaluation
    """
    if protocol not in PROTOCOLS:
        raise ParameterError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
    unknown = [c for c in cv if c not in CV_SCHEMES]
    if unknown:
        raise ParameterError(f"cv must be a subset of {CV_SCHEMES}; got {unknown}.")
    models = {name: as_estimator(est) for name, est in models.items()}
    X, y = without_attrs(X), without_attrs(y)  # the fits never read them; pandas copies them
    regions = list(graph.regions)
    yv = y.loc[regions].to_numpy(dtype=float)
    masks = {}
    if "loro" in cv:
        masks["loro"] = leave_one_region_out(len(regions))
    if "spatial" in cv:
        masks["spatial"] = distance_blocked(graph, spatial_fraction)
    preds = pd.DataFrame({"observed": yv}, index=pd.Index(regions, name="region"))
    rows, fold_r, fits = {}, {}, {}
    fitted = fitted or {}
    what = f"{len(models)} model{'s' if len(models) > 1 else ''}"
    with progress(f"Evaluating {what}", total=len(models) * (1 + len(masks))) as bar:
        for name, est in models.items():
            bar.update(description=f"Evaluating {what}: {name}")
            row = dict.fromkeys(METRIC_COLUMNS, np.nan)
            interpolation_only = get_tag(est, "interpolation_only")
            if name in fitted:
                model = fitted[name]
                row["fit_time_s"] = getattr(model, "fit_time_s_", np.nan)
            else:
                t0 = time.perf_counter()
                model = fit_model(clone(est), X, y, graph)
                row["fit_time_s"] = time.perf_counter() - t0
            fits[name] = model
            if not interpolation_only:
                p = in_sample_prediction(model, X, regions)
                preds[f"{name}|in_sample"] = p
                row["in_sample_r2"], row["in_sample_r"] = (
                    r2_score(yv, p),
                    pearson_r(yv, p),
                )
            bar.advance()
            t0 = time.perf_counter()
            for scheme, m in masks.items():
                P = fit_predict_folds(clone(est), X, y, graph, m, protocol=protocol)
                oof = out_of_fold(P, m)
                preds[f"{name}|{scheme}"] = oof
                row[f"{scheme}_r2"], row[f"{scheme}_r"] = (
                    r2_score(yv, oof),
                    pearson_r(yv, oof),
                )
                if scheme == "spatial":
                    fr = foldwise_r(yv, P, m)
                    fold_r[name] = fr
                    defined = fr[np.isfinite(fr)]  # none where every fold predicts a constant
                    row["spatial_fold_r_mean"] = float(defined.mean()) if defined.size else np.nan
                    row["spatial_fold_r_sd"] = float(defined.std()) if defined.size else np.nan
                bar.advance()
            row["cv_time_s"] = time.perf_counter() - t0
            rows[name] = row
            logger.info("%s: %s", name, {k: round(v, 3) for k, v in row.items()})
        bar.update(description=f"Evaluated {what} ({', '.join(masks) or 'in-sample'})")
    metrics = pd.DataFrame.from_dict(rows, orient="index")[METRIC_COLUMNS]
    metrics.index.name = "model"
    return Evaluation(
        metrics=metrics, predictions=preds, fold_r=fold_r, models=fits, protocol=protocol
    )
