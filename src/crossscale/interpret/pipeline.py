"""The whole interpretation of a fitted GraphVAE: genes with intervals, programs, clusters, enrichment."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from crossscale._errors import ParameterError
from crossscale.interpret.attribution import (
    Attribution,
    integrated_gradients,
    program_importance,
    program_loadings,
)
from crossscale.interpret.clusters import RegionClusters, cluster_regions
from crossscale.interpret.enrichment import Enrichment, gene_set_enrichment, program_enrichment

logger = logging.getLogger(__name__)


def fit_replicates(
    model: Any,
    X: pd.DataFrame,
    y: pd.Series,
    graph: Any,
    *,
    n_replicates: int = 10,
    holdout: float = 0.1,
    random_state: int = 0,
) -> list[Any]:
    """Refit a GraphVAE `n_replicates` times, each with new initial weights and a region subsample.

    Replicate `b` draws its own initial weights (one stacked tensor program,
    :meth:`GraphVAE.fit_many` with ``train_masks``) and never sees the map values of a random
    `holdout` fraction of regions (their expression still enters the gene standardisation and
    principal axes, as in an in-sample fit). Subsampling without replacement is used instead of the region bootstrap
    because duplicated nodes have no meaning in a graph model; ``holdout=0`` gives seed-only
    replicates.

    Parameters
    ----------
    model : GraphVAE
        Template (its parameters are used; it need not be fitted).
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression.
    y : pandas.Series, shape (n_regions,)
        The map, same regions as `X`.
    graph : RegionGraph
        Region graph over the same regions.
    n_replicates : int, default 10
        Number of replicate fits.
    holdout : float, default 0.1
        Fraction of regions whose map value each replicate does not see, in [0, 0.5).
    random_state : int
        Seed of the held-out regions and of each replicate's initial weights.

    Returns
    -------
    models : list of GraphVAE, length n_replicates

    References
    ----------
    .. [1] Politis D.N., Romano J.P. (1994). Large sample confidence regions based on subsamples
       under minimal assumptions. Ann Stat 22, 2031-2050.
    """
    if not (0 <= holdout < 0.5):
        raise ParameterError(f"holdout must be in [0, 0.5); got {holdout!r}.")
    if not isinstance(n_replicates, (int, np.integer)) or n_replicates < 2:
        raise ParameterError(f"n_replicates must be an integer >= 2; got {n_replicates!r}.")
    template = clone(model).set_params(random_state=random_state)
    n = graph.n_regions
    rng = np.random.default_rng(random_state)
    masks = np.ones((n_replicates, n), dtype=bool)
    n_out = int(round(holdout * n))
    for b in range(n_replicates):
        if n_out:
            masks[b, rng.choice(n, size=n_out, replace=False)] = False
    Y = pd.DataFrame({f"replicate{b}": y for b in range(n_replicates)})
    models = template.fit_many(X, Y, graph, train_masks=masks)
    for m in models:
        m.y_name_ = str(y.name)
    return models


def rank_intervals(scores: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Rank of each gene in each replicate, summarised by its median and percentile interval.

    Parameters
    ----------
    scores : pandas.DataFrame, shape (n_genes, n_replicates)
        Gene score of each replicate (higher = rank 1).
    level : float, default 0.95
        Coverage of the central rank interval, in (0, 1).

    Returns
    -------
    ranks : pandas.DataFrame, shape (n_genes, 4)
        ``rank_median``, ``rank_low``, ``rank_high`` (percentile interval), ``top20_freq``
        (fraction of replicates where the gene is among the top 20).
    """
    r = scores.rank(ascending=False, method="min")
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    return pd.DataFrame(
        {
            "rank_median": r.median(axis=1),
            "rank_low": r.quantile(lo, axis=1),
            "rank_high": r.quantile(hi, axis=1),
            "top20_freq": (r <= 20).mean(axis=1),
        }
    )


def mean_pairwise_spearman(scores: pd.DataFrame) -> float:
    """Mean Spearman correlation between all pairs of columns (replicates)."""
    c = scores.rank().corr().to_numpy()
    iu = np.triu_indices_from(c, k=1)
    return float(np.mean(c[iu]))


@dataclass(frozen=True)
class Interpretation:
    """Interpretation of a fitted GraphVAE (see :func:`interpret_model`).

    Attributes
    ----------
    genes : pandas.DataFrame, shape (n_genes, 7)
        Index gene symbol, sorted by ``rank``: ``importance`` and ``signed`` (integrated
        gradients of the fitted model, map units), ``rank``, ``rank_median``, ``rank_low``,
        ``rank_high`` (95% interval over replicates), ``top20_freq``.
    attribution : Attribution
        Of the fitted model (per-region attributions).
    replicate_scores : pandas.DataFrame, shape (n_genes, n_replicates)
    stability : float
        Mean pairwise Spearman correlation of gene importance across replicates.
    loadings : pandas.DataFrame, shape (n_genes, n_latent)
        Gene-program correlations across regions.
    loading_stability : pandas.Series
        Per program: max over replicate programs of the absolute Spearman correlation of the
        loadings, averaged over replicates (programs are unordered across fits, so each is
        matched to its best partner).
    programs : pandas.DataFrame
        Program importance (share of the prediction), sorted.
    latent : pandas.DataFrame, shape (n_regions, n_latent)
    clusters : RegionClusters
    enrichment : dict of str to Enrichment
        Per gene-set collection: enrichment of the prediction's gene importance.
    program_enrichment : dict of str to pandas.DataFrame
        Per gene-set collection: enrichment of each program's absolute loadings (rows program x set;
        spatial null from spins of the program map, :func:`program_enrichment`).
    observed, prediction : pandas.Series, shape (n_regions,)
    params : dict
    """

    genes: pd.DataFrame
    attribution: Attribution
    replicate_scores: pd.DataFrame
    stability: float
    loadings: pd.DataFrame
    loading_stability: pd.Series
    programs: pd.DataFrame
    latent: pd.DataFrame
    clusters: RegionClusters
    enrichment: dict[str, Enrichment]
    program_enrichment: dict[str, pd.DataFrame]
    observed: pd.Series
    prediction: pd.Series
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The gene table."""
        return self.genes.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "params": self.params,
            "stability_spearman": self.stability,
            "completeness_error": self.attribution.completeness_error,
            "top_genes": self.genes.head(20).reset_index().to_dict(orient="records"),
            "programs": self.programs.reset_index().to_dict(orient="records"),
            "loading_stability": self.loading_stability.to_dict(),
            "clusters": self.clusters.to_dict(),
            "enrichment": {k: v.to_dict() for k, v in self.enrichment.items()},
            "program_enrichment": {
                k: v.to_dict(orient="records") for k, v in self.program_enrichment.items()
            },
        }

    def save(self, folder: Any) -> None:
        """Write the tables as CSV files and ``interpretation.json`` into an existing folder."""
        from pathlib import Path

        from crossscale._files import write_json

        folder = Path(folder)
        self.genes.to_csv(folder / "gene_attribution.csv", float_format="%.6g")
        self.attribution.per_region.to_csv(folder / "gene_attribution_per_region.csv",
                                           float_format="%.5g")  # fmt: skip
        self.replicate_scores.to_csv(folder / "gene_importance_replicates.csv", float_format="%.5g")
        self.loadings.to_csv(folder / "program_loadings.csv", float_format="%.5g")
        self.programs.to_csv(folder / "program_importance.csv", float_format="%.6g")
        self.latent.to_csv(folder / "latent_programs.csv", float_format="%.6g")
        self.clusters.to_frame().to_csv(folder / "region_clusters.csv")
        for name, enr in self.enrichment.items():
            enr.to_frame().to_csv(folder / f"enrichment_{name}.csv", float_format="%.6g")
        for name, tab in self.program_enrichment.items():
            tab.to_csv(folder / f"program_enrichment_{name}.csv", index=False, float_format="%.6g")
        write_json(folder / "interpretation.json", self.to_dict())


def _loading_stability(ref: pd.DataFrame, others: Sequence[pd.DataFrame]) -> pd.Series:
    out = {}
    for c in ref.columns:
        best = []
        for o in others:
            r = pd.concat([ref[[c]], o], axis=1).rank().corr().iloc[0, 1:].abs()
            best.append(float(r.max()))
        out[c] = float(np.mean(best)) if best else float("nan")
    return pd.Series(out, name="loading_stability")


def interpret_model(
    model: Any,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    gene_sets: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    n_replicates: int = 10,
    holdout: float = 0.1,
    n_perm: int = 100,
    n_steps: int = 32,
    n_random: int = 10000,
    n_clusters: int | None = None,
    n_map_spins: int = 1000,
    random_state: int = 0,
    programs: Sequence[str] | None = None,
) -> Interpretation:
    """Interpret a fitted GraphVAE: which genes carry the prediction, how stably, and what they are.

    1. Integrated gradients of the prediction w.r.t. every gene (:func:`integrated_gradients`);
       gene importance = mean over regions of ``|attribution|``.
    2. Rank intervals from `n_replicates` refits, each with new initial weights and without the
       map values of a random `holdout` fraction of regions (:func:`fit_replicates`).
    3. Program loadings (gene-program correlations), program importance, program stability.
    4. Region clusters in latent space, tested against lobes and `y` with spin permutations.
    5. Enrichment of gene importance in each gene-set collection against random gene sets and the
       spatially constrained ensemble null: the model refitted on `n_perm` Hungarian spins of
       `y` (one stacked program, :meth:`GraphVAE.fit_many`), gene importance recomputed for each.
    6. Enrichment of each program's absolute gene loadings, against random gene sets and spins of
       the program map (:func:`program_enrichment`).

    Parameters
    ----------
    model : GraphVAE
        Fitted on `X`, `y` (its stored graph is used).
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression the model was fitted on.
    y : pandas.Series, shape (n_regions,)
        The map the model was fitted on, same regions as `X`.
    gene_sets : mapping of collection name to (mapping of set name to genes), optional
        Default: ``{"lake": Lake 2018 30 cell types, "pooled": 7 pooled classes}``.
    n_replicates : int, default 10
        Replicate refits for the rank intervals and stability.
    holdout : float, default 0.1
        Fraction of regions whose map value each replicate does not see.
    n_perm : int, default 100
        Spin-null refits for the ensemble null (0 skips it: p_spatial is NaN).
    n_steps : int, default 32
        Integrated-gradient steps.
    n_random : int, default 10000
        Random gene sets per set.
    n_clusters : int or None
        Default: chosen by silhouette over 2..8.
    n_map_spins : int, default 1000
        Spin permutations of fixed maps, with no refit: the cluster labels (tests against lobes
        and `y`) and the program maps (program enrichment). `n_perm` instead counts spins on
        which the whole model is refitted.
    random_state : int
        Seed of every stochastic step.
    programs : sequence of str, optional
        The distinct programs (``ProgramSummary.distinct`` of
        :func:`crossscale.evaluate.programs.model_programs`): loadings, program importance,
        clusters and program enrichment use these only, so no program is interpreted twice.
        Default: every latent unit.

    Returns
    -------
    Interpretation

    References
    ----------
    .. [1] Sundararajan M. et al. (2017). Axiomatic attribution for deep networks. ICML.
    .. [2] Fulcher B.D. et al. (2021). Nat Commun 12, 2669.
    .. [3] Lake B.B. et al. (2018). Nat Biotechnol 36, 70-80.
    """
    from crossscale._progress import progress
    from crossscale.interpret.genesets import load_cell_type_sets

    model.standardized_expression(X)  # public check: ModelStateError if unfitted, clear error for other genes
    graph = model.graph_
    y = y.loc[model.regions_]
    if gene_sets is None:
        gene_sets = {"lake": load_cell_type_sets("lake"), "pooled": load_cell_type_sets("pooled")}
    logger.info("integrated gradients of the fitted model")
    attr = integrated_gradients(model, X, n_steps=n_steps)
    reps = fit_replicates(model, X, y, graph, n_replicates=n_replicates, holdout=holdout,
                          random_state=random_state + 1)  # fmt: skip
    rep_scores = {}
    with progress("Attributions of replicates", total=len(reps)) as bar:
        for b, m in enumerate(reps):
            rep_scores[f"rep{b}"] = integrated_gradients(m, X, n_steps=n_steps).importance
            bar.advance()
    rep_scores = pd.DataFrame(rep_scores)
    genes = attr.to_frame().join(rank_intervals(rep_scores))
    latent = model.transform(X)
    keep = list(latent.columns) if programs is None else [str(c) for c in programs]
    unknown = [c for c in keep if c not in latent.columns]
    if unknown or not keep:
        raise ParameterError(
            f"programs must name at least one latent program of the model ({list(latent.columns)}); "
            f"got {list(keep)}."
        )
    latent = latent[keep]
    loadings = program_loadings(model, X)[keep]
    load_stab = _loading_stability(loadings, [program_loadings(m, X) for m in reps])
    table = program_importance(model, X)
    table = table.loc[[c for c in table.index if c in keep]]
    programs_table = table.join(load_stab)
    clusters = cluster_regions(latent, y=y, n_clusters=n_clusters,
                               replicates=[m.transform(X)[keep] for m in reps],
                               n_perm=n_map_spins, random_state=random_state)  # fmt: skip
    null_scores = None
    if n_perm:
        from crossscale.nulls import generate_nulls

        nulls = generate_nulls(y, "hungarian", n_perm=n_perm, random_state=random_state)
        Y = pd.DataFrame(nulls, index=y.index, columns=[f"null{j}" for j in range(n_perm)])
        null_models = clone(model).set_params(random_state=random_state + 2).fit_many(X, Y, graph)
        cols = {}
        with progress("Attributions of null refits", total=n_perm) as bar:
            for j, m in enumerate(null_models):
                cols[f"null{j}"] = integrated_gradients(m, X, n_steps=n_steps).importance
                bar.advance()
        null_scores = pd.DataFrame(cols)
    enrichment = {
        name: gene_set_enrichment(attr.importance, sets, null_scores=null_scores,
                                  n_random=n_random, random_state=random_state)
        for name, sets in gene_sets.items()
    }  # fmt: skip
    prog_enr = {
        name: program_enrichment(X.loc[latent.index, list(model.genes_)], latent, sets,
                                 n_perm=n_map_spins, n_random=n_random, random_state=random_state)
        for name, sets in gene_sets.items()
    }  # fmt: skip
    params = {"n_replicates": n_replicates, "holdout": holdout, "n_perm": n_perm,
              "n_steps": n_steps, "n_random": n_random, "n_map_spins": n_map_spins, "random_state": random_state,
              "null_method": "hungarian", "gene_score": "mean |integrated gradient| over regions",
              "programs": keep, "programs_selected": programs is not None}  # fmt: skip
    return Interpretation(
        genes=genes, attribution=attr, replicate_scores=rep_scores,
        stability=mean_pairwise_spearman(rep_scores), loadings=loadings,
        loading_stability=load_stab, programs=programs_table, latent=latent, clusters=clusters,
        enrichment=enrichment, program_enrichment=prog_enr, observed=y, prediction=attr.prediction, params=params,
    )  # fmt: skip
