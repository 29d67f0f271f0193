"""Benchmark of spreading-subtype inference on simulated cohorts with known truth.

Cohorts have K = 1-4 subtypes seeded at the left entorhinal (typical Alzheimer's disease),
precuneus (posterior variant), lateral occipital (visual variant) and superior frontal cortex
(frontal variant), Fisher-KPP on the ENIGMA HCP structural connectome (rho 0.1 / year, alpha
0.5 / year, subject-level log-normal spread 0.2, onset 6-14 years before the first of three visits
at 0, 2 and 4 years) and Gaussian noise. Four parts:

* **K selection**: :func:`~crossscale.models.spread.select_n_subtypes` (held-out log predictive
  density under refined Laplace + importance-sampled posteriors, one-standard-error rule, forward
  search) for true K = 1-4, several seeds and noise levels: a confusion table true K x chosen K.
* **Calibration**: coverage of the 95% intervals that ``transform`` prints for rho, alpha and
  onset, of the 95% credible set of each subtype's epicentre, and the calibration of the subtype
  probabilities, for the refined posterior (default) and the amortised encoder alone.
* **Recovery**: subtype ARI, epicentre accuracy and Spearman r / median relative error of the
  subject-level parameters, against per-subject least-squares Fisher-KPP fits with an epicentre
  search and k-means / GMM on the raw maps.
* **Fit time** against cohort size.

References
----------
.. [1] Hubert L., Arabie P. (1985). Comparing partitions. J Classif 2, 193-218 (ARI).
.. [2] Pinnawala et al. (2025). arXiv:2509.15124.
.. [3] Hastie T., Tibshirani R., Friedman J. (2009). The Elements of Statistical Learning, 7.10.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale.evaluate.spread_metrics import (
    confusion_table,
    epicentre_coverage,
    interval_coverage,
    markdown_table,
    match_subtypes,
    parameter_recovery,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ACCURACY_COLUMNS", "SIM_EPICENTRES", "SpreadBenchmark", "recovery_benchmark",
    "run_spread_benchmark", "selection_benchmark", "timing_benchmark",
]  # fmt: skip

#: Epicentres of the simulated subtypes (typical, posterior, visual and frontal AD variants).
SIM_EPICENTRES: tuple[str, ...] = (
    "L_entorhinal", "L_precuneus", "L_lateraloccipital", "L_superiorfrontal",
)  # fmt: skip

ACCURACY_COLUMNS = [
    "noise", "method", "ARI", "epicentre_acc", "rho_spearman", "rho_relerr",
    "alpha_spearman", "alpha_relerr", "onset_spearman", "onset_relerr", "fit_s",
]  # fmt: skip


def _cohort(graph, k: int, n: int, noise: float, seed: int):
    from crossscale.models.spread import simulate_cohort

    subs = [(e, 0.1, 0.5) for e in SIM_EPICENTRES[:k]]
    return simulate_cohort(graph, n, subtypes=subs, noise=noise, random_state=seed)


# -- K selection -------------------------------------------------------------------------------
def selection_benchmark(
    graph,
    *,
    ks: Sequence[int] = (1, 2, 3, 4),
    noises: Sequence[float] = (0.05, 0.2),
    n_seeds: int = 5,
    n_per_subtype: int = 15,
    min_subjects: int = 30,
    candidates: Sequence[int] = (1, 2, 3, 4, 5, 6),
    patience: int = 1,
    epochs: int = 50,
    random_state: int = 0,
    bar=None,
) -> pd.DataFrame:
    """K chosen by :func:`select_n_subtypes` on simulated cohorts; one row per cohort."""
    from crossscale.models.spread import select_n_subtypes

    rows = []
    for noise in noises:
        for k in ks:
            for i in range(n_seeds):
                seed = random_state + 1000 * k + i
                n = max(min_subjects, n_per_subtype * k)
                c = _cohort(graph, k, n, noise, seed)
                t0 = time.perf_counter()
                sel = select_n_subtypes(c.maps, graph, candidates=candidates, patience=patience,
                                        random_state=seed, max_epochs=epochs)  # fmt: skip
                t = sel.table
                curve = "; ".join(
                    f"{j}: {r.heldout_loglik:.1f} ± {r.heldout_se:.1f}" for j, r in t.iterrows()
                )
                rows.append({"noise": noise, "true K": k, "seed": seed, "n_subjects": n,
                             "chosen K": sel.best, "max-score K": sel.best_by_max,
                             "held-out log p(y) per subject (K: mean ± se)": curve,
                             "fit_time_s": time.perf_counter() - t0})  # fmt: skip
                logger.info("selection noise=%g K=%d seed=%d -> %d", noise, k, seed, sel.best)
                if bar is not None:
                    bar.advance(1)
    return pd.DataFrame(rows)


# -- calibration and recovery ------------------------------------------------------------------
def recovery_benchmark(
    graph,
    *,
    k: int = 2,
    noises: Sequence[float] = (0.05, 0.1, 0.2),
    n_per_subtype: int = 50,
    epochs: int = 50,
    random_state: int = 0,
    bar=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recovery (all methods) and calibration (VAE posteriors) on one cohort per noise level.

    Returns
    -------
    accuracy, calibration : pandas.DataFrame
    """
    from sklearn.metrics import adjusted_rand_score

    from crossscale.models.spread import SpreadMixtureVAE
    from crossscale.models.spread.baselines import (
        fit_subjects_least_squares,
        gmm_subtypes,
        kmeans_subtypes,
    )

    acc, cal = [], []
    for noise in noises:
        c = _cohort(graph, k, n_per_subtype * k, noise, random_state + 7)
        idx = c.labels.index
        true_epi = np.array([c.subtypes[lab].epicentre for lab in c.labels])
        base = {"noise": noise}
        t0 = time.perf_counter()
        vae = SpreadMixtureVAE(k, max_epochs=epochs, random_state=random_state).fit(c.maps, graph)
        t_fit = time.perf_counter() - t0
        amort = copy.copy(vae).set_params(posterior="amortised")  # same fit, encoder only
        for name, est in (("SpreadMixtureVAE (refined, default)", vae),
                          ("SpreadMixtureVAE (amortised encoder only)", amort)):  # fmt: skip
            t0 = time.perf_counter()
            tr = est.transform(c.maps).loc[idx]
            t_tr = time.perf_counter() - t0
            pred = tr["subtype"].to_numpy()
            mapping = match_subtypes(c.labels.to_numpy(), pred, k)
            correct = np.array([mapping.get(p) == t for p, t in zip(pred, c.labels, strict=True)])
            acc.append({**base, "method": name, "ARI": adjusted_rand_score(c.labels, pred),
                        "epicentre_acc": float(np.mean(tr["epicentre"].to_numpy() == true_epi)),
                        **parameter_recovery(tr, c.params), "fit_s": t_fit + t_tr})  # fmt: skip
            cal.append({**base, "method": name, **interval_coverage(tr, c.params),
                        **epicentre_coverage(est, c, pred),
                        "subtype_proba_mean": float(tr["subtype_proba"].mean()),
                        "subtype_accuracy": float(correct.mean())})  # fmt: skip
        for name, fn in (("k-means (raw maps)", kmeans_subtypes), ("GMM (raw maps)", gmm_subtypes)):
            t0 = time.perf_counter()
            lab = fn(c.maps, k, random_state=random_state).loc[idx]
            acc.append({**base, "method": name, "ARI": adjusted_rand_score(c.labels, lab),
                        "fit_s": time.perf_counter() - t0})  # fmt: skip
        fits = fit_subjects_least_squares(c.maps, graph, n_subtypes=k)
        ls = fits.params.loc[idx]
        acc.append({**base, "method": "per-subject LS Fisher-KPP",
                    "ARI": adjusted_rand_score(c.labels, ls["subtype"]),
                    "epicentre_acc": float(np.mean(ls["epicentre"].to_numpy() == true_epi)),
                    **parameter_recovery(ls, c.params), "fit_s": fits.fit_time_s})  # fmt: skip
        logger.info("recovery noise=%g done", noise)
        if bar is not None:
            bar.advance(1)
    return pd.DataFrame(acc).reindex(columns=ACCURACY_COLUMNS), pd.DataFrame(cal)


# -- fit time ----------------------------------------------------------------------------------
def timing_benchmark(
    graph,
    *,
    sizes: Sequence[int] = (50, 200, 1000),
    ls_sizes: Sequence[int] = (50, 200),
    epochs: int = 50,
    random_state: int = 0,
    bar=None,
) -> pd.DataFrame:
    """Fit times of the VAE (fit + transform) and of per-subject least squares (K = 2, noise 0.05).

    Least-squares times for sizes not in `ls_sizes` are extrapolated linearly from the largest
    two measured sizes and flagged ``extrapolated``.
    """
    from crossscale.models.spread import SpreadMixtureVAE
    from crossscale.models.spread.baselines import fit_subjects_least_squares

    rows = []
    ls_meas: dict[int, float] = {}
    for n in sorted(set(sizes) | set(ls_sizes)):
        c = _cohort(graph, 2, n, 0.05, random_state + 11)
        row: dict[str, object] = {"n_subjects": n}
        if n in sizes:
            t0 = time.perf_counter()
            vae = SpreadMixtureVAE(2, max_epochs=epochs, random_state=random_state).fit(
                c.maps, graph
            )
            vae.transform(c.maps)
            row["SpreadMixtureVAE_s"] = time.perf_counter() - t0
        if n in ls_sizes:
            ls_meas[n] = fit_subjects_least_squares(c.maps, graph, n_subtypes=2).fit_time_s
        rows.append(row)
        if bar is not None:
            bar.advance(1)
    meas = sorted(ls_meas)
    for row in rows:
        n = int(row["n_subjects"])  # type: ignore[arg-type]
        if n in ls_meas:
            row["per-subject LS_s"], row["LS time"] = ls_meas[n], "measured"
        elif len(meas) >= 2:
            a, b = meas[-2], meas[-1]
            slope = (ls_meas[b] - ls_meas[a]) / (b - a)
            row["per-subject LS_s"] = ls_meas[b] + slope * (n - b)
            row["LS time"] = f"extrapolated from n = {a}, {b}"
    out = pd.DataFrame(rows)
    out = out[out["n_subjects"].isin(list(sizes) + list(ls_sizes))]
    if "SpreadMixtureVAE_s" in out and "per-subject LS_s" in out:
        out["LS / VAE"] = out["per-subject LS_s"] / out["SpreadMixtureVAE_s"]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class SpreadBenchmark:
    """Benchmark tables.

    Attributes
    ----------
    selection : pandas.DataFrame
        One row per simulated cohort: true and chosen K, the selection curve.
    confusion : pandas.DataFrame
        True K x chosen K per noise level.
    accuracy : pandas.DataFrame
        One row per (noise, method); columns :data:`ACCURACY_COLUMNS`.
    calibration : pandas.DataFrame
        Interval coverage per (noise, posterior).
    scaling : pandas.DataFrame
        Fit time against cohort size.
    params : dict
        The benchmark's parameters.
    """

    selection: pd.DataFrame
    confusion: pd.DataFrame
    accuracy: pd.DataFrame
    calibration: pd.DataFrame
    scaling: pd.DataFrame
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The accuracy table."""
        return self.accuracy

    def to_dict(self) -> dict[str, object]:
        """All tables as records."""
        keys = ("selection", "confusion", "accuracy", "calibration", "scaling")
        return {"params": self.params, **{k: getattr(self, k).to_dict("records") for k in keys}}

    def selection_accuracy(self) -> float:
        """Fraction of cohorts where the chosen K is the true K."""
        s = self.selection
        return float((s["chosen K"] == s["true K"]).mean()) if len(s) else float("nan")

    def to_markdown(self) -> str:
        """The tables with headings."""
        parts = []
        if len(self.selection):
            p = self.params.get("selection", {})
            parts += [
                "## Number of subtypes: true K x chosen K",
                "",
                f"{len(self.selection)} simulated cohorts ({p.get('n_seeds')} seeds per true K and "
                f"noise level; {p.get('n_per_subtype')} subjects per subtype, at least "
                f"{p.get('min_subjects')}); 30% of subjects held out; candidates "
                f"{p.get('candidates')} scanned forward with patience {p.get('patience')}; "
                f"chosen K = the smallest K within one standard error of the best held-out "
                f"log predictive density. Chosen K = true K in "
                f"**{100 * self.selection_accuracy():.0f}%** of cohorts.",
                "",
                markdown_table(self.confusion),
                "",
                "Selection curves (held-out log predictive density per subject, nats):",
                "",
                markdown_table(self.selection, 4),
                "",
            ]  # fmt: skip
        if len(self.calibration):
            parts += [
                "## Calibration of the printed 95% intervals",
                "",
                "`*_cov95`: fraction of subjects whose printed 95% interval contains the true "
                "value (target 0.90-0.97; a parameter flagged not identified counts as not "
                "covered, `*_unidentified` is the fraction flagged); `epicentre_set_cov95`: "
                "fraction of subtypes whose 95% epicentre credible set contains the true "
                "epicentre (a discrete set cannot hit 0.95 exactly: 1.0 with set size 1 means "
                "the posterior is concentrated on the right region); `subtype_proba_mean` vs "
                "`subtype_accuracy`: mean probability of the assigned subtype and the fraction "
                "assigned correctly (equal when calibrated).",
                "",
                markdown_table(self.calibration),
                "",
            ]  # fmt: skip
        if len(self.accuracy):
            parts += ["## Recovery against per-subject least squares", "",
                      markdown_table(self.accuracy), ""]  # fmt: skip
        if len(self.scaling):
            parts += ["## Fit time against cohort size (K = 2, noise 0.05)", "",
                      markdown_table(self.scaling), ""]  # fmt: skip
        return "\n".join(parts)


def run_spread_benchmark(
    graph=None,
    *,
    selection: dict | None = None,
    recovery: dict | None = None,
    timing: dict | None = None,
    random_state: int = 0,
) -> SpreadBenchmark:
    """Run the spreading-subtype benchmark.

    Parameters
    ----------
    graph : RegionGraph or None
        Default: ENIGMA HCP structural connectome.
    selection, recovery, timing : dict or None
        Keyword arguments of :func:`selection_benchmark`, :func:`recovery_benchmark` and
        :func:`timing_benchmark` (None: defaults; ``{"skip": True}`` skips the part).
    random_state : int
        Base seed.

    Returns
    -------
    result : SpreadBenchmark
    """
    import inspect

    from crossscale._progress import progress

    if graph is None:
        from crossscale.atlas import RegionGraph

        graph = RegionGraph.from_connectome()

    def resolved(fn, kw: dict | None) -> dict | None:
        kw = dict(kw or {})
        if kw.pop("skip", False):
            return None
        sig = inspect.signature(fn)
        full = {k: v.default for k, v in sig.parameters.items()
                if v.default is not inspect.Parameter.empty and k not in ("bar",)}  # fmt: skip
        full.update(kw, random_state=random_state)
        return full

    sel_kw = resolved(selection_benchmark, selection)
    rec_kw = resolved(recovery_benchmark, recovery)
    tim_kw = resolved(timing_benchmark, timing)
    total = 0
    if sel_kw:
        total += len(sel_kw["noises"]) * len(sel_kw["ks"]) * sel_kw["n_seeds"]
    if rec_kw:
        total += len(rec_kw["noises"])
    if tim_kw:
        total += len(set(tim_kw["sizes"]) | set(tim_kw["ls_sizes"]))
    empty = pd.DataFrame()
    with progress("Spread benchmark", total) as bar:
        runs = selection_benchmark(graph, **sel_kw, bar=bar) if sel_kw else empty
        acc, cal = recovery_benchmark(graph, **rec_kw, bar=bar) if rec_kw else (empty, empty)
        scaling = timing_benchmark(graph, **tim_kw, bar=bar) if tim_kw else empty
    params = {"selection": sel_kw, "recovery": rec_kw, "timing": tim_kw}
    params = {k: {a: list(b) if isinstance(b, (tuple, range)) else b for a, b in v.items()}
              for k, v in params.items() if v}  # fmt: skip
    return SpreadBenchmark(
        selection=runs,
        confusion=confusion_table(runs) if len(runs) else empty,
        accuracy=acc,
        calibration=cal,
        scaling=scaling,
        params=params,
    )
