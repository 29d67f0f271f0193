"""Which blend of GraphVAE with ridge and the training mean, chosen on the 36 TUNING maps only.

Issue 19's nested-CV blend (``shrinkage="auto"``: weights (a, b) chosen per fold by an inner
5-block spatial CV on 68 regions) is noisy: on AD it fell from the network's 0.700 / 0.669 to
0.656 / 0.599 (LORO / spatial). This ablation measures, on the tuning maps only (never the
held-out surface-area / follow-up maps), fixed-weight blends

    ŷ = ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ)

with (a, b) on a grid, against inner-CV rules (issue 19's two free weights, penalised weights, a
choice among a few fixed blends, one shrinkage factor towards ȳ, a gate to ȳ), network variants
and averages over seeds.

Step 1 (``--dump``): the network alone (``shrinkage="none"``, the defaults otherwise) per map, CV
and seed (``--inner``: also the inner-CV predictions, as ``_stack.fit_stack`` makes them);
out-of-fold predictions cached as npz under ``--cache``. Step 2: per-fold ridge (the blend's own
ridge, ``_shrink.ridge_fit``), every rule evaluated; ``--write`` writes
benchmarks/results/graphvae_fixed_blend.md and .csv (whole, stamped).

Run (CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1, ~25 min on a shared 2-core machine):
     .venv/bin/python benchmarks/bench_graphvae_fixed_blend.py --dump --seeds 0 1 2
     .venv/bin/python benchmarks/bench_graphvae_fixed_blend.py --dump --inner --seeds 0
     .venv/bin/python benchmarks/bench_graphvae_fixed_blend.py --dump --seeds 0 --tag _wd3   (each of OVERRIDES)
     .venv/bin/python benchmarks/bench_graphvae_fixed_blend.py --write
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_graphvae_maps import groups, map_keys  # noqa: E402

from crossscale._progress import set_progress_enabled  # noqa: E402
from crossscale.atlas import RegionGraph  # noqa: E402
from crossscale.evaluate.cv import distance_blocked, out_of_fold  # noqa: E402
from crossscale.evaluate.metrics import r2_score as explained_variance  # noqa: E402
from crossscale.maps.catalog import load_map  # noqa: E402
from crossscale.models.graphvae import GraphVAE  # noqa: E402
from crossscale.models.graphvae._shrink import INNER_FOLDS, inner_blocks, ridge_fit  # noqa: E402
from crossscale.transcriptomics import load_default_expression  # noqa: E402

COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
OUT = Path(__file__).parent / "results"


#: network variants (``--tag``): parameters changed from the defaults
OVERRIDES: dict[str, dict] = {
    "_wd3": {"weight_decay": 3.0},
    "_ep200": {"max_epochs": 200, "min_epochs": 200},
    "_alpha1": {"expression_weight": 1.0},
    "_lr01": {"lr": 0.01},
}


def cv_folds(graph: RegionGraph, n: int) -> dict[str, np.ndarray]:
    return {"spatial": distance_blocked(graph, 0.25), "loro": np.eye(n, dtype=bool)}


def inner_predictions(X: pd.DataFrame, Y: pd.DataFrame, graph: RegionGraph, folds: np.ndarray,
                      seed: int, make_inner=None) -> np.ndarray:
    """Inner-CV predictions, as ``_stack.fit_stack`` makes them, shape (4, n_maps, n_folds, n_regions).

    For every (map, outer fold): 5 k-means blocks of its training regions; the out-of-block
    predictions of the network (trained as ``fit_stack`` trains its inner models), of ridge and of
    the inner training mean, and a mask of the outer training regions. `make_inner` (coords,
    training mask, row) -> inner test masks replaces the 5 blocks (``bench_graphvae_stack.py``).
    """
    from crossscale.models.graphvae._stack import fit_network_stack

    est = GraphVAE(random_state=seed, device="cpu", shrinkage="none")
    values = X.to_numpy(float)
    Ya = Y.to_numpy().T
    n_maps, n_folds = Ya.shape[0], len(folds)
    T = np.repeat(Ya, n_folds, axis=0)
    train_masks = np.tile(~folds, (n_maps, 1))
    coords = np.asarray(graph.coords, dtype=float)
    if make_inner is None:  # (coords, training mask, row) -> inner test masks
        def make_inner(c, m, r):
            return inner_blocks(c, m, INNER_FOLDS, seed + r)
    inner = [make_inner(coords, m, r) for r, m in enumerate(train_masks)]
    itest = np.concatenate(inner)
    itrain = np.concatenate([m[None] & ~b for m, b in zip(train_masks, inner, strict=True)])
    owner = np.repeat(np.arange(len(T)), [len(b) for b in inner])
    ipred = fit_network_stack(est, values, T[owner], itrain, graph, protocol="inductive",
                              seed=seed + 1, description="inner", device="cpu")[4]  # fmt: skip
    n = T.shape[1]
    out = np.zeros((4, len(T), n))
    for r in range(len(T)):
        for j in np.flatnonzero(owner == r):
            te, tr = itest[j], itrain[j]
            out[0, r, te] = ipred[j][te]
            c, b0 = ridge_fit(values, T[r], tr)
            out[1, r, te] = values[te] @ c + b0
            out[2, r, te] = T[r][tr].mean()
        out[3, r] = train_masks[r]
    return out.reshape(4, n_maps, n_folds, n)


def dump(args: argparse.Namespace) -> None:
    set_progress_enabled(False)
    genes, _ = load_default_expression()
    keys = map_keys("tuning")
    maps = {k: load_map(k).astype(float) for k in keys}
    t0 = time.perf_counter()
    for gi, group in enumerate(groups(maps, genes)):
        regions = [r for r in genes.index if r in maps[group[0]].index and np.isfinite(maps[group[0]].loc[r])]
        X = genes.loc[regions]
        Y = pd.DataFrame({k: maps[k].loc[regions] for k in group})
        graph = RegionGraph.from_surface(regions)
        for seed in args.seeds:
            f = Path(args.cache) / f"g{gi}_s{seed}{args.tag}.npz"
            if f.exists() and not (args.inner and seed == args.seeds[0]
                                   and not (Path(args.cache) / f"g{gi}_inner_s{seed}.npz").exists()):
                continue
            out = {}
            for cv, folds in cv_folds(graph, len(regions)).items():
                est = GraphVAE(random_state=seed, device="cpu", shrinkage="none", **OVERRIDES.get(args.tag, {}))
                out[cv] = np.asarray(est.fit_predict_folds(X, Y, graph, folds))
            np.savez(f, spatial=out["spatial"], loro=out["loro"], maps=np.array(group), regions=np.array(regions))
            if args.inner and seed == args.seeds[0]:
                np.savez(Path(args.cache) / f"g{gi}_inner_s{seed}.npz",
                         **{cv: inner_predictions(X, Y, graph, folds, seed)
                            for cv, folds in cv_folds(graph, len(regions)).items()})  # fmt: skip
            print(f"group {gi} seed {seed}: {len(group)} maps, {time.perf_counter() - t0:.0f} s", flush=True)


GRID = np.array([(a, b) for a in np.round(np.arange(0, 1.01, 0.1), 2)
                 for b in np.round(np.arange(0, 1.01, 0.1), 2) if a + b <= 1.0 + 1e-9])  # fmt: skip
STEPS = np.round(np.arange(0, 1.01, 0.1), 2)


def components(args: argparse.Namespace) -> list[dict]:
    """Per (map group, CV): targets, folds, the network's out-of-fold predictions per seed, per-fold
    ridge and training mean, and (when dumped) the inner-CV predictions. Cached."""
    import pickle

    cache = Path(args.cache) / "components.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    genes, _ = load_default_expression()
    out = []
    for f in sorted(p for p in Path(args.cache).glob("g*_s0.npz") if "inner" not in p.name):
        gi = f.name.split("_")[0]
        d = np.load(f)
        regions = list(d["regions"])
        values = genes.loc[regions].to_numpy(float)
        graph = RegionGraph.from_surface(regions)
        inner_f = Path(args.cache) / f"{gi}_inner_s0.npz"
        inner = np.load(inner_f) if inner_f.exists() else None
        for cv, folds in cv_folds(graph, len(regions)).items():
            Y = np.array([load_map(str(k)).astype(float).loc[regions].to_numpy() for k in d["maps"]])
            ridge = np.empty((len(Y), len(folds), len(regions)))
            mean = np.empty_like(ridge)
            for j, y in enumerate(Y):
                for i, te in enumerate(folds):
                    c, b0 = ridge_fit(values, y, ~te)
                    ridge[j, i] = values @ c + b0
                    mean[j, i] = y[~te].mean()
            nets = {g.name[len(gi) + 2:-4]: np.load(g)[cv]
                    for g in Path(args.cache).glob(f"{gi}_s*.npz")}  # fmt: skip
            out.append({"maps": [str(k) for k in d["maps"]], "cv": cv, "folds": folds, "y": Y,
                        "ridge": ridge, "mean": mean, "nets": nets,
                        "inner": None if inner is None else inner[cv]})  # fmt: skip
        print(f"{gi} components", flush=True)
    if all(c["inner"] is not None for c in out):
        cache.write_bytes(pickle.dumps(out))
    return out


def _sse(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (((y - p) ** 2) * w).sum(-1)


def rule_predictions(c: dict, j: int, rule: dict) -> np.ndarray:
    """Out-of-fold-ready predictions (n_folds, n_regions) of one blend rule for map j of c."""
    seeds = rule.get("seeds", (0,))
    net = np.mean([c["nets"][str(s)][j] for s in seeds], axis=0)
    ridge, mean, y = c["ridge"][j], c["mean"][j], c["y"][j]
    kind = rule["kind"]
    if kind == "fixed":
        a, b = rule["w"]
        return mean + a * (net - mean) + b * (ridge - mean)
    v, r, m, tr = c["inner"][:, j]  # inner predictions, (n_folds, n_regions) each
    if kind == "auto":  # the nested-CV (a, b) of issue 19 (`_shrink.blend_weights`)
        lam, prior = rule.get("lam", 0.0), np.asarray(rule.get("prior", (0.0, 0.0)))
        out = np.empty_like(net)
        for i in range(len(net)):
            w = tr[i].astype(bool)
            dv, dr, dy = (v[i] - m[i])[w], (r[i] - m[i])[w], (y - m[i])[w]
            sse = ((dy[None] - GRID[:, :1] * dv[None] - GRID[:, 1:] * dr[None]) ** 2).sum(1)
            sse = sse / (dy**2).sum() + lam * ((GRID - prior) ** 2).sum(1)
            a, b = GRID[int(np.argmin(sse))]
            out[i] = mean[i] + a * (net[i] - mean[i]) + b * (ridge[i] - mean[i])
        return out
    if kind == "choose":  # one of a few fixed blends, by the inner CV
        cands = np.asarray(rule["candidates"], float)
        out = np.empty_like(net)
        for i in range(len(net)):
            w = tr[i].astype(bool)
            dv, dr, dy = (v[i] - m[i])[w], (r[i] - m[i])[w], (y - m[i])[w]
            sse = ((dy[None] - cands[:, :1] * dv[None] - cands[:, 1:] * dr[None]) ** 2).sum(1)
            a, b = cands[int(np.argmin(sse))]
            out[i] = mean[i] + a * (net[i] - mean[i]) + b * (ridge[i] - mean[i])
        return out
    if kind in ("scale", "gate"):  # the fixed blend, shrunk by one factor s from the inner CV
        a, b = rule["w"]
        inner_blend = m + a * (v - m) + b * (r - m)
        fixed = mean + a * (net - mean) + b * (ridge - mean)
        steps = STEPS if kind == "scale" else np.array([0.0, 1.0])
        tau = rule.get("tau", 0.0)
        out = np.empty_like(net)
        for i in range(len(net)):
            w = tr[i].astype(bool)
            d, dy = (inner_blend[i] - m[i])[w], (y - m[i])[w]
            if kind == "gate":  # the mean only when the blend's inner-CV R² is below tau
                s = float(1 - ((dy - d) ** 2).sum() / (dy**2).sum() >= tau)
            else:
                s = steps[int(np.argmin(((dy[None] - steps[:, None] * d[None]) ** 2).sum(1)))]
            out[i] = mean[i] + s * (fixed[i] - mean[i])
        return out
    raise ValueError(kind)


def evaluate(args: argparse.Namespace) -> None:
    comps = components(args)
    ref = pd.read_csv(OUT / "benchmark_maps.csv")
    ref["model"] = ref["model"].replace({"Best baseline (nested CV)": "nested-selected baseline"})
    ref = ref.set_index(["map", "model"])
    rows = []
    rules = RULES if not args.rules else {k: v for k, v in RULES.items() if k in args.rules}
    for c in comps:
        for j, key in enumerate(c["maps"]):
            y, folds = c["y"][j], c["folds"]
            base = {"map": key, "cv": c["cv"],
                    "ridge": explained_variance(y, out_of_fold(c["ridge"][j], folds)),
                    "mean": explained_variance(y, out_of_fold(c["mean"][j], folds)),
                    "nested": float(ref.loc[(key, "nested-selected baseline"), f"{c['cv']}_r2"])}
            for name, rule in rules.items():
                if rule["kind"] != "fixed" and c["inner"] is None:
                    continue
                if any(str(s) not in c["nets"] for s in rule.get("seeds", (0,))):
                    continue
                r2 = explained_variance(y, out_of_fold(rule_predictions(c, j, rule), folds))
                rows.append(base | {"rule": name, "r2": r2})
    df = pd.DataFrame(rows)
    df.to_csv(Path(args.cache) / "rules.csv", index=False)
    summary = summarise(df)
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.write:
        write(df, summary, args)


def write(df: pd.DataFrame, summary: pd.DataFrame, args: argparse.Namespace) -> None:
    """benchmarks/results/graphvae_fixed_blend.md (chosen rows) and .csv (every rule), whole."""
    grid = summary[summary.index.str.match(r"^fixed \d\.\d/\d\.\d$")]
    crit = (grid["spatial mean"] + grid["loro mean"]) / 2
    best = crit.idxmax()
    shown = ["network alone", "ridge (blend's own)", "auto (issue 19 default)",
             "auto, penalty 0.1 to 0.5/0.5", "auto, penalty 1.0 to 0.4/0.5",
             *crit.sort_values(ascending=False).index[:6], "fixed 0.5/0.5", "fixed 0.8/0.2",
             "fixed 0.3/0.6, 3 seeds", "fixed 0.4/0.5, 3 seeds", "fixed 0.8/0.2, 3 seeds",
             "fixed 1.0/0.0, 3 seeds",
             "scale 0.3/0.6", "scale 0.4/0.5", "gate 0.3/0.6", "gate 0.4/0.5",
             "gate 0.4/0.5 at inner R² -0.1", "gate 0.3/0.6 at inner R² -0.1",
             "choose C2", "choose C3", "choose C2, 3 seeds",
             *[f"{k}{t}" for t in OVERRIDES for k in ("network alone", "fixed 0.4/0.5", "fixed 0.8/0.2")]]  # fmt: skip
    shown = list(dict.fromkeys(r for r in shown if r in summary.index))
    desc = {"auto (issue 19 default)": "both weights by the inner CV (issue 19's default, `shrinkage=\"auto\"`)",
            "choose C2": "(0.8, 0.2) or (0.4, 0.5) by the inner CV",
            "choose C3": "(0.8, 0.2), (0.4, 0.5) or the mean by the inner CV",
            "choose C2, 3 seeds": "(0.8, 0.2) or (0.4, 0.5) by the inner CV, 3 seeds"}  # fmt: skip
    lines = [
        "# Blending GraphVAE with ridge and the training mean: fixed weights vs inner-CV weights (36 tuning maps)",
        "",
        f"- commit: `{COMMIT}`",
        f"- command: `python benchmarks/bench_graphvae_fixed_blend.py {' '.join(sys.argv[1:])}` (after "
        "`--dump --seeds 0 1 2`, `--dump --inner --seeds 0` and `--dump --seeds 0 --tag T` for each "
        "network variant T, which cache the network's out-of-fold predictions; the network code "
        "(`shrinkage=\"none\"`) is unchanged since c81441b, where they were computed)",
        "- maps: the 36 TUNING maps only (ADNI2 AD/LMCI/EMCI baseline + 33 ENIGMA thickness); the 40 "
        "held-out maps (surface area, ADNI2 follow-up) play no part in any row",
        "- R²: explained variance of out-of-fold predictions; spatial = distance-blocked CV (nearest "
        "25% of the hemisphere held out), LORO = leave one region out; ridge and nested-selected "
        "baseline as in graphvae_maps.md (nested from benchmark_maps.csv); 'bad' = maps more than "
        "0.05 below the training mean",
        "- every blend is ŷ = ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ) per outer fold (ȳ, ridge and the "
        "network on that fold's training regions); 'fixed a/b': the same (a, b) for every map; "
        "'scale': fixed weights times s ∈ {0, 0.1, …, 1} from the inner 5-block spatial CV of the "
        "fold's training regions; 'gate': fixed weights, or the mean where the inner-CV R² of the "
        "blend is below 0 (or the stated threshold); 'auto, penalty λ to p': the inner-CV squared error "
        "(relative) plus λ‖(a, b) − p‖²; '3 seeds': the network's predictions averaged over seeds "
        "0-2 (as `n_ensemble=3`; the inner CV from seed 0); '_wd3', '_alpha1', '_ep200', '_lr01': "
        "the network with weight_decay 3, expression_weight 1, 200 epochs, lr 0.01",
        f"- network variants: {OVERRIDES}",
        f"- **choice** (criterion: the grid point (step 0.1) with the highest mean of "
        f"the spatial and LORO mean R²): **{best}** (criterion {crit.max():.4f}; runner-up "
        f"{crit.sort_values().index[-2]} {crit.sort_values().iloc[-2]:.4f}); it becomes the default "
        "`shrinkage=\"fixed\"`, `blend_weights=(a, b)`",
        f"- load average at the end {os.getloadavg()[0]:.1f}",
        "",
        "| rule | spatial mean R² | spatial ≥ ridge | spatial ≥ nested | spatial bad | AD spatial | "
        "LORO mean R² | LORO ≥ ridge | LORO ≥ nested | LORO bad | AD LORO |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in shown:
        x = summary.loc[r]
        x = {k: (int(v) if ("≥" in k or "bad" in k) else v) for k, v in x.items()}
        lines.append(
            f"| {desc.get(r, r)} | {x['spatial mean']:.3f} | {x['spatial ≥ridge']}/36 | {x['spatial ≥nested']}/36 "
            f"| {x['spatial bad']} | {x['spatial AD']:.3f} | {x['loro mean']:.3f} | {x['loro ≥ridge']}/36 "
            f"| {x['loro ≥nested']}/36 | {x['loro bad']} | {x['loro AD']:.3f} |"
        )
    base = df.drop_duplicates(["map", "cv"]).groupby("cv")
    lines += ["", "Ridge mean R² (spatial / LORO): "
              f"{base.ridge.mean()['spatial']:.3f} / {base.ridge.mean()['loro']:.3f}; nested-selected: "
              f"{base.nested.mean()['spatial']:.3f} / {base.nested.mean()['loro']:.3f}.", ""]  # fmt: skip
    summary.to_csv(OUT / "graphvae_fixed_blend.csv", float_format="%.4f")
    tmp = OUT / ".graphvae_fixed_blend.md.tmp"
    tmp.write_text("\n".join(lines))
    tmp.replace(OUT / "graphvae_fixed_blend.md")


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    out = []
    for rule, g in df.groupby("rule", sort=False):
        r = {"rule": rule}
        for cv in ("spatial", "loro"):
            h = g[g.cv == cv].set_index("map")
            r[f"{cv} mean"] = h.r2.mean()
            r[f"{cv} ≥ridge"] = int((h.r2 >= h.ridge - 1e-4).sum())
            r[f"{cv} ≥nested"] = int((h.r2 >= h.nested).sum())
            r[f"{cv} bad"] = int((h.r2 < h["mean"] - 0.05).sum())
            r[f"{cv} AD"] = h.r2.get("adni2_ad_vol_baseline", np.nan)
        r["n"] = len(g) // 2
        out.append(r)
    return pd.DataFrame(out).set_index("rule")


RULES: dict[str, dict] = {"network alone": {"kind": "fixed", "w": (1.0, 0.0)},
                          "ridge (blend's own)": {"kind": "fixed", "w": (0.0, 1.0)}}
for _a, _b in GRID:
    RULES[f"fixed {_a:.1f}/{_b:.1f}"] = {"kind": "fixed", "w": (float(_a), float(_b))}
    RULES[f"fixed {_a:.1f}/{_b:.1f}, 3 seeds"] = {"kind": "fixed", "w": (float(_a), float(_b)), "seeds": (0, 1, 2)}
for _w in [(0.5, 0.5), (0.4, 0.5), (0.3, 0.6), (0.4, 0.6), (0.6, 0.4)]:
    RULES[f"scale {_w[0]:.1f}/{_w[1]:.1f}"] = {"kind": "scale", "w": _w}
    RULES[f"gate {_w[0]:.1f}/{_w[1]:.1f}"] = {"kind": "gate", "w": _w}
    RULES[f"scale {_w[0]:.1f}/{_w[1]:.1f}, 3 seeds"] = {"kind": "scale", "w": _w, "seeds": (0, 1, 2)}
    RULES[f"gate {_w[0]:.1f}/{_w[1]:.1f}, 3 seeds"] = {"kind": "gate", "w": _w, "seeds": (0, 1, 2)}
RULES["auto (issue 19 default)"] = {"kind": "auto"}
for _w in [(0.4, 0.5), (0.3, 0.6)]:
    for _tau in (-0.02, -0.05, -0.1, -0.2):
        RULES[f"gate {_w[0]:.1f}/{_w[1]:.1f} at inner R² {_tau}"] = {"kind": "gate", "w": _w, "tau": _tau}
        RULES[f"gate {_w[0]:.1f}/{_w[1]:.1f} at inner R² {_tau}, 3 seeds"] = {"kind": "gate", "w": _w, "tau": _tau, "seeds": (0, 1, 2)}
for _t in OVERRIDES:
    RULES[f"network alone{_t}"] = {"kind": "fixed", "w": (1.0, 0.0), "seeds": (f"0{_t}",)}
    for _w in [(0.4, 0.5), (0.5, 0.4), (0.8, 0.2)]:
        RULES[f"fixed {_w[0]:.1f}/{_w[1]:.1f}{_t}"] = {"kind": "fixed", "w": _w, "seeds": (f"0{_t}",)}
_C3 = [(0.8, 0.2), (0.4, 0.5), (0.0, 0.0)]
_C4 = [(0.9, 0.1), (0.6, 0.3), (0.3, 0.6), (0.0, 0.0)]
_C2 = [(0.8, 0.2), (0.4, 0.5)]
for _nm, _c in (("C3", _C3), ("C4", _C4), ("C2", _C2)):
    RULES[f"choose {_nm}"] = {"kind": "choose", "candidates": _c}
    RULES[f"choose {_nm}, 3 seeds"] = {"kind": "choose", "candidates": _c, "seeds": (0, 1, 2)}
for _lam in (0.3, 1.0):
    RULES[f"auto, penalty {_lam} to 0.4/0.5"] = {"kind": "auto", "lam": _lam, "prior": (0.4, 0.5)}
for _lam in (0.01, 0.03, 0.1):
    RULES[f"auto, penalty {_lam} to 0.5/0.5"] = {"kind": "auto", "lam": _lam, "prior": (0.5, 0.5)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", action="store_true")
    ap.add_argument("--inner", action="store_true", help="--dump: also the inner-CV predictions (first seed)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--tag", default="", help="--dump: a network variant of OVERRIDES (cached apart)")
    ap.add_argument("--write", action="store_true", help="write the results table")
    ap.add_argument("--rules", nargs="+", default=None)
    ap.add_argument("--cache", default="/tmp/j19dump")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    (dump if args.dump else evaluate)(args)


if __name__ == "__main__":
    main()
