"""Ablation of GraphVAE: each component switched off (or changed) one at a time, with baselines.

For the ADNI2 AD map (3 seeds) and across maps (ADNI2 LMCI/EMCI and four ENIGMA thickness maps,
one seed) it reports leave-one-region-out and distance-blocked spatial-CV R² under the inductive
protocol (every preprocessing step learned in each training fold), and wall time. The baselines
(PLS 1-5, ridge, spatial-only) run on the same folds.

A nested-CV row shows what an honest hyper-parameter choice reaches: for every outer fold a grid
of configurations is scored by 5-fold spatial CV (k-means blocks) on that fold's training regions
only, and the winner predicts the outer fold's held-out regions. The held-out regions' values are
never seen by the selection.

Writes benchmarks/results/graphvae_ablation.md and .csv.

Run: CROSSSCALE_MIRROR=../shared/data .venv/bin/python benchmarks/bench_graphvae_ablation.py
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _parts import PartClock, parse_part, read_parts, remove_parts, write_atomic, write_part
from sklearn.base import clone

from crossscale._progress import set_progress_enabled
from crossscale.atlas import RegionGraph
from crossscale.evaluate.cv import distance_blocked, leave_one_region_out, out_of_fold
from crossscale.evaluate.metrics import r2_score
from crossscale.evaluate.selection import inner_blocks
from crossscale.maps.catalog import load_map
from crossscale.models.baselines import default_baselines
from crossscale.models.graphvae import GraphVAE
from crossscale.transcriptomics import load_default_expression

# the code that runs is the code at start-up: record the commit then, not when writing
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
OUT = Path(__file__).parent / "results"
STEM = "graphvae_ablation"
MAPS = [
    "adni2_ad_vol_baseline", "adni2_lmci_vol_baseline", "adni2_emci_vol_baseline",
    "enigma_scz_case_controls_thickness", "enigma_bd_case_controls_adult_thickness",
    "enigma_mddadult_case_controls_thickness", "enigma_allepi_case_controls_thickness",
]  # fmt: skip

# (name, parameters changed from the default, graph): one change at a time from the current
# default (stacked blend with ridge, expression decoder, λ = 0.1 on latent means, 3 networks)
VARIANTS: list[tuple[str, dict, str]] = [
    ("default", {}, "surface"),
    ("blend: network alone (shrinkage none)", {"shrinkage": "none"}, "surface"),
    ("blend: fixed (0.3, 0.6) for every map", {"shrinkage": "fixed"}, "surface"),
    ("spatial residual: off", {"spatial_residual": False}, "surface"),
    ("expression decoder off (weight 0)", {"expression_weight": 0.0}, "surface"),
    ("λ = 0 (no smoothness)", {"smoothness": 0.0}, "surface"),
    ("λ = 0.1 on latent μ, connectome weights", {}, "connectome"),
    ("λ = 0.1 on decoded map ŷ", {"smoothness_on": "prediction"}, "surface"),
    ("encoder: GCN (2 graph convolutions)", {"encoder": "gcn"}, "surface"),
    ("encoder: GraphConv (GCN + root weight)", {"encoder": "graphconv"}, "surface"),
    ("β = 0 (no KL)", {"beta": 0.0}, "surface"),
    ("inputs: not whitened", {"whiten": False}, "surface"),
    ("inputs: fixed 15 axes", {"n_components": 15}, "surface"),
    ("activation: ReLU", {"activation": "relu"}, "surface"),
    ("decoder: linear (0 hidden layers)", {"decoder_layers": 0}, "surface"),
    ("weight decay 1e-4 (reference)", {"weight_decay": 1e-4}, "surface"),
    ("one network (no ensemble)", {"n_ensemble": 1}, "surface"),
    ("training: early stopping + refit", {"early_stopping": True, "max_epochs": 1000}, "surface"),
    ("reference preset", "reference", "surface"),
]
GRID = {"n_components": ["auto", 15, 25], "weight_decay": [1.0, 3.0]}


def cv_r2(est, X, Y: pd.DataFrame, graph, masks) -> tuple[np.ndarray, float]:
    """R² of out-of-fold predictions per map (columns of Y), and seconds."""
    t0 = time.perf_counter()
    P = np.asarray(est.fit_predict_folds(X, Y, graph, masks))  # (n_maps, n_folds, n_regions)
    r2 = [r2_score(Y.iloc[:, j].to_numpy(), out_of_fold(P[j], masks))
          for j in range(Y.shape[1])]  # fmt: skip
    return np.array(r2), time.perf_counter() - t0


def nested(X, y: pd.Series, graph, outer: np.ndarray, seed: int) -> tuple[float, str, float]:
    """Nested CV: the grid configuration chosen on each outer fold's training regions only."""
    t0 = time.perf_counter()
    configs = [dict(zip(GRID, v, strict=True)) for v in itertools.product(*GRID.values())]
    inner = [inner_blocks(graph, ~t, 5) for t in outer]  # per outer fold: (5, n) test masks
    flat = np.concatenate(inner)  # inner test masks; their training set excludes the outer fold
    owner = np.repeat(np.arange(len(outer)), [len(m) for m in inner])
    yv = y.loc[list(graph.regions)].to_numpy()
    scores = np.zeros((len(configs), len(outer)))
    outer_pred = np.zeros((len(configs), len(outer), len(yv)))
    for c, cfg in enumerate(configs):
        est = GraphVAE(**cfg, random_state=seed, device="cpu")
        # train on outer-train minus inner-test: pass the union as the held-out mask
        P = est.fit_predict_folds(X, y, graph, flat | outer[owner])[0]
        for f in range(len(outer)):
            rows = owner == f
            oof = out_of_fold(P[rows], flat[rows])
            tr = ~outer[f]
            scores[c, f] = r2_score(yv[tr], oof[tr])
        outer_pred[c] = est.fit_predict_folds(X, y, graph, outer)[0]
    choice = scores.argmax(0)
    P = outer_pred[choice, np.arange(len(outer))]
    r2 = r2_score(yv, out_of_fold(P, outer))
    counts = pd.Series([str(configs[c]) for c in choice]).value_counts()
    return r2, f"{counts.index[0]} ({counts.iloc[0]}/{len(outer)} folds)", time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--maps", nargs="+", default=MAPS)
    ap.add_argument("--no-nested", action="store_true")
    ap.add_argument("--part", default=None,
                    help="K/N: only variants K, K+N, ... (run N parts in parallel processes, with "
                         "--no-nested); rows go to results/.graphvae_ablation.partK.csv; the "
                         "baselines run in part 1; then --merge N writes the tables")  # fmt: skip
    ap.add_argument("--merge", type=int, default=None, help="merge the N parts written by --part")
    args = ap.parse_args()
    if args.merge:
        return merge(args)
    if args.part and not args.no_nested:
        raise SystemExit("--part needs --no-nested (the nested-CV row is not split into parts)")
    k, n = parse_part(args.part)
    clock = PartClock()
    set_progress_enabled(False)
    X_all, _ = load_default_expression()
    maps = {k: load_map(k) for k in args.maps}
    regions = [r for r in X_all.index if all(r in m.index for m in maps.values())]
    X = X_all.loc[regions]
    Y = pd.DataFrame({k: m.loc[regions].astype(float) for k, m in maps.items()})
    graphs = {"surface": RegionGraph.from_surface(regions),
              "connectome": RegionGraph.from_connectome(regions, mode="weight")}  # fmt: skip
    schemes = {"loro": leave_one_region_out(len(regions)),
               "spatial": distance_blocked(graphs["surface"], 0.25)}  # fmt: skip
    ad = "adni2_ad_vol_baseline"
    rows = []
    for name, change, gname in VARIANTS[k - 1 :: n]:
        g = graphs[gname]
        for seed in args.seeds:
            est = (GraphVAE.reference(random_state=seed, device="cpu") if change == "reference"
                   else GraphVAE(**change, random_state=seed, device="cpu"))  # fmt: skip
            # AD with every seed; the other maps with the first seed (all maps in one stack)
            Ys = Y if seed == args.seeds[0] else Y[[ad]]
            for scheme, masks in schemes.items():
                r2, t = cv_r2(est, X, Ys, g, masks)
                for j, key in enumerate(Ys.columns):
                    rows.append({"variant": name, "map": key, "seed": seed, "scheme": scheme,
                                 "r2": r2[j], "time_s": t / Ys.shape[1]})  # fmt: skip
        done = pd.DataFrame(rows).query("variant == @name and map == @ad")
        print(name, done.groupby("scheme")["r2"].mean().round(3).to_dict(), flush=True)
    for name, est in (default_baselines() if k == 1 else {}).items():
        for key in Y.columns:
            for scheme, masks in schemes.items():
                t0 = time.perf_counter()
                P = np.asarray(clone(est).fit_predict_folds(X, Y[key], graphs["surface"], masks))
                oof = out_of_fold(P.reshape(len(masks), -1), masks)
                rows.append({"variant": f"baseline: {name}", "map": key, "seed": 0,
                             "scheme": scheme, "r2": r2_score(Y[key].to_numpy(), oof),
                             "time_s": time.perf_counter() - t0})  # fmt: skip
    nested_rows = []
    if not args.no_nested:
        for scheme, masks in schemes.items():
            r2, chosen, t = nested(X, Y[ad], graphs["surface"], masks, seed=args.seeds[0])
            rows.append({"variant": "nested CV over the grid", "map": ad, "seed": args.seeds[0],
                         "scheme": scheme, "r2": r2, "time_s": t})  # fmt: skip
            nested_rows.append((scheme, r2, chosen, t))
            print("nested", scheme, round(r2, 3), chosen, flush=True)
    df = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.part:
        write_part(df, STEM, k, COMMIT, clock, argv=" ".join(_without_part(sys.argv[1:])))
        return None
    df.assign(commit=COMMIT).to_csv(OUT / "graphvae_ablation.csv", index=False, float_format="%.4f")
    (OUT / "graphvae_ablation.md").write_text(render(df, args, nested_rows, ad))


def _without_part(argv: list[str]) -> list[str]:
    """The command-line arguments without ``--part K/N`` (the same for every part)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--part":
            skip = True
        elif not a.startswith("--part="):
            out.append(a)
    return out


def merge(args: argparse.Namespace) -> None:
    """Write the tables from the N parts of one --part run (all from the same commit)."""
    df, commit, meta = read_parts(STEM, args.merge)
    order = {name: i for i, (name, _, _) in enumerate(VARIANTS)}
    df = df.sort_values("variant", key=lambda v: v.map(lambda x: order.get(x, len(order))),
                        kind="stable")  # fmt: skip
    run = {"commit": commit, "argv": df["argv"].iloc[0], "n_parts": args.merge, **meta}
    run_args = argparse.Namespace(seeds=sorted(df["seed"].unique().tolist()),
                                  maps=list(dict.fromkeys(df["map"])))  # fmt: skip
    if 0 in run_args.seeds:  # the first seed is the one all maps ran with
        run_args.seeds = [0] + [s for s in run_args.seeds if s != 0]
    cols = ["variant", "map", "seed", "scheme", "r2", "time_s"]
    df[cols].assign(commit=run["commit"]).to_csv(OUT / "graphvae_ablation.csv", index=False,
                                                 float_format="%.4f")  # fmt: skip
    write_atomic(OUT / "graphvae_ablation.md", render(df[cols], run_args, [], "adni2_ad_vol_baseline", run))
    remove_parts(STEM, args.merge)


def render(df: pd.DataFrame, args, nested_rows, ad: str, run: dict | None = None) -> str:
    commit = run["commit"] if run else COMMIT
    order = list(dict.fromkeys(df["variant"]))
    a = df[df["map"] == ad].groupby(["variant", "scheme"])["r2"].agg(["mean", "std"]).unstack()
    t = df[df["map"] == ad].groupby("variant")["time_s"].sum() / len(args.seeds)
    others = df[(df["map"] != ad) & (df["seed"] == args.seeds[0])]
    o = others.groupby(["variant", "scheme"])["r2"].median().unstack()
    lines = [
        "# GraphVAE ablation (inductive protocol)", "",
        f"- commit: `{commit}`",
        (f"- command: `python benchmarks/bench_graphvae_ablation.py {run['argv']} --part K/{run['n_parts']}` "
         f"(K = 1..{run['n_parts']}, in parallel), then `--merge {run['n_parts']}`; elapsed "
         f"{run['elapsed_s']:.0f} s on a shared 2-core machine (load average {run['load_start']:.1f} at "
         f"start, {run['load_end']:.1f} at end)") if run else
        f"- command: `python benchmarks/bench_graphvae_ablation.py {' '.join(sys.argv[1:])}`",
        f"- seeds (AD map): {args.seeds}; other maps: seed {args.seeds[0]}; maps: {', '.join(args.maps)}",
        f"- default GraphVAE parameters: `{GraphVAE().get_params()}`",
        (f"- nested-CV grid: `{GRID}` (inner: 5 k-means spatial blocks of each outer fold's training regions)"
         if nested_rows else "- nested-CV row: not run (`--no-nested`: a grid of 6 configurations, each "
         "with GraphVAE's own inner-CV blend, is hours on this CPU)"),
        "- R² = explained variance of the out-of-fold predictions; spatial = distance-blocked CV (25% of a "
        "hemisphere per fold); time = seconds for both schemes on the AD map (this shared 2-core CPU)", "",
        "| variant | AD LORO R² (mean ± sd) | AD spatial R² (mean ± sd) | median LORO R², other maps | "
        "median spatial R², other maps | time (s) |", "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for v in order:
        def cell(s, v=v):
            m, sd = a.loc[v, ("mean", s)], a.loc[v, ("std", s)]
            return f"{m:.3f}" + (f" ± {sd:.3f}" if sd == sd else "")

        ol = f"{o.loc[v, 'loro']:.3f}" if v in o.index else "–"
        osp = f"{o.loc[v, 'spatial']:.3f}" if v in o.index else "–"
        lines.append(f"| {v} | {cell('loro')} | {cell('spatial')} | {ol} | {osp} | {t.loc[v]:.1f} |")
    lines += ["", "Per map (first seed), spatial-CV R²:", ""]
    piv = df[df["seed"] == args.seeds[0]].query("scheme == 'spatial'").pivot_table(
        index="variant", columns="map", values="r2").reindex(order)  # fmt: skip
    lines.append("| variant | " + " | ".join(piv.columns) + " |")
    lines.append("|---|" + "---|" * len(piv.columns))
    for v, row in piv.iterrows():
        lines.append(f"| {v} | " + " | ".join("–" if x != x else f"{x:.3f}" for x in row) + " |")
    if nested_rows:
        lines += ["", "Nested CV (AD map): configuration chosen most often per scheme:", ""]
        for scheme, r2, chosen, t in nested_rows:
            lines.append(f"- {scheme}: R² {r2:.3f}; chosen {chosen}; {t:.0f} s")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
