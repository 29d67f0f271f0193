"""Benchmark of spreading-subtype inference on simulated cohorts with known truth.

Cohorts have K = 1-3 subtypes seeded at the left entorhinal (typical Alzheimer's disease),
precuneus (posterior variant) and lateral occipital cortex (visual variant), Fisher-KPP on the
ENIGMA HCP structural connectome (rho 0.1 / year, alpha 0.5 / year, subject-level log-normal spread
0.2, onset 6-14 years before the first of three visits at 0, 2 and 4 years) and Gaussian noise.
Methods in the same run: :class:`~crossscale.models.spread.SpreadMixtureVAE` (K known; amortised
posterior, and with 100 semi-amortised refinement steps in ``transform``), k-means
and a diagonal Gaussian mixture on the concatenated raw visit maps, and per-subject least-squares
Fisher-KPP fits with an epicentre search (subjects grouped by the K most frequent epicentres).

References
----------
.. [1] Hubert L., Arabie P. (1985). Comparing partitions. J Classif 2, 193-218 (ARI).
.. [2] Pinnawala et al. (2025). arXiv:2509.15124.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

ACCURACY_COLUMNS = [
    "K", "n_subjects", "noise", "method", "ARI", "epicentre_acc", "rho_spearman", "rho_relerr",
    "alpha_spearman", "alpha_relerr", "onset_spearman", "onset_relerr", "fit_s",
]  # fmt: skip


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-markdown table of `df` (no index), floats to `digits` significant digits."""

    def fmt(v: object) -> str:
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def parameter_recovery(estimate: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Spearman r and median relative error of rho, alpha, onset (subjects aligned by index)."""
    from scipy.stats import spearmanr

    out = {}
    for name in ("rho", "alpha", "onset"):
        t, e = truth.loc[estimate.index, name].to_numpy(), estimate[name].to_numpy()
        out[f"{name}_spearman"] = float(spearmanr(t, e)[0])
        out[f"{name}_relerr"] = float(np.median(np.abs(e - t) / t))
    return out


@dataclass(frozen=True)
class SpreadBenchmark:
    """Benchmark tables.

    Attributes
    ----------
    accuracy : pandas.DataFrame
        One row per (K, noise, method); columns :data:`ACCURACY_COLUMNS`.
    scaling : pandas.DataFrame
        Fit time against cohort size.
    selection : pandas.DataFrame
        K chosen by held-out ELBO for each true K.
    """

    accuracy: pd.DataFrame
    scaling: pd.DataFrame
    selection: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The accuracy table."""
        return self.accuracy

    def to_dict(self) -> dict[str, object]:
        """All tables as records."""
        return {
            k: getattr(self, k).to_dict("records") for k in ("accuracy", "scaling", "selection")
        }

    def to_markdown(self) -> str:
        """The three tables with headings."""
        parts = ["## Accuracy", "", markdown_table(self.accuracy), ""]
        if len(self.scaling):
            parts += ["## Fit time against cohort size (K = 2, noise 0.05)", "",
                      markdown_table(self.scaling), ""]  # fmt: skip
        if len(self.selection):
            parts += ["## Number of subtypes chosen by held-out ELBO (30% of subjects held out)",
                      "", markdown_table(self.selection, 5), ""]  # fmt: skip
        return "\n".join(parts)


def _cohort(graph, k: int, n: int, noise: float, seed: int):
    from crossscale.models.spread import AD_VARIANT_EPICENTRES, simulate_cohort

    subs = [(e, 0.1, 0.5) for e in AD_VARIANT_EPICENTRES[:k]]
    return simulate_cohort(graph, n, subtypes=subs, noise=noise, random_state=seed)


def benchmark_cohort(graph, k: int, n_subjects: int, noise: float, *, seed: int, epochs: int):
    """All methods on one simulated cohort; returns a list of result rows."""
    from sklearn.metrics import adjusted_rand_score

    from crossscale.models.spread import SpreadMixtureVAE
    from crossscale.models.spread.baselines import (
        fit_subjects_least_squares,
        gmm_subtypes,
        kmeans_subtypes,
    )

    c = _cohort(graph, k, n_subjects, noise, seed)
    true_epi = np.array([c.subtypes[lab].epicentre for lab in c.labels])
    base = {"K": k, "n_subjects": n_subjects, "noise": noise}
    rows = []
    t0 = time.perf_counter()
    vae = SpreadMixtureVAE(k, max_epochs=epochs, random_state=seed).fit(c.maps, graph)
    t_vae = time.perf_counter() - t0
    tr = vae.transform(c.maps).loc[c.labels.index]
    rows.append({**base, "method": "SpreadMixtureVAE",
                 "ARI": adjusted_rand_score(c.labels, tr["subtype"]),
                 "epicentre_acc": float(np.mean(tr["epicentre"].to_numpy() == true_epi)),
                 **parameter_recovery(tr, c.params), "fit_s": t_vae})  # fmt: skip
    t0 = time.perf_counter()
    tr = vae.transform(c.maps, refine_steps=100).loc[c.labels.index]
    rows.append({**base, "method": "SpreadMixtureVAE + 100 refinement steps",
                 "ARI": adjusted_rand_score(c.labels, tr["subtype"]),
                 "epicentre_acc": float(np.mean(tr["epicentre"].to_numpy() == true_epi)),
                 **parameter_recovery(tr, c.params),
                 "fit_s": t_vae + time.perf_counter() - t0})  # fmt: skip
    for name, fn in (("k-means (raw maps)", kmeans_subtypes), ("GMM (raw maps)", gmm_subtypes)):
        t0 = time.perf_counter()
        lab = fn(c.maps, k, random_state=seed).loc[c.labels.index]
        rows.append({**base, "method": name, "ARI": adjusted_rand_score(c.labels, lab),
                     "fit_s": time.perf_counter() - t0})  # fmt: skip
    fits = fit_subjects_least_squares(c.maps, graph, n_subtypes=k)
    ls = fits.params.loc[c.labels.index]
    rows.append({**base, "method": "per-subject LS Fisher-KPP",
                 "ARI": adjusted_rand_score(c.labels, ls["subtype"]),
                 "epicentre_acc": float(np.mean(ls["epicentre"].to_numpy() == true_epi)),
                 **parameter_recovery(ls, c.params), "fit_s": fits.fit_time_s})  # fmt: skip
    return rows


def run_spread_benchmark(
    graph=None,
    *,
    ks: Sequence[int] = (1, 2, 3),
    noises: Sequence[float] = (0.05, 0.1, 0.2),
    n_per_subtype: int = 50,
    epochs: int = 300,
    sizes: Sequence[int] = (50, 100, 200),
    selection_ks: Sequence[int] = (1, 2, 3),
    random_state: int = 0,
) -> SpreadBenchmark:
    """Run the spreading-subtype benchmark.

    Parameters
    ----------
    graph : RegionGraph or None
        Default: ENIGMA HCP structural connectome.
    ks : sequence of int
        Numbers of true subtypes (at most 3).
    noises : sequence of float
        Noise standard deviations.
    n_per_subtype : int
        Subjects per subtype.
    epochs : int
        Training epochs of the VAE.
    sizes : sequence of int
        Cohort sizes for the fit-time scaling (K = 2, noise 0.05); empty to skip.
    selection_ks : sequence of int
        True K values for the held-out-ELBO selection of K among 1-4; empty to skip.
    random_state : int
        Base seed.

    Returns
    -------
    result : SpreadBenchmark
    """
    from sklearn.metrics import adjusted_rand_score

    from crossscale._progress import progress
    from crossscale.models.spread import SpreadMixtureVAE
    from crossscale.models.spread.baselines import fit_subjects_least_squares
    from crossscale.models.spread.estimator import select_n_subtypes

    if graph is None:
        from crossscale.atlas import RegionGraph

        graph = RegionGraph.from_connectome()
    rows = []
    total = len(ks) * len(noises) + len(sizes) + len(selection_ks)
    with progress("Spread benchmark", total) as bar:
        for k in ks:
            for noise in noises:
                rows += benchmark_cohort(graph, k, n_per_subtype * k, noise,
                                         seed=random_state + k, epochs=epochs)  # fmt: skip
                logger.info("K=%d noise=%g done", k, noise)
                bar.advance(1)
        scale_rows = []
        for n in sizes:
            c = _cohort(graph, 2, n, 0.05, random_state + 11)
            t0 = time.perf_counter()
            vae = SpreadMixtureVAE(2, max_epochs=epochs, random_state=random_state).fit(
                c.maps, graph
            )
            t_vae = time.perf_counter() - t0
            ari = adjusted_rand_score(c.labels, vae.predict(c.maps).loc[c.labels.index])
            t_ls = fit_subjects_least_squares(c.maps, graph, n_subtypes=2).fit_time_s
            scale_rows.append({"n_subjects": n, "SpreadMixtureVAE_s": t_vae,
                               "SpreadMixtureVAE_ARI": ari, "per-subject LS_s": t_ls})  # fmt: skip
            bar.advance(1)
        sel_rows = []
        for k in selection_ks:
            c = _cohort(graph, k, n_per_subtype * k, 0.05, random_state + 20 + k)
            sel = select_n_subtypes(c.maps, graph, candidates=(1, 2, 3, 4),
                                    random_state=random_state, max_epochs=epochs)  # fmt: skip
            sel_rows.append({"true K": k, "chosen K": sel.best,
                             **{f"held-out ELBO K={j}": v
                                for j, v in sel.table["heldout_elbo"].items()}})  # fmt: skip
            bar.advance(1)
    return SpreadBenchmark(
        accuracy=pd.DataFrame(rows).reindex(columns=ACCURACY_COLUMNS),
        scaling=pd.DataFrame(scale_rows),
        selection=pd.DataFrame(sel_rows),
    )
