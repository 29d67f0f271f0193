"""Every built-in atlas: a real map predicted from expression, honestly evaluated; run times.

Per atlas, the BigBrain histological gradient (Paquola et al. 2019, parcellated by the ENIGMA
Toolbox) predicted from the atlas's built-in AHBA expression (DK: L1000 landmark genes;
Schaefer / Glasser: genes with differential stability >= 0.6), by GraphVAE and every baseline:
in-sample, leave-one-region-out and distance-blocked spatial-CV R², and the p-value of the
kfold-10 CV r against N Hungarian spin refits of the same model (seed 0). ``dk-subcortex`` gets
the ADNI2 AD atrophy map with its 14 subcortical regions (the BigBrain gradient is cortical):
there the cortex is spun and the subcortex gets Moran spectral randomisation over inverse
centroid distances. The DK rows are recomputed with the code of a base commit (before atlases)
by ``_dk_reproduce.py`` and compared. A scale section times 1,000 spin refits of GraphVAE on
Schaefer-400 and Glasser-360. Every timing is stored with ``os.getloadavg()``.

Writes benchmarks/results/atlases.md and atlases.csv.

Run: CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
     .venv/bin/python benchmarks/bench_atlases.py --n-perm 100 --scale-n-perm 1000 --base 9fe4ce7
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=ROOT).stdout.strip()  # fmt: skip
ATLASES = ("dk", "dk-subcortex", "schaefer100", "schaefer200", "schaefer300", "schaefer400",
           "glasser360")  # fmt: skip
SHOWN = ("GraphVAE", "PLS-1", "PLS-2", "PLS-3", "PLS-4", "PLS-5", "Ridge", "Spatial (Laplacian)",
         "Best baseline (nested CV)")  # fmt: skip


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _maps(atlas: str) -> dict[str, pd.Series]:
    from crossscale.maps import load_adni_map, load_bigbrain_map

    if atlas == "dk":
        return {"BigBrain gradient": load_bigbrain_map("dk"),
                "ADNI2 AD atrophy": load_adni_map("AD", "baseline")}  # fmt: skip
    if atlas == "dk-subcortex":
        return {"ADNI2 AD atrophy (cortex + subcortex)": load_adni_map("AD", subcortex=True)}
    return {"BigBrain gradient": load_bigbrain_map(atlas)}


def run_atlas(atlas_name: str, n_perm: int) -> list[dict]:
    """Metrics, p_spin and times of GraphVAE and every baseline on the atlas's map(s)."""
    from crossscale.atlas import RegionGraph, get_atlas, use_atlas
    from crossscale.evaluate import evaluate_models
    from crossscale.evaluate.selection import comparison_models
    from crossscale.models.baselines import default_baselines
    from crossscale.models.graphvae import GraphVAE
    from crossscale.nulls import describe_nulls
    from crossscale.pipeline._common import align_to_map, null_refits
    from crossscale.transcriptomics import load_expression

    atlas = get_atlas(atlas_name)
    rows = []
    with use_atlas(atlas):
        X_all, report = load_expression(atlas)
        for map_name, y_all in _maps(atlas_name).items():
            X, y, regions = align_to_map(X_all, y_all)
            g = RegionGraph.from_surface(regions, atlas=atlas)
            load0 = _load()
            t0 = time.perf_counter()
            models = {"GraphVAE": GraphVAE(random_state=0, device="cpu")} | comparison_models()
            ev = evaluate_models(X, y, g, models, cv=("loro", "spatial"))
            t_eval = time.perf_counter() - t0
            nulls = {}
            if n_perm:
                null_models = {"GraphVAE": GraphVAE(random_state=0, device="cpu")} | default_baselines()
                nulls = null_refits(X, y, g, null_models, nulls="spin", cv=10, n_perm=n_perm, seed=0,
                                    scheduler=None, batch_size=250, echo=lambda _: None,
                                    metric="r", in_sample=False)  # fmt: skip
            desc = "; ".join(f"{k}: {v}" for k, v in describe_nulls(regions, "hungarian").items())
            for model in SHOWN:
                m = ev.metrics.loc[model]
                res = nulls.get(model)
                rows.append({
                    "atlas": atlas_name, "map": map_name, "model": model,
                    "n_regions": len(regions), "n_genes": X.shape[1], "gene_panel": report.panel,
                    "in_sample_r2": m["in_sample_r2"], "loro_r2": m["loro_r2"],
                    "spatial_r2": m["spatial_r2"], "spatial_r": m["spatial_r"],
                    "null_cv_r": res.observed["cv_r"] if res else np.nan,
                    "p_spin": res.p_values["cv_r"] if res else np.nan,
                    "fit_time_s": m["fit_time_s"], "cv_time_s": m["cv_time_s"],
                    "null_time_s": res.time_s if res else np.nan, "eval_wall_s": t_eval,
                    "n_perm": n_perm if res else 0, "nulls": desc,
                    "loadavg_before": load0, "loadavg_after": _load(),
                })  # fmt: skip
            print(f"{atlas_name} / {map_name}: {len(regions)} regions, {X.shape[1]} genes, "
                  f"eval {t_eval:.0f} s, load {_load()}", flush=True)  # fmt: skip
    return rows


def scale(atlas_name: str, n_perm: int) -> dict:
    """Time 1,000 Hungarian spins and GraphVAE's spin refits (kfold-10 CV) on one atlas."""
    from crossscale.atlas import RegionGraph, get_atlas
    from crossscale.evaluate import null_distribution
    from crossscale.maps import load_bigbrain_map
    from crossscale.models.graphvae import GraphVAE
    from crossscale.nulls import spin_permutations
    from crossscale.pipeline._common import align_to_map
    from crossscale.transcriptomics import load_expression

    atlas = get_atlas(atlas_name)
    X, _ = load_expression(atlas)
    X, y, regions = align_to_map(X, load_bigbrain_map(atlas))
    g = RegionGraph.from_surface(regions, atlas=atlas)
    load0 = _load()
    t0 = time.perf_counter()
    spin_permutations(regions, method="hungarian", n_perm=n_perm, random_state=12345, atlas=atlas)
    t_spin = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = null_distribution(GraphVAE(random_state=0, device="cpu"), X, y, g, "spin", cv=10,
                            n_perm=n_perm, random_state=0, batch_size=250, metric="r",
                            in_sample=False)  # fmt: skip
    t_null = time.perf_counter() - t0
    return {"atlas": atlas_name, "n_regions": len(regions), "n_genes": X.shape[1],
            "n_perm": n_perm, "spins_s": t_spin, "graphvae_refits_s": t_null,
            "models_trained": n_perm * 10, "cv_r": res.observed["cv_r"],
            "p_spin": res.p_values["cv_r"], "loadavg_before": load0, "loadavg_after": _load()}  # fmt: skip


def reproduce_dk(base: str, n_perm: int) -> dict:
    """`_dk_reproduce.py` on this tree and on `base` (git archive), JSON results of both."""
    from crossscale.datasets import fetch

    bigbrain = str(fetch("bigbrain_gradient_dk"))
    script = str(Path(__file__).with_name("_dk_reproduce.py"))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", base, "src"], cwd=ROOT, capture_output=True,
                                 check=True).stdout  # fmt: skip
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(tmp, filter="data")
        for label, src in (("base", Path(tmp) / "src"), ("this", ROOT / "src")):
            env = os.environ | {"PYTHONPATH": str(src)}
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, script, str(n_perm), bigbrain], env=env,
                                  capture_output=True, text=True, check=True, cwd=tmp)  # fmt: skip
            out[label] = json.loads(proc.stdout.strip().splitlines()[-1])
            out[label + "_time_s"] = time.perf_counter() - t0
    return out


def _compare(rep: dict) -> list[str]:
    lines = []
    for map_name in rep["base"]:
        a, b = rep["base"][map_name], rep["this"][map_name]
        diffs = []
        for model, metrics in a["metrics"].items():
            for k, v in metrics.items():
                w = b["metrics"][model][k]
                if not (pd.isna(v) and pd.isna(w)):
                    diffs.append(abs(float(v) - float(w)))
        lines.append(f"| {map_name} | metrics of {len(a['metrics'])} models: max abs. difference "
                     f"{max(diffs):.2e} | " + "; ".join(
                         f"{m}: p_spin {a['nulls'][m]['p_spin']:.4f} → {b['nulls'][m]['p_spin']:.4f}, "
                         f"CV r {a['nulls'][m]['cv_r']:.4f} → {b['nulls'][m]['cv_r']:.4f}"
                         for m in a["nulls"]) + " |")  # fmt: skip
    return lines


def main() -> None:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-perm", type=int, default=100)
    ap.add_argument("--scale-n-perm", type=int, default=1000)
    ap.add_argument("--atlases", default=",".join(ATLASES))
    ap.add_argument("--scale-atlases", default="schaefer400,glasser360")
    ap.add_argument("--base", default="9fe4ce7", help="commit before the atlas work ('' skips)")
    args = ap.parse_args()
    command = "python benchmarks/bench_atlases.py " + " ".join(sys.argv[1:])
    t_all = time.perf_counter()
    rows = []
    for name in args.atlases.split(","):
        rows += run_atlas(name, args.n_perm)
    table = pd.DataFrame(rows)
    scales = [scale(a, args.scale_n_perm) for a in args.scale_atlases.split(",") if a]
    rep = reproduce_dk(args.base, args.n_perm) if args.base else None
    OUT.mkdir(parents=True, exist_ok=True)
    table.assign(commit=COMMIT).to_csv(OUT / "atlases.csv", index=False, float_format="%.4f")
    write_markdown(table, scales, rep, args, command, time.perf_counter() - t_all)


def write_markdown(table, scales, rep, args, command, total) -> None:  # noqa: ANN001
    from crossscale.models.graphvae import GraphVAE

    f3 = lambda v: "–" if pd.isna(v) else f"{v:.3f}"  # noqa: E731
    lines = [
        "# Every built-in atlas: a real map predicted from expression",
        "",
        f"- commit: `{COMMIT}`; command: `{command}`; total {total / 60:.0f} min",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores shared with other sessions "
        "(load average 1/5/15 min recorded beside every timing: timings are noisy, re-run on a "
        "quiet machine for final numbers); torch 1 thread, device cpu",
        f"- GraphVAE: default preset, random_state 0: `{GraphVAE().get_params()}`",
        "- map: the BigBrain histological gradient (Paquola et al. 2019, ENIGMA Toolbox "
        "`bb_gradient_*`) in each atlas; `dk-subcortex`: ADNI2 AD atrophy (Welch t) on 68 cortical "
        "+ 14 subcortical regions; `dk` also the AD map of `crossscale fit`",
        "- expression: `dk`/`dk-subcortex` the L1000 landmark genes of the imaging-transcriptomics "
        "AHBA matrix (`l1000`); Schaefer/Glasser the ENIGMA Toolbox matrix of genes with "
        "differential stability >= 0.6 (`stable`; L1000 is not available there); parcels without "
        "any AHBA sample are left out (regions = parcels with both expression and a map value)",
        (f"- `p_spin`: kfold-10 CV r (contiguous k-means blocks of the atlas's centroids) against "
         f"{args.n_perm} Hungarian spin refits of the same model, seed 0; smallest possible "
         f"p = {1 / (args.n_perm + 1):.4f}; uncorrected." if args.n_perm else
         "- `p_spin`: **not computed in this run** (`--n-perm 0`: accuracy and times only).")
        + " `spatial_r2`: distance-blocked CV, one fold per region (Hansen et al. 2021). "
        "Nested-CV baseline: not refitted on nulls.",
        "",
        "## Accuracy and p_spin per atlas",
        "",
        "| atlas | map | regions | genes | model | in-sample R² | LORO R² | spatial-CV R² | p_spin |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(f"| {r['atlas']} | {r['map']} | {r['n_regions']} | {r['n_genes']} "
                     f"({r['gene_panel']}) | {r['model']} | {f3(r['in_sample_r2'])} | "
                     f"{f3(r['loro_r2'])} | {f3(r['spatial_r2'])} | "
                     f"{'–' if pd.isna(r['p_spin']) else format(r['p_spin'], '.4f')} |")  # fmt: skip
    lines += ["", "## Null models per region set", ""]
    for (atlas, map_name), grp in table.groupby(["atlas", "map"], sort=False):
        lines.append(f"- {atlas} / {map_name}: {grp['nulls'].iloc[0]}")
    lines += ["", "## GraphVAE vs the best baseline (spatial-CV R²)", "",
              "| atlas | map | GraphVAE | best baseline (oracle) | its R² | nested-CV baseline |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for (atlas, map_name), grp in table.groupby(["atlas", "map"], sort=False):
        g = grp.set_index("model")["spatial_r2"]
        base = g.drop(["GraphVAE", "Best baseline (nested CV)"])
        lines.append(f"| {atlas} | {map_name} | {f3(g['GraphVAE'])} | {base.idxmax()} | "
                     f"{f3(base.max())} | {f3(g['Best baseline (nested CV)'])} |")  # fmt: skip
    lines += ["", "## Times (GraphVAE; seconds, wall clock on the shared machine)", "",
              "| atlas | map | regions | fit | CV (LORO + spatial) | all models' CV incl. baselines | "
              f"{args.n_perm} spin refits (kfold-10) | load avg before → after |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for (atlas, map_name), grp in table.groupby(["atlas", "map"], sort=False):
        r = grp.set_index("model").loc["GraphVAE"]
        lines.append(f"| {atlas} | {map_name} | {r['n_regions']} | {r['fit_time_s']:.1f} | "
                     f"{r['cv_time_s']:.1f} | {r['eval_wall_s']:.0f} | "
                     f"{'–' if pd.isna(r['null_time_s']) else format(r['null_time_s'], '.0f')} | "
                     f"{r['loadavg_before']} → {r['loadavg_after']} |")  # fmt: skip
    if scales:
        lines += ["", f"## Scale: {scales[0]['n_perm']} spin refits of GraphVAE", "",
                  "| atlas | regions | genes | Hungarian spins (s) | GraphVAE refits, kfold-10 (s) | "
                  "models trained | CV r | p_spin | load avg before → after |",
                  "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for s in scales:
            lines.append(f"| {s['atlas']} | {s['n_regions']} | {s['n_genes']} | {s['spins_s']:.1f} "
                         f"| {s['graphvae_refits_s']:.0f} | {s['models_trained']} | {s['cv_r']:.3f} "
                         f"| {s['p_spin']:.4f} | {s['loadavg_before']} → {s['loadavg_after']} |")  # fmt: skip
        lines.append("")
        lines.append("GraphVAE refits run as stacked tensor programs of up to 250 null maps x 10 "
                     "folds, as for DK (`benchmarks/results/nullrefit.md`).")  # fmt: skip
    if rep:
        lines += ["", f"## DK reproduces the numbers of `{args.base}` (before atlases)", "",
                  f"`benchmarks/_dk_reproduce.py {args.n_perm}` run with `PYTHONPATH` = the `src/` "
                  f"of `{args.base}` (git archive) and of this tree: metrics of GraphVAE and every "
                  f"baseline (in-sample, LORO, spatial CV), and p_spin of the kfold-10 CV r from "
                  f"{args.n_perm} Hungarian spin refits (seed 0).", "",
                  "| map | metrics (base vs this tree) | null refits: base → this tree |",
                  "|---|---|---|", *_compare(rep), "",
                  f"Wall times: base {rep['base_time_s']:.0f} s, this tree {rep['this_time_s']:.0f} s."]  # fmt: skip
    (OUT / "atlases.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
