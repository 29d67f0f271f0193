"""Can a per-fold test on the training regions send a map without signal to its training mean?

Issue 19 asks that GraphVAE be on no map more than 0.05 R² below the training mean. The default
(`graphvae_maps.md`) misses it on 2 of the 36 tuning maps in each CV. `graphvae_stack.md` (third
round) gated on the inner-CV R² of the chosen blend; this benchmark tries gates that do not
depend on the network at all, computed in closed form from ridge on each fold's training
regions (so they cannot be noisy through the network's randomness):

- **ridge α = ∞**: ridge's leave-one-out error over `_shrink.RIDGE_ALPHAS` (`_shrink.ridge_loo`) extended by
  α = ∞ (the training mean) chooses α = ∞;
- **nested LOO < t**: the R² of ridge's leave-one-out predictions on the training regions, its
  penalty chosen again without each left-out region (nested, so free of the optimism of choosing
  α), is below t; t = "mean" is the R² the training mean gets by leave-one-out, 1 − (n/(n−1))².

A gated fold predicts its training mean ("→ mean") or drops the network from its blend
("→ no network": ȳ + b (ŷ_ridge − ȳ)). Only the 36 TUNING maps; the held-out maps are not
touched. The network's fold predictions are those of the default (`GraphVAE(random_state=0)`,
as `bench_graphvae_maps.py`), cached with --cache; ridge, the nested-selected baseline and the
training mean are read from `graphvae_maps.csv`.

Writes benchmarks/results/graphvae_floor.md and .csv.

Run: CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1 .venv/bin/python
benchmarks/bench_graphvae_floor.py --cache /tmp/floor_cache
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _parts import write_atomic
from bench_graphvae_maps import COMMIT, groups, map_keys

from crossscale._format import markdown_table
from crossscale._progress import set_progress_enabled
from crossscale.atlas import RegionGraph
from crossscale.evaluate.cv import distance_blocked, out_of_fold
from crossscale.evaluate.metrics import r2_score
from crossscale.maps.catalog import load_map
from crossscale.models.graphvae import GraphVAE
from crossscale.models.graphvae._shrink import ridge_fit, ridge_loo
from crossscale.transcriptomics import load_default_expression

OUT = Path(__file__).parent / "results"
RULES = [("default (no gate)", None, None), ("ridge α = ∞ → mean", "alpha", "mean")] + [
    (f"nested LOO < {t} → {k}", t, k)
    for t in ("mean", 0.0, -0.05, -0.1, -0.15)
    for k in ("mean", "no network")
]


def fold_predictions(cache: Path) -> list[dict]:
    """Per (map, CV): the default's fold predictions, blend weights and training means (cached)."""
    set_progress_enabled(False)
    genes, _ = load_default_expression()
    maps = {k: load_map(k).astype(float) for k in map_keys("tuning")}
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for g, group in enumerate(groups(maps, genes)):
        regions = [r for r in genes.index if r in maps[group[0]].index and np.isfinite(maps[group[0]].loc[r])]
        X, graph = genes.loc[regions], RegionGraph.from_surface(regions)
        Y = pd.DataFrame({k: maps[k].loc[regions] for k in group})
        for cv, folds in (("spatial", distance_blocked(graph, 0.25)), ("loro", np.eye(len(regions), dtype=bool))):
            path = cache / f"group{g}_{cv}.npz"
            if not path.exists():
                est = GraphVAE(random_state=0, device="cpu")
                P = np.asarray(est.fit_predict_folds(X, Y, graph, folds))
                b = est._last_blend
                np.savez(path, P=P, weights=b["weights"], y_mean=b["y_mean"], commit=COMMIT)
                print(f"group {g} {cv}: fitted", flush=True)
            z = np.load(path)
            nf = len(folds)
            for j, key in enumerate(group):
                sl = slice(j * nf, (j + 1) * nf)
                out.append({"map": key, "cv": cv, "X": X.to_numpy(float), "y": Y[key].to_numpy(),
                            "folds": folds, "P": z["P"][j], "w": z["weights"][sl],
                            "mean": z["y_mean"][sl], "fitted_at": str(z["commit"])})  # fmt: skip
    return out


def ridge_tests(X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[bool, float]:
    """(α = ∞ chosen, nested leave-one-out R² of ridge) on the regions `rows`."""
    p = ridge_loo(X, y, rows)
    infinite = p["loo"].min() >= p["loo_mean"]
    yt = y[rows]
    n = len(yt)
    idx, pred = np.flatnonzero(rows), np.empty(n)
    for t, i in enumerate(idx):
        m = rows.copy()
        m[i] = False
        c, b0 = ridge_fit(X, y, m)
        pred[t] = X[i] @ c + b0
    return bool(infinite), float(1 - ((yt - pred) ** 2).sum() / ((yt - yt.mean()) ** 2).sum())


def mean_loo_r2(folds: np.ndarray) -> np.ndarray:
    """Per fold, the leave-one-out R² of the training mean on its n training regions: 1 − (n/(n−1))²."""
    n = (~folds).sum(1)
    return 1 - (n / (n - 1)) ** 2


def apply(r: dict, test: str | float | None, then: str | None) -> np.ndarray:
    if test is None:
        return r["P"]
    if test == "alpha":
        gate = r["alpha_inf"]
    else:
        gate = r["nested_loo"] < (mean_loo_r2(r["folds"]) if test == "mean" else test)
    m, b = r["mean"][:, None], r["w"][:, 1:]
    alt = m if then == "mean" else m + b * (r["ridge"] - m)
    return np.where(gate[:, None], alt, r["P"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/tmp/graphvae_floor_cache", help="folder of the fold predictions")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = fold_predictions(Path(args.cache))
    gates = Path(args.cache) / "gates.pkl"  # the ridge tests, deterministic: computed once
    known = pd.read_pickle(gates) if gates.exists() else {}
    for r in rows:
        key = (r["map"], r["cv"])
        if key not in known:
            tests = [ridge_tests(r["X"], r["y"], ~f) for f in r["folds"]]
            known[key] = (np.array([a for a, _ in tests]), np.array([s for _, s in tests]))
        r["alpha_inf"], r["nested_loo"] = known[key]
        r["ridge"] = np.array([r["X"] @ c + b0 for c, b0 in (ridge_fit(r["X"], r["y"], ~f) for f in r["folds"])])
    pd.to_pickle(known, gates)
    ref = pd.read_csv(OUT / "graphvae_maps.csv").pivot_table(index=["map", "cv"], columns="model", values="r2")
    per_map, table = [], []
    for name, test, then in RULES:
        for r in rows:
            per_map.append({"rule": name, "map": r["map"], "cv": r["cv"],
                            "r2": r2_score(r["y"], out_of_fold(apply(r, test, then), r["folds"]))})  # fmt: skip
        d = pd.DataFrame([p for p in per_map if p["rule"] == name]).set_index(["map", "cv"]).join(ref)
        row = {"rule": name}
        for cv in ("spatial", "loro"):
            s = d.xs(cv, level="cv")
            bad = s.index[s["r2"] < s["training mean"] - 0.05]
            row |= {f"{cv} mean R²": f"{s['r2'].mean():.3f}",
                    f"{cv} ≥ ridge": f"{int((s['r2'] >= s['Ridge'] - 1e-12).sum())}/{len(s)}",
                    f"{cv} ≥ nested": f"{int((s['r2'] >= s['nested-selected baseline'] - 1e-12).sum())}/{len(s)}",
                    f"{cv} bad": f"{len(bad)}", f"AD {cv}": f"{s.loc['adni2_ad_vol_baseline', 'r2']:.3f}"}  # fmt: skip
        table.append(row)
    pm = pd.DataFrame(per_map)
    t = pd.DataFrame(table)
    gvae = ref["GraphVAE (default)"]
    check = max(abs(pm[pm.rule == RULES[0][0]].set_index(["map", "cv"])["r2"] - gvae.loc[gvae.index]).dropna())
    OUT.mkdir(parents=True, exist_ok=True)
    pm.assign(commit=COMMIT).to_csv(OUT / "graphvae_floor.csv", index=False, float_format="%.4f")
    fitted = sorted({r["fitted_at"] for r in rows})
    shown = [RULES[0][0], RULES[1][0], "nested LOO < mean → mean", "nested LOO < -0.1 → mean"]
    wide = pm[pm.rule.isin(shown)].pivot_table(index=["map", "cv"], columns="rule", values="r2")[shown]
    wide = wide.join(ref[["Ridge", "training mean"]])
    med = {(r["map"], r["cv"]): float(np.median(r["nested_loo"])) for r in rows}
    share = {(r["map"], r["cv"]): float(np.mean(r["nested_loo"] < mean_loo_r2(r["folds"]))) for r in rows}
    wide["median nested LOO"] = [med[i] for i in wide.index]
    wide["folds gated (< mean)"] = [share[i] for i in wide.index]
    near = (wide[shown].min(axis=1) < wide["training mean"] - 0.05) | (wide["Ridge"] < 0)
    detail = wide[near].sort_values("Ridge")
    n_bad = {row["rule"]: {cv: int(row[f"{cv} bad"]) for cv in ("spatial", "loro")} for row in table}
    both = [name for name, b in n_bad.items() if b["spatial"] == 0 and b["loro"] == 0]
    worst = (wide[shown[2]] - wide[shown[0]]).idxmin()
    fail = [i for i in wide.index if wide.loc[i, shown[0]] < wide.loc[i, "training mean"] - 0.05 and share[i] < 0.5]
    reading = (
        ("no gate meets the floor in both CVs. " if not both else f"the floor is met in both CVs by {both}. ")
        + "A gate fires in every fold where the training regions carry no signal whichever region is "
        "left out, and such a map goes to its mean; on maps near zero it fires in some folds only, "
        "and which folds depends on the held-out region (leaving out an extreme region removes the "
        "signal), so the mean is predicted where it is worst: "
        f"{worst[0]} ({worst[1]}) {wide.loc[worst, shown[0]]:.3f} → {wide.loc[worst, shown[2]]:.3f} "
        f"with 'nested LOO < mean → mean' ({share[worst]:.0%} of folds gated). "
        + "".join(f"The default's failure {i[0]} ({i[1]}: {wide.loc[i, shown[0]]:.3f}, training mean "
                  f"{wide.loc[i, 'training mean']:.3f}) has median nested LOO {med[i]:.3f} on its "
                  f"training regions (gate in {share[i]:.0%} of folds): the map does not extrapolate "
                  "across the cortex, which no test inside the training regions sees. " for i in fail)
        + "No rule was adopted."
    )
    lines = [
        "# GraphVAE: gating a fold to its training mean by ridge on the training regions (36 tuning maps)",
        "",
        f"- commit: `{COMMIT}`; network fold predictions fitted at {', '.join(f'`{c}`' for c in fitted)} "
        f"(cache `{args.cache}`)",
        f"- command: `python benchmarks/bench_graphvae_floor.py {' '.join(sys.argv[1:])}`; "
        f"{(time.perf_counter() - t0) / 60:.1f} min (fits and ridge tests found in the cache are not "
        "re-run: filling it takes ~15 min of GraphVAE fits and ~5 min of ridge tests on one core)",
        "- maps: the 36 TUNING maps only; the 40 held-out maps were not looked at",
        "- default: `GraphVAE(random_state=0)` (its R² here equals `graphvae_maps.csv` within "
        f"{check:.1e}); ridge, nested-selected baseline and training mean from `graphvae_maps.csv`; "
        "'bad' = maps more than 0.05 below the training mean (issue 19's floor)",
        "- gates (per outer fold, from its training regions only): 'ridge α = ∞': ridge's "
        "leave-one-out error chooses the training mean over every penalty of `RIDGE_ALPHAS`; "
        "'nested LOO < t': the R² of ridge's leave-one-out predictions with the penalty chosen "
        "again without each left-out region is below t ('mean': 1 − (n/(n−1))², the training "
        "mean's own leave-one-out R²); '→ mean': the fold predicts its training mean; '→ no "
        "network': ȳ + b (ŷ_ridge − ȳ), the blend without the network",
        "",
        markdown_table(t),
        "",
        "## Maps near the floor (R², the default and three gates)",
        "",
        markdown_table(detail.reset_index(), float_format="{:.3f}"),
        "",
        f"Reading: {reading}",
        "",
    ]
    write_atomic(OUT / "graphvae_floor.md", "\n".join(lines))


if __name__ == "__main__":
    main()
