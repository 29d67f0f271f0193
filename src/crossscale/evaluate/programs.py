"""Are a model's latent programs real? Effective number, duplicates, stability across refits.

A latent model's programs (the columns of ``transform(X)``, posterior means ``E[z | x]`` per
region) are only worth interpreting when they are *distinct* (no two describe the same regional
pattern) and *stable* (refits with other seeds or other regions find them again). This module
measures both for every fit:

* **active units** (Burda et al. 2016): programs whose posterior mean varies across regions,
  ``Var_i(E[z_i | x_i]) > 0.01`` (an inactive unit returns the prior whatever the input);
* **participation ratio** of the latent covariance, ``(Σ λ)² / Σ λ²`` over its eigenvalues
  (1 when one direction carries everything, k for k equal independent directions);
* **largest pairwise |r|** between programs across regions;
* **distinct programs**: active programs taken in order of decreasing variance, each kept only if
  its |r| with every program kept before it is at most `threshold` (0.5); a duplicate is merged
  into the kept program it correlates with most, never shown twice;
* **selection by stability** (as ICASSO, Himberg et al. 2004): a distinct program is reported
  only if its median matched |r| over a *selection* set of seed refits reaches `min_stability`
  (0.9); the stability that is then reported comes from other refits (new seeds, and
  subsampling), so the selection does not grade itself;
* **stability**: the distinct programs of the fit matched one-to-one to the programs of each refit
  by the Hungarian assignment on |r| (:func:`scipy.optimize.linear_sum_assignment`), then the
  median matched |r| over programs and refits — separately for seed refits (new initial weights,
  every region) and subsampling refits (new initial weights, a random 20 % of the regions' map
  values unseen: the m-out-of-n bootstrap of Politis & Romano 1994, since duplicated regions have
  no meaning in a graph model).

References
----------
.. [1] Burda Y., Grosse R., Salakhutdinov R. (2016). Importance weighted autoencoders. ICLR
   (active units).
.. [2] Gao P. et al. (2017). A theory of multineuronal dimensionality, dynamics and measurement.
   bioRxiv 214262 (participation ratio).
.. [3] Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Res Logist Q 2,
   83-97.
.. [4] Politis D.N., Romano J.P. (1994). Large sample confidence regions based on subsamples
   under minimal assumptions. Ann Stat 22, 2031-2050.
.. [6] Himberg J., Hyvärinen A., Esposito F. (2004). Validating the independent components of
   neuroimaging time series via clustering and visualization. NeuroImage 22, 1214-1222.
.. [5] Moran P.A.P. (1950). Notes on continuous stochastic phenomena. Biometrika 37, 17-23.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.evaluate.program_measures import (
    DUPLICATE_THRESHOLD,
    abs_corr,
    active_units,
    as_frame,
    distinct_programs,
    median_matched,
    participation_ratio,
    program_stability,
)

__all__ = ["MIN_STABILITY", "ProgramSummary", "model_programs", "summarize_programs"]

#: median matched |r| over the selection refits a program needs to be reported
MIN_STABILITY = 0.9


@dataclass(frozen=True)
class ProgramSummary:
    """How many real programs a fit has, and how stable they are.

    Attributes
    ----------
    n_latent : int
        Latent units of the model.
    n_active : int
        Active units (variance of the posterior mean across regions > 0.01).
    participation_ratio : float
        Of the covariance of all latent units.
    max_abs_r_all : float
        Largest pairwise |r| among all active programs (before merging duplicates).
    distinct : list of str
        Distinct programs (largest |r| between any two ≤ `threshold`), by decreasing variance.
    merged : dict of str to str
        Duplicate -> the distinct program it was merged into.
    max_abs_r : float
        Largest pairwise |r| among the distinct programs (0 with one program).
    seed_stability, bootstrap_stability : float
        Median matched |r| of the distinct programs over seed refits and subsampling refits
        (NaN when not measured).
    table : pandas.DataFrame
        One row per distinct program: ``variance``, ``seed_stability``, ``bootstrap_stability``,
        ``morans_i`` (NaN where not measured), ``merged`` (the duplicates it absorbed).
    threshold : float
    n_seed_refits, n_bootstrap_refits : int
    unstable : dict of str to float
        Distinct but unstable programs (not reported) -> their median matched |r| over the
        selection refits (below `min_stability`).
    min_stability : float
    n_selection_refits : int
    """

    n_latent: int
    n_active: int
    participation_ratio: float
    max_abs_r_all: float
    distinct: list[str]
    merged: dict[str, str]
    max_abs_r: float
    seed_stability: float
    bootstrap_stability: float
    table: pd.DataFrame
    threshold: float = DUPLICATE_THRESHOLD
    n_seed_refits: int = 0
    n_bootstrap_refits: int = 0
    unstable: dict[str, float] = field(default_factory=dict)
    min_stability: float = MIN_STABILITY
    n_selection_refits: int = 0

    @property
    def n_distinct(self) -> int:
        """Number of distinct programs."""
        return len(self.distinct)

    @property
    def warning(self) -> str | None:
        """A sentence for the report when the programs are effectively one (or none)."""
        if self.n_distinct <= 1:
            unstable = (f"; {len(self.unstable)} more were not stable across refits"
                        if self.unstable else "")  # fmt: skip
            return (f"The {self.n_latent} latent units carry effectively "
                    f"{'one program' if self.n_distinct == 1 else 'no program'} "
                    f"(participation ratio {self.participation_ratio:.2f}; largest pairwise |r| "
                    f"{self.max_abs_r_all:.2f}{unstable}): do not read them as separate programs.")  # fmt: skip
        return None

    def sentence(self) -> str:
        """One line for the report and README: how many programs, how stable."""
        parts = [f"{self.n_distinct} distinct program{'s' if self.n_distinct != 1 else ''} of "
                 f"{self.n_latent} latent units (largest pairwise |r| {self.max_abs_r:.2f} ≤ "
                 f"{self.threshold:g}; {self.n_active} active; participation ratio "
                 f"{self.participation_ratio:.1f}"
                 + (f"; {len(self.unstable)} more not reported: median matched |r| < "
                    f"{self.min_stability:g} over {self.n_selection_refits} selection refits"
                    if self.unstable else "") + ")"]  # fmt: skip
        if np.isfinite(self.seed_stability):
            parts.append(f"median matched |r| {self.seed_stability:.2f} over {self.n_seed_refits} "
                         "seed refits")  # fmt: skip
        if np.isfinite(self.bootstrap_stability):
            parts.append(f"{self.bootstrap_stability:.2f} over {self.n_bootstrap_refits} "
                         "subsampling refits")  # fmt: skip
        return "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (metrics.json)."""
        def f(v: float) -> float | None:
            return None if not np.isfinite(v) else round(float(v), 4)

        return {
            "n_latent": self.n_latent, "n_active": self.n_active, "n_distinct": self.n_distinct,
            "participation_ratio": f(self.participation_ratio),
            "max_abs_r_all": f(self.max_abs_r_all), "max_abs_r_distinct": f(self.max_abs_r),
            "duplicate_threshold": self.threshold, "distinct": list(self.distinct),
            "merged": dict(self.merged), "seed_stability": f(self.seed_stability),
            "bootstrap_stability": f(self.bootstrap_stability),
            "n_seed_refits": self.n_seed_refits, "n_bootstrap_refits": self.n_bootstrap_refits,
            "unstable": {k: f(v) for k, v in self.unstable.items()},
            "min_stability": self.min_stability, "n_selection_refits": self.n_selection_refits,
            "programs": self.table.reset_index().to_dict(orient="records"), "warning": self.warning,
        }  # fmt: skip

    def toas_frame(self) -> pd.DataFrame:
        """The per-program table."""
        return self.table


def summarize_programs(
    Z: pd.DataFrame,
    *,
    seed_refits: Sequence[pd.DataFrame] = (),
    bootstrap_refits: Sequence[pd.DataFrame] = (),
    graph: Any = None,
    threshold: float = DUPLICATE_THRESHOLD,
    selection_refits: Sequence[pd.DataFrame] = (),
    min_stability: float = MIN_STABILITY,
) -> ProgramSummary:
    """Every program measure of one fit, from its programs and those of its refits.

    Parameters
    ----------
    Z : pandas.DataFrame, shape (n_regions, n_latent)
        Posterior means of the fit (``model.transform(X)``).
    seed_refits, bootstrap_refits : sequence of pandas.DataFrame, each (n_regions, n_latent)
        Programs of refits (same regions, same row order).
    graph : RegionGraph, optional
        If given, Moran's I of each distinct program over it.
    threshold : float, default 0.5
        Largest |r| two distinct programs may have (:func:`distinct_programs`).
    selection_refits : sequence of pandas.DataFrame, optional
        Programs of refits used only to select the stable programs (a distinct program whose
        median matched |r| over them is below `min_stability` is not reported). If one program
        at most would remain, the most stable one is kept (and :attr:`ProgramSummary.warning`
        says so). Default: no selection.
    min_stability : float, default 0.9
        Median matched |r| over `selection_refits` a program needs to be reported.

    Returns
    -------
    ProgramSummary
    """
    Z = as_frame(Z)
    act = active_units(Z)
    distinct, merged = distinct_programs(Z, threshold=threshold)
    unstable: dict[str, float] = {}
    if selection_refits and distinct:
        sel = program_stability(Z[distinct], list(selection_refits))
        stable = [c for c in distinct if sel[c] >= min_stability] or [str(sel.idxmax())]
        unstable = {c: float(sel[c]) for c in distinct if c not in stable}
        distinct = stable
    A = Z.to_numpy()
    R_all = abs_corr(A[:, act.to_numpy()], A[:, act.to_numpy()])
    np.fill_diagonal(R_all, 0.0)
    D = Z[distinct]
    R = abs_corr(D.to_numpy(), D.to_numpy())
    np.fill_diagonal(R, 0.0)
    table = pd.DataFrame(index=pd.Index(distinct, name="program"))
    table["variance"] = Z[distinct].var(axis=0, ddof=0)
    table["seed_stability"] = program_stability(D, list(seed_refits)) if distinct else []
    table["bootstrap_stability"] = program_stability(D, list(bootstrap_refits)) if distinct else []
    if graph is not None and distinct:
        from crossscale.nulls.moran import morans_i

        table["morans_i"] = np.atleast_1d(morans_i(D.to_numpy(), graph))
    else:
        table["morans_i"] = np.nan
    table["merged"] = [", ".join(k for k, v in merged.items() if v == c) for c in distinct]
    return ProgramSummary(
        n_latent=Z.shape[1], n_active=int(act.sum()), participation_ratio=participation_ratio(Z),
        max_abs_r_all=float(R_all.max()) if R_all.size else 0.0, distinct=distinct, merged=merged,
        max_abs_r=float(R.max()) if R.size else 0.0,
        seed_stability=median_matched(D, list(seed_refits)),
        bootstrap_stability=median_matched(D, list(bootstrap_refits)),
        table=table, threshold=threshold, n_seed_refits=len(seed_refits),
        n_bootstrap_refits=len(bootstrap_refits), unstable=unstable, min_stability=min_stability,
        n_selection_refits=len(selection_refits),
    )  # fmt: skip


def _refit_programs(model: Any, X: pd.DataFrame, y: pd.Series, n: int, holdout: float,
                    seed: int) -> list[pd.DataFrame]:  # fmt: skip
    """Programs of `n` refits (new weights; a random `holdout` fraction of map values unseen)."""
    from sklearn.base import clone

    if not (0 <= holdout < 0.5):
        raise ParameterError(f"holdout must be in [0, 0.5); got {holdout!r}.")
    graph = model.graph_
    y = y.loc[list(graph.regions)]
    rng = np.random.default_rng(seed)
    masks = np.ones((n, graph.n_regions), dtype=bool)
    n_out = int(round(holdout * graph.n_regions))
    for b in range(n):
        if n_out:
            masks[b, rng.choice(graph.n_regions, size=n_out, replace=False)] = False
    template = clone(model).set_params(random_state=seed)
    if not hasattr(template, "fit_many"):
        raise ParameterError(
            f"{type(model).__name__} has no fit_many(X, Y, graph, train_masks=...); program "
            "stability needs refits of the model on the same regions."
        )
    Y = pd.DataFrame({f"refit{b}": y for b in range(n)})
    models = template.fit_many(X, Y, graph, train_masks=masks)
    return [m.transform(X) for m in models]


def model_programs(
    model: Any,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    n_seeds: int = 5,
    n_bootstrap: int = 5,
    holdout: float = 0.2,
    random_state: int = 0,
    threshold: float = DUPLICATE_THRESHOLD,
    n_selection: int = 5,
    min_stability: float = MIN_STABILITY,
) -> ProgramSummary:
    """:func:`summarize_programs` of a fitted latent model, with its seed and subsampling refits.

    Seed refits see every region with new initial weights and noise; subsampling refits also miss
    the map values of a random `holdout` fraction of regions. Both run as one stacked program
    each (``fit_many``) when the model offers it.

    Parameters
    ----------
    model : fitted estimator with ``transform`` and ``fit_many`` (GraphVAE)
        The fit whose programs are measured.
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Expression the model was fitted on.
    y : pandas.Series, shape (n_regions,)
        The map the model was fitted on.
    n_seeds, n_bootstrap : int, default 5
        Refits of each kind (0 skips the kind).
    holdout : float, default 0.2
        Fraction of regions whose map values a subsampling refit does not see.
    random_state : int
        Seed of the refits' seeds and of the held-out regions.
    threshold : float, default 0.5
        Largest |r| two distinct programs may have (:func:`distinct_programs`).
    n_selection : int, default 5
        Seed refits (other seeds than the reported ones) that select the stable programs
        (0: no selection).
    min_stability : float, default 0.9
        Median matched |r| over the selection refits a program needs to be reported.

    Returns
    -------
    ProgramSummary
    """
    Z = model.transform(X)
    select = _refit_programs(model, X, y, n_selection, 0.0, random_state + 13) if n_selection >= 2 else []
    graph = model.graph_
    seeds = _refit_programs(model, X, y, n_seeds, 0.0, random_state + 11) if n_seeds >= 2 else []
    boots = (_refit_programs(model, X, y, n_bootstrap, holdout, random_state + 12)
             if n_bootstrap >= 2 else [])  # fmt: skip
    return summarize_programs(Z, seed_refits=seeds, bootstrap_refits=boots, graph=graph,
                              threshold=threshold, selection_refits=select,
                              min_stability=min_stability)  # fmt: skip
