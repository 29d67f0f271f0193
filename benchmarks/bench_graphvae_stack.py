"""Stacking GraphVAE with ridge and the training mean by inner CV, measured on the 36 TUNING maps.

Issue 19 asks every hyper-parameter to be chosen by nested CV on training regions (or an evidence
criterion) and a default that on AD reaches LORO R² ≥ 0.70 / spatial ≥ 0.65 while keeping the
tuning-map aims. This ablation caches, per tuning map, CV protocol and outer fold:

- the network's out-of-fold predictions for seeds 0-4 (``shrinkage="none"``; ``--dump``, as
  bench_graphvae_fixed_blend.py does), and
- the inner-CV predictions of the network, ridge and the inner training mean on that outer fold's
  training regions (``--dump-inner --scheme S``), made exactly as ``_blend.fit_stack`` makes them
  for ``shrinkage="stack"``;

then evaluates blending rules ``ŷ = ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ)`` (fixed (a, b), or (a, b)
chosen per outer fold from its inner CV) with the network averaged over 1, 3 or 5 seeds.
``--write`` writes benchmarks/results/graphvae_stack.md and .csv (whole, stamped). The held-out
maps play no part.

Run (CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1):
    .venv/bin/python benchmarks/bench_graphvae_fixed_blend.py --dump --seeds 0 1 2 3 4 --cache /tmp/j19dump
    .venv/bin/python benchmarks/bench_graphvae_stack.py --dump-inner --scheme random10
    .venv/bin/python benchmarks/bench_graphvae_stack.py --write
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_graphvae_fixed_blend import cv_folds  # noqa: E402
from bench_graphvae_fixed_blend import inner_predictions as fixed_blend_inner  # noqa: E402
from bench_graphvae_maps import groups, map_keys  # noqa: E402

from crossscale._progress import set_progress_enabled  # noqa: E402
from crossscale.atlas import RegionGraph  # noqa: E402
from crossscale.evaluate.cv import out_of_fold  # noqa: E402
from crossscale.evaluate.metrics import r2_score  # noqa: E402
from crossscale.maps.catalog import load_map  # noqa: E402
from crossscale.models.graphvae._shrink import inner_folds, ridge_fit  # noqa: E402

COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
OUT = Path(__file__).parent / "results"
SCHEMES = {"blocks5": ("blocks", 5), "random10": ("random", 10), "random5": ("random", 5)}


def inner_predictions(X: pd.DataFrame, Y: pd.DataFrame, graph: RegionGraph, folds: np.ndarray,
                      seed: int, scheme: str) -> np.ndarray:
    """Inner-CV predictions of network, ridge and inner mean, shape (4, n_maps, n_folds, n_regions).

    As ``bench_graphvae_fixed_blend.inner_predictions`` with the inner folds of `scheme`; the 4th
    slice is the mask of each outer fold's training regions.
    """
    kind, k = SCHEMES[scheme]
    return fixed_blend_inner(X, Y, graph, folds, seed,
                             lambda c, m, r: inner_folds(c, m, k, seed + r, kind))  # fmt: skip


def dump_inner(args: argparse.Namespace) -> None:
    set_progress_enabled(False)
    from crossscale.transcriptomics import load_default_expression

    genes, _ = load_default_expression()
    maps = {k: load_map(k).astype(float) for k in map_keys("tuning")}
    t0 = time.perf_counter()
    for gi, group in enumerate(groups(maps, genes)):
        f = Path(args.cache) / f"g{gi}_inner_{args.scheme}.npz"
        if f.exists():
            continue
        regions = [r for r in genes.index if r in maps[group[0]].index and np.isfinite(maps[group[0]].loc[r])]
        X = genes.loc[regions]
        Y = pd.DataFrame({k: maps[k].loc[regions] for k in group})
        graph = RegionGraph.from_surface(regions)
        np.savez(f, **{cv: inner_predictions(X, Y, graph, folds, 0, args.scheme)
                       for cv, folds in cv_folds(graph, len(regions)).items()})  # fmt: skip
        print(f"group {gi} inner {args.scheme}: {time.perf_counter() - t0:.0f} s", flush=True)


def components(args: argparse.Namespace) -> list[dict]:
    """Per (map group, CV): targets, folds, network predictions per seed, per-fold ridge and mean,
    and the inner-CV predictions of every dumped scheme. Ridge/mean cached in ``base.pkl``."""
    from crossscale.transcriptomics import load_default_expression

    cache = Path(args.cache) / "base.pkl"
    if cache.exists():
        out = pickle.loads(cache.read_bytes())
    else:
        genes, _ = load_default_expression()
        out = []
        for f in sorted(p for p in Path(args.cache).glob("g*_s0.npz")):
            gi = f.name.split("_")[0]
            d = np.load(f)
            regions = list(d["regions"])
            values = genes.loc[regions].to_numpy(float)
            graph = RegionGraph.from_surface(regions)
            for cv, folds in cv_folds(graph, len(regions)).items():
                Y = np.array([load_map(str(k)).astype(float).loc[regions].to_numpy() for k in d["maps"]])
                ridge = np.empty((len(Y), len(folds), len(regions)))
                mean = np.empty_like(ridge)
                for j, y in enumerate(Y):
                    for i, te in enumerate(folds):
                        c, b0 = ridge_fit(values, y, ~te)
                        ridge[j, i] = values @ c + b0
                        mean[j, i] = y[~te].mean()
                out.append({"g": gi, "maps": [str(k) for k in d["maps"]], "cv": cv, "folds": folds,
                            "y": Y, "ridge": ridge, "mean": mean})  # fmt: skip
        cache.write_bytes(pickle.dumps(out))
    for c in out:
        regions = list(np.load(Path(args.cache) / f"{c['g']}_s0.npz")["regions"])
        c["laplacian"] = RegionGraph.from_surface(regions).laplacian().toarray()
        c["nets"] = {g.name[len(c["g"]) + 2:-4]: np.load(g)[c["cv"]]
                     for g in Path(args.cache).glob(f"{c['g']}_s*.npz")}  # fmt: skip
        c["inner"] = {}
        for s in SCHEMES:
            f = Path(args.cache) / f"{c['g']}_inner_{s}.npz"
            if f.exists():
                c["inner"][s] = np.load(f)[c["cv"]]
    return out


FLOORS = (0.05, 0.1, 0.15, 0.2, 0.3)
GRID = np.array([(a, b) for a in np.round(np.arange(0, 1.01, 0.1), 2)
                 for b in np.round(np.arange(0, 1.01, 0.1), 2) if a + b <= 1.0 + 1e-9])  # fmt: skip


def rule_predictions(c: dict, j: int, rule: dict) -> np.ndarray | None:
    """Predictions (n_folds, n_regions) of one rule for map j of component c (None: not dumped).

    ``rule["krige"]``: add to held-out regions the harmonic interpolation of the training
    residuals (as ``spatial_residual=True``)."""
    p = _rule_predictions(c, j, rule)
    if p is None or not rule.get("krige"):
        return p
    from crossscale.models._spatial import harmonic_interpolation

    T = np.tile(c["y"][j], (len(p), 1))
    add = np.where(c["folds"], harmonic_interpolation(c["laplacian"], T - p, c["folds"]), 0.0)
    if rule["krige"] == "first":  # only the folds whose inner CV chose the first candidate
        add = add * (rule["_chosen"] == 0)[:, None]
    return p + add


def _rule_predictions(c: dict, j: int, rule: dict) -> np.ndarray | None:
    seeds = [str(s) for s in rule.get("seeds", (0,))]
    if any(s not in c["nets"] for s in seeds):
        return None
    net = np.mean([c["nets"][s][j] for s in seeds], axis=0)
    ridge, mean, y = c["ridge"][j], c["mean"][j], c["y"][j]
    if rule["kind"] == "fixed":
        a, b = rule["w"]
        return mean + a * (net - mean) + b * (ridge - mean)
    if rule["scheme"] not in c["inner"]:
        return None
    v, r, m, tr = c["inner"][rule["scheme"]][:, j]
    cands = np.asarray(rule.get("candidates", GRID), float)
    lam, prior = rule.get("lam", 0.0), np.asarray(rule.get("prior", (0.0, 0.0)))
    out = np.empty_like(net)
    chosen = np.zeros(len(net), dtype=int)
    for i in range(len(net)):
        w = tr[i].astype(bool)
        dv, dr, dy = (v[i] - m[i])[w], (r[i] - m[i])[w], (y - m[i])[w]
        sse = ((dy[None] - cands[:, :1] * dv[None] - cands[:, 1:] * dr[None]) ** 2).sum(1)
        sse = sse / (dy**2).sum()
        pen = sse + lam * ((cands - prior) ** 2).sum(1)
        chosen[i] = int(np.argmin(pen))
        if chosen[i] == 0 and 1.0 - sse[0] < rule.get("min_r2", -np.inf):  # as _shrink.choose_blend
            chosen[i] = 1 + int(np.argmin(pen[1:]))
        a, b = cands[chosen[i]]
        # 'floor τ': the training mean where the chosen blend's inner-CV R² is below τ;
        # 'soft': its deviation from the mean scaled by clip(R² / τ, 0, 1)
        k = 1.0
        if "floor" in rule:
            r2 = 1.0 - sse[chosen[i]]
            k = float(np.clip(r2 / rule["floor"], 0.0, 1.0)) if rule.get("soft") else float(r2 >= rule["floor"])
        out[i] = mean[i] + k * (a * (net[i] - mean[i]) + b * (ridge[i] - mean[i]))
    rule["_chosen"] = chosen
    return out


def rules() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for k, seeds in ((1, (0,)), (3, (0, 1, 2)), (5, (0, 1, 2, 3, 4))):
        sfx = "" if k == 1 else f", {k} seeds"
        for a, b in GRID:
            out[f"fixed {a:.1f}/{b:.1f}{sfx}"] = {"kind": "fixed", "w": (float(a), float(b)), "seeds": seeds}
        for s in SCHEMES:
            out[f"stack {s}{sfx}"] = {"kind": "stack", "scheme": s, "seeds": seeds}
            for lam in (0.03, 0.1, 0.3):
                out[f"stack {s}, penalty {lam} to 0.3/0.6{sfx}"] = {
                    "kind": "stack", "scheme": s, "seeds": seeds, "lam": lam, "prior": (0.3, 0.6)}
            for nm, cands in (("C2", [(0.8, 0.2), (0.3, 0.6)]), ("C3", [(1.0, 0.0), (0.6, 0.3), (0.3, 0.6)]),
                              ("C3m", [(0.8, 0.2), (0.3, 0.6), (0.0, 0.0)]),
                              ("C4", [(1.0, 0.0), (0.7, 0.3), (0.3, 0.6), (0.0, 0.5)])):
                out[f"stack {s}, choose {nm}{sfx}"] = {"kind": "stack", "scheme": s, "seeds": seeds,
                                                       "candidates": cands}  # fmt: skip
                out[f"stack {s}, choose {nm}{sfx}, kriged"] = {"kind": "stack", "scheme": s, "seeds": seeds,
                                                               "candidates": cands, "krige": True}  # fmt: skip
            for nm, cands in (("C2a", [(0.8, 0.2), (0.3, 0.6)]), ("C2b", [(0.9, 0.1), (0.3, 0.6)]),
                              ("C2c", [(1.0, 0.0), (0.3, 0.6)]), ("C2d", [(0.7, 0.3), (0.3, 0.6)])):
                for margin in (0.0, 0.01, 0.02, 0.05):
                    lam = margin / float(((np.subtract(cands[0], cands[1])) ** 2).sum())
                    out[f"stack {s}, choose {nm}, margin {margin}{sfx}"] = {
                        "kind": "stack", "scheme": s, "seeds": seeds, "candidates": cands, "lam": lam,
                        "prior": cands[1]}
                    out[f"stack {s}, choose {nm}, margin {margin}{sfx}, first kriged"] = {
                        "kind": "stack", "scheme": s, "seeds": seeds, "candidates": cands, "lam": lam,
                        "prior": cands[1], "krige": "first"}
            for g in (0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
                for kr, ksfx in ((None, ""), ("first", ", first kriged")):
                    out[f"stack {s}, choose C2a, min R² {g}{sfx}{ksfx}"] = {
                        "kind": "stack", "scheme": s, "seeds": seeds, "candidates": [(0.8, 0.2), (0.3, 0.6)],
                        "min_r2": g, "krige": kr}
            for tau in FLOORS:  # third round: shrink to the mean where the inner CV finds no signal
                for soft in (False, True):
                    out[f"stack {s}, choose C2a, min R² 0.5, {'soft ' if soft else ''}floor {tau}{sfx}, first kriged"] = {
                        "kind": "stack", "scheme": s, "seeds": seeds, "candidates": [(0.8, 0.2), (0.3, 0.6)],
                        "min_r2": 0.5, "krige": "first", "floor": tau, "soft": soft}
        for a, b in ((1.0, 0.0), (0.3, 0.6), (0.5, 0.4), (0.8, 0.2)):
            out[f"fixed {a:.1f}/{b:.1f}{sfx}, kriged"] = {"kind": "fixed", "w": (a, b), "seeds": seeds, "krige": True}
    return out


def evaluate(args: argparse.Namespace) -> pd.DataFrame:
    comps = components(args)
    ref = pd.read_csv(OUT / "benchmark_maps.csv")
    ref["model"] = ref["model"].replace({"Best baseline (nested CV)": "nested-selected baseline"})
    ref = ref.set_index(["map", "model"])
    rows = []
    for c in comps:
        for j, key in enumerate(c["maps"]):
            y, folds = c["y"][j], c["folds"]
            base = {"map": key, "cv": c["cv"],
                    "ridge": r2_score(y, out_of_fold(c["ridge"][j], folds)),
                    "mean": r2_score(y, out_of_fold(c["mean"][j], folds)),
                    "nested": float(ref.loc[(key, "nested-selected baseline"), f"{c['cv']}_r2"])}
            for name, rule in rules().items():
                p = rule_predictions(c, j, rule)
                if p is not None:
                    rows.append(base | {"rule": name, "r2": r2_score(y, out_of_fold(p, folds))})
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for rule, g in df.groupby("rule", sort=False):
        if len(g) != 72:
            continue
        r = {"rule": rule}
        for cv in ("spatial", "loro"):
            h = g[g.cv == cv].set_index("map")
            r[f"{cv} mean"] = h.r2.mean()
            r[f"{cv} ≥ridge"] = int((h.r2 >= h.ridge - 1e-4).sum())
            r[f"{cv} ≥nested"] = int((h.r2 >= h.nested).sum())
            r[f"{cv} bad"] = int((h.r2 < h["mean"] - 0.05).sum())
            r[f"{cv} AD"] = h.r2.get("adni2_ad_vol_baseline", np.nan)
        out.append(r)
    return pd.DataFrame(out).set_index("rule")


PREVIOUS = "stack random10, choose C2a, margin 0.0, 3 seeds, first kriged"
CHOSEN = "stack random10, choose C2a, min R² 0.5, 3 seeds, first kriged"
SHOWN = [
    ("fixed 1.0/0.0", "network alone (one member)"),
    ("fixed 1.0/0.0, 3 seeds", "network alone, mean of 3 seeds"),
    ("fixed 0.0/1.0", "ridge (the blend's own)"),
    ("fixed 0.3/0.6", "fixed 0.3/0.6 (previous default), one member"),
    ("fixed 0.3/0.6, 3 seeds", "fixed 0.3/0.6, 3 seeds"),
    ("fixed 0.8/0.2, 3 seeds", "fixed 0.8/0.2, 3 seeds"),
    ("fixed 0.3/0.6, 3 seeds, kriged", "fixed 0.3/0.6, 3 seeds, every model kriged"),
    ("fixed 0.8/0.2, 3 seeds, kriged", "fixed 0.8/0.2, 3 seeds, every model kriged"),
    ("stack random10", "free (a, b) on the 0.1 grid by random 10-fold inner CV, one member"),
    ("stack random10, 3 seeds", "free (a, b) on the 0.1 grid by random 10-fold inner CV, 3 seeds"),
    ("stack random10, choose C2a, margin 0.0", "choose (0.8, 0.2) or (0.3, 0.6), one member"),
    ("stack random10, choose C2a, margin 0.0, 3 seeds", "choose (0.8, 0.2) or (0.3, 0.6), 3 seeds"),
    ("stack random10, choose C2a, margin 0.0, 5 seeds", "choose (0.8, 0.2) or (0.3, 0.6), 5 seeds"),
    ("stack random10, choose C2a, margin 0.01, 3 seeds", "same, (0.8, 0.2) only when better by 0.01 of Σ(y − ȳ)², 3 seeds"),
    ("stack random10, choose C2a, margin 0.05, 3 seeds", "same, margin 0.05, 3 seeds"),
    ("stack random10, choose C2b, margin 0.0, 3 seeds", "choose (0.9, 0.1) or (0.3, 0.6), 3 seeds"),
    ("stack random10, choose C2c, margin 0.0, 3 seeds", "choose (1, 0) or (0.3, 0.6), 3 seeds"),
    ("stack random10, choose C2d, margin 0.0, 3 seeds", "choose (0.7, 0.3) or (0.3, 0.6), 3 seeds"),
    ("stack random10, choose C3, 3 seeds", "choose (1, 0), (0.6, 0.3) or (0.3, 0.6), 3 seeds"),
    ("stack random10, choose C3m, 3 seeds", "choose (0.8, 0.2), (0.3, 0.6) or the mean, 3 seeds"),
    ("stack random10, choose C4, 3 seeds", "choose (1, 0), (0.7, 0.3), (0.3, 0.6) or (0, 0.5), 3 seeds"),
    ("stack random10, choose C2, 3 seeds, kriged", "choose (0.8, 0.2) or (0.3, 0.6), 3 seeds, every model kriged"),
    (PREVIOUS, "choose (0.8, 0.2) or (0.3, 0.6), 3 seeds, network-led models kriged (the default until the threshold)"),
    ("stack random10, choose C2a, margin 0.0, 5 seeds, first kriged", "the same, 5 seeds"),
    ("stack random10, choose C2a, margin 0.0, first kriged", "the same, one member"),
    ("stack random10, choose C2b, margin 0.0, 3 seeds, first kriged", "choose (0.9, 0.1) or (0.3, 0.6), 3 seeds, network-led kriged"),
    ("stack random10, choose C2a, margin 0.05, 3 seeds, first kriged", "choose (0.8, 0.2) or (0.3, 0.6) with margin 0.05, 3 seeds, network-led kriged"),
    *((f"stack random10, choose C2a, min R² {g}, 3 seeds, first kriged",
       f"the same, (0.8, 0.2) only where its inner-CV R² ≥ {g}, network-led kriged") for g in (0.3, 0.4, 0.45)),
    (CHOSEN, "**the same, (0.8, 0.2) only where its inner-CV R² ≥ 0.5, network-led kriged (the default)**"),
    *((f"stack random10, choose C2a, min R² {g}, 3 seeds, first kriged",
       f"the same, (0.8, 0.2) only where its inner-CV R² ≥ {g}, network-led kriged") for g in (0.55, 0.6, 0.65, 0.7)),
    ("stack random10, choose C2a, min R² 0.5, 3 seeds", "(0.8, 0.2) only where its inner-CV R² ≥ 0.5, no kriging"),
    *((f"stack random10, choose C2a, min R² 0.5, floor {t}, 3 seeds, first kriged",
       f"the default, and the training mean where the chosen blend's inner-CV R² < {t}") for t in FLOORS),
    *((f"stack random10, choose C2a, min R² 0.5, soft floor {t}, 3 seeds, first kriged",
       f"the default, its deviation from the mean scaled by clip(inner-CV R² / {t}, 0, 1)") for t in FLOORS),
]


def write(df: pd.DataFrame, summary: pd.DataFrame, args: argparse.Namespace) -> None:
    """benchmarks/results/graphvae_stack.md (chosen rows) and .csv (every rule), whole."""
    lines = [
        "# GraphVAE: blends chosen by inner CV on each model's training regions (36 tuning maps)",
        "",
        f"- commit: `{COMMIT}`",
        "- command: `python benchmarks/bench_graphvae_stack.py --write` (after `python "
        "benchmarks/bench_graphvae_fixed_blend.py --dump --seeds 0 1 2 3 4 --cache /tmp/j19dump` and "
        "`python benchmarks/bench_graphvae_stack.py --dump-inner --scheme random10`, which cache the "
        "network's out-of-fold predictions per seed and the inner-CV predictions)",
        "- maps: the 36 TUNING maps only (ADNI2 AD/LMCI/EMCI baseline + 33 ENIGMA thickness); the 40 "
        "held-out maps play no part in any row",
        "- R²: explained variance of out-of-fold predictions; spatial = distance-blocked CV (nearest "
        "25% of the hemisphere held out), LORO = leave one region out; ridge as the blend's own "
        "(`_shrink.ridge_fit`), nested-selected baseline from benchmark_maps.csv; 'bad' = maps more "
        "than 0.05 below the training mean",
        "- every rule predicts ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ) per outer fold; 'choose': (a, b) is "
        "the candidate with the smallest squared error of the inner-CV predictions (10 random folds of "
        "the outer fold's training regions, one network per inner model, seed 0; `_blend.fit_stack` "
        "with `shrinkage=\"stack\"`); 'margin m': the first candidate must win by m Σ(y − ȳ)²; "
        "'N seeds': the network's outer predictions averaged over seeds 0..N-1 (as `n_ensemble=N`); "
        "'kriged': the harmonic interpolation of the training residuals added at held-out regions "
        "(`spatial_residual`), for every model or only where the network-led blend was chosen",
        f"- rules evaluated: {summary.shape[0]} (all in graphvae_stack.csv); the choice below was made "
        "after seeing them, on these maps only (disclosed): a rule that meets the AD aims (LORO ≥ "
        "0.70, spatial ≥ 0.65, above PLS-4's 0.650 / 0.627) with tuning-set means above ridge and "
        "the nested-selected baseline, kriging only the network-led models on the hypothesis that "
        "kriging costs the ridge-led (weak) maps in LORO; the row 'every model kriged' has higher "
        "tuning means (0.308 / 0.298 vs 0.293 / 0.294) at one more map below the floor in LORO and "
        "was not chosen (`spatial_residual=True` gives it); no rule of that first round met both "
        "the AD aims and ≥ 24/36 maps at or above ridge in LORO",
        "- second round (the 'min R²' rows): the network-led blend only where its own inner-CV R² "
        "reaches a threshold (`_shrink.STACK_MIN_R2`). Disclosed: the idea came after the held-out "
        "set's third look (`graphvae_maps_heldout.md`, a954782) showed the previous default losing to "
        "ridge on weak never-tuned maps; the threshold was chosen on these 36 maps only: 0.5–0.6 "
        "meet the AD aims and 2/3 of maps at or above ridge in both CVs, 0.65 loses AD's LORO "
        "(0.693); 0.5 was taken, the farthest from that edge",
        "- third round (the 'floor' rows, after the default): can the inner CV detect a map with no "
        "signal and fall back to the training mean, so that no map is more than 0.05 below it (issue "
        "19's floor)? Evaluated on these 36 maps only; the held-out set was not looked at. Result: a "
        "threshold that removes every map below the floor in both CVs (hard 0.2) costs the maps at "
        "or above ridge (19/36 spatial, 17/36 LORO) and LORO's mean falls below ridge's; milder "
        "thresholds move the failures between maps (LORO failures rise at 0.05-0.1: predicting the "
        "mean in some LORO folds and the model in others is worse than either). No floor rule was "
        "adopted; the floor aim stays missed",
        "",
        "| rule | spatial mean R² | spatial ≥ ridge | spatial ≥ nested | spatial bad | AD spatial | "
        "LORO mean R² | LORO ≥ ridge | LORO ≥ nested | LORO bad | AD LORO |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, desc in SHOWN:
        if r not in summary.index:
            continue
        x = summary.loc[r]
        lines.append(
            f"| {desc} | {x['spatial mean']:.3f} | {int(x['spatial ≥ridge'])}/36 | {int(x['spatial ≥nested'])}/36 "
            f"| {int(x['spatial bad'])} | {x['spatial AD']:.3f} | {x['loro mean']:.3f} | {int(x['loro ≥ridge'])}/36 "
            f"| {int(x['loro ≥nested'])}/36 | {int(x['loro bad'])} | {x['loro AD']:.3f} |"
        )
    base = df.drop_duplicates(["map", "cv"]).groupby("cv")
    lines += ["", "Ridge mean R² (spatial / LORO): "
              f"{base.ridge.mean()['spatial']:.3f} / {base.ridge.mean()['loro']:.3f}; nested-selected: "
              f"{base.nested.mean()['spatial']:.3f} / {base.nested.mean()['loro']:.3f}. Issue 19's "
              "free inner-CV weights with 5 spatial blocks (`shrinkage=\"auto\"`): 0.276 / 0.282, AD "
              "0.603 / 0.647 (graphvae_fixed_blend.md).", ""]  # fmt: skip
    stamped = summary.assign(commit=COMMIT, command="python benchmarks/bench_graphvae_stack.py "
                             + " ".join(sys.argv[1:]), scheme=args.scheme)  # fmt: skip
    tmp_csv = OUT / ".graphvae_stack.csv.tmp"
    stamped.to_csv(tmp_csv, float_format="%.4f")
    tmp_csv.replace(OUT / "graphvae_stack.csv")
    tmp = OUT / ".graphvae_stack.md.tmp"
    tmp.write_text("\n".join(lines))
    tmp.replace(OUT / "graphvae_stack.md")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump-inner", action="store_true")
    ap.add_argument("--scheme", choices=list(SCHEMES), default="random10")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--cache", default="/tmp/j19dump")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    if args.dump_inner:
        return dump_inner(args)
    df = evaluate(args)
    df.to_csv(Path(args.cache) / "stack_rules.csv", index=False)
    s = summarise(df)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 500)
    print(s.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.write:
        write(df, s, args)


if __name__ == "__main__":
    main()
