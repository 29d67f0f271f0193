"""Benchmark of spreading-subtype inference on simulated cohorts (writes results/spread.md).

Cohorts: K = 1-3 subtypes seeded at the entorhinal (typical AD), precuneus (posterior) and lateral
occipital (visual variant) cortex of the left hemisphere, Fisher-KPP on the ENIGMA HCP structural
connectome (rho 0.1 / year, alpha 0.5 / year, subject-level log-normal spread 0.2, onset 6-14 years
before the first of three visits at 0, 2 and 4 years), Gaussian noise of sd 0.05-0.2 (saturation
= 1). Methods in the same run: SpreadMixtureVAE (K known), k-means and a diagonal Gaussian
mixture on the concatenated raw visit maps, and per-subject least-squares Fisher-KPP fits with an
epicentre search (subjects grouped by the K most frequent fitted epicentres).

Usage::

    CROSSSCALE_MIRROR=../shared/data python benchmarks/bench_spread.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import adjusted_rand_score

from crossscale.atlas import RegionGraph
from crossscale.models.spread import AD_VARIANT_EPICENTRES, SpreadMixtureVAE, simulate_cohort
from crossscale.models.spread.baselines import (
    fit_subjects_least_squares,
    gmm_subtypes,
    kmeans_subtypes,
)
from crossscale.models.spread.estimator import select_n_subtypes

OUT = Path(__file__).parent / "results" / "spread.md"


def md_table(df: pd.DataFrame, digits: int = 3) -> str:
    def fmt(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def recovery(est: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    out = {}
    for name in ("rho", "alpha", "onset"):
        t, e = truth.loc[est.index, name].to_numpy(), est[name].to_numpy()
        out[f"{name}_spearman"] = float(spearmanr(t, e)[0])
        out[f"{name}_relerr"] = float(np.median(np.abs(e - t) / t))
    return out


def run_cohort(graph, k, n_per, noise, seed, epochs):
    subs = [(e, 0.1, 0.5) for e in AD_VARIANT_EPICENTRES[:k]]
    c = simulate_cohort(graph, n_per * k, subtypes=subs, noise=noise, random_state=seed)
    true_epi = np.array([c.subtypes[lab].epicentre for lab in c.labels])
    base = {"K": k, "n_subjects": n_per * k, "noise": noise}
    rows = []
    t0 = time.perf_counter()
    vae = SpreadMixtureVAE(k, max_epochs=epochs, random_state=seed).fit(c.maps, graph)
    t_vae = time.perf_counter() - t0
    tr = vae.transform(c.maps).loc[c.labels.index]
    rows.append({**base, "method": "SpreadMixtureVAE",
                 "ARI": adjusted_rand_score(c.labels, tr["subtype"]),
                 "epicentre_acc": float(np.mean(tr["epicentre"].to_numpy() == true_epi)),
                 **recovery(tr, c.params), "fit_s": t_vae})  # fmt: skip
    for name, fn in (("k-means (raw maps)", kmeans_subtypes), ("GMM (raw maps)", gmm_subtypes)):
        t0 = time.perf_counter()
        lab = fn(c.maps, k, random_state=seed).loc[c.labels.index]
        rows.append({**base, "method": name, "ARI": adjusted_rand_score(c.labels, lab),
                     "fit_s": time.perf_counter() - t0})  # fmt: skip
    fits = fit_subjects_least_squares(c.maps, graph, n_subtypes=k)
    ls, fit_s = fits.params.loc[c.labels.index], fits.fit_time_s
    rows.append({**base, "method": "per-subject LS Fisher-KPP",
                 "ARI": adjusted_rand_score(c.labels, ls["subtype"]),
                 "epicentre_acc": float(np.mean(ls["epicentre"].to_numpy() == true_epi)),
                 **recovery(ls, c.params), "fit_s": fit_s})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    graph = RegionGraph.from_connectome()
    epochs = 300
    noises = (0.05, 0.1, 0.2) if not args.quick else (0.05,)
    ks = (1, 2, 3) if not args.quick else (2,)
    rows = []
    for k in ks:
        for noise in noises:
            t0 = time.perf_counter()
            rows.extend(run_cohort(graph, k, 50, noise, seed=k, epochs=epochs))
            print(f"K={k} noise={noise}: {time.perf_counter() - t0:.0f} s", flush=True)
    acc = pd.DataFrame(rows)

    # fit time against cohort size (K = 2, noise 0.05)
    scale_rows = []
    sizes = (50, 100, 200, 400) if not args.quick else (40, 80)
    for n in sizes:
        c = simulate_cohort(graph, n, subtypes=[(e, 0.1, 0.5) for e in AD_VARIANT_EPICENTRES[:2]],
                            noise=0.05, random_state=11)  # fmt: skip
        t0 = time.perf_counter()
        vae = SpreadMixtureVAE(2, max_epochs=epochs, random_state=0).fit(c.maps, graph)
        t_vae = time.perf_counter() - t0
        t0 = time.perf_counter()
        fit_subjects_least_squares(c.maps, graph, n_subtypes=2)
        t_ls = time.perf_counter() - t0
        scale_rows.append({"n_subjects": n, "SpreadMixtureVAE_s": t_vae,
                           "SpreadMixtureVAE_ARI": adjusted_rand_score(c.labels, vae.predict(c.maps).loc[c.labels.index]),
                           "per-subject LS_s": t_ls})  # fmt: skip
        print(f"n={n}: vae {t_vae:.0f} s, LS {t_ls:.0f} s", flush=True)
    scale = pd.DataFrame(scale_rows)

    # K chosen by held-out ELBO
    sel_rows = []
    for k in (1, 2, 3) if not args.quick else (2,):
        c = simulate_cohort(graph, 50 * k, subtypes=[(e, 0.1, 0.5) for e in AD_VARIANT_EPICENTRES[:k]],
                            noise=0.05, random_state=20 + k)  # fmt: skip
        sel = select_n_subtypes(c.maps, graph, candidates=(1, 2, 3, 4), random_state=0,
                                max_epochs=200)  # fmt: skip
        sel_rows.append({"true K": k, "chosen K": sel.best,
                         **{f"held-out ELBO K={j}": v for j, v in sel.table["heldout_elbo"].items()}})  # fmt: skip
        print(f"selection K={k}: chose {sel.best}", flush=True)
    select = pd.DataFrame(sel_rows)

    cols = ["K", "n_subjects", "noise", "method", "ARI", "epicentre_acc", "rho_spearman",
            "rho_relerr", "alpha_spearman", "alpha_relerr", "onset_spearman", "onset_relerr",
            "fit_s"]  # fmt: skip
    acc = acc.reindex(columns=cols)
    lines = [
        "# Spreading-subtype benchmark (`benchmarks/bench_spread.py`)",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}; torch on 1 thread. "
        "Generated by `CROSSSCALE_MIRROR=../shared/data python benchmarks/bench_spread.py`.",
        "",
        __doc__.split("Usage::")[0].strip(),
        "",
        "Metrics: ARI of subtype labels; epicentre_acc = fraction of subjects whose inferred "
        "epicentre (of their predicted subtype, or of their own fit) is their true one; "
        "Spearman r and median relative error of subject-level rho, alpha and onset; fit time "
        "in seconds (shared 2-core CPU, so timings are noisy).",
        "",
        "## Accuracy",
        "",
        md_table(acc),
        "",
        "## Fit time against cohort size (K = 2, noise 0.05, 300 epochs)",
        "",
        md_table(scale),
        "",
        "## Number of subtypes chosen by held-out ELBO (30% of subjects held out, noise 0.05)",
        "",
        md_table(select, 5),
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    acc.to_csv(OUT.with_suffix(".csv"), index=False)
    print(OUT.read_text())


if __name__ == "__main__":
    main()
