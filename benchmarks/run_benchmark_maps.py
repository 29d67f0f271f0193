"""Run `crossscale benchmark` one map at a time (ADNI2 AD/LMCI/EMCI + 33 ENIGMA thickness maps).

One `crossscale.pipeline.benchmark_maps` call per map, each saved to its own folder, so a run cut
short keeps the finished maps; merging refuses runs whose
parameters or commit differ. The merged table is what one `crossscale benchmark --maps
ad,lmci,emci,enigma-thickness` run would write.

    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --n-perm 100 --null-cv 10
    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --merge-only   # merge what exists

On two cores, run two parts side by side (every second map each), then merge:

    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --part 1/2 &
    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --part 2/2
    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --merge-only

Writes benchmarks/results/benchmark_maps.csv and benchmark_maps.md (commit, command, parameters).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from crossscale.evaluate.metrics import REFERENCE_MAP, REFERENCE_METRICS
from crossscale.evaluate.selection import SELECTED_BASELINE
from crossscale.maps.catalog import enigma_thickness_keys
from crossscale.pipeline import benchmark_maps
from crossscale.report.benchmark import headline, markdown_table

RESULTS = Path(__file__).parent / "results"
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--n-perm", type=int, default=100)
    ap.add_argument("--null-cv", default="10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--null-models", default="GraphVAE", help="models refitted on the spins")
    ap.add_argument("--merge-only", action="store_true")
    ap.add_argument("--part", default="1/1", help="K/N: run every N-th map from the K-th (no merge)")
    args = ap.parse_args()
    keys = ["adni2_ad_vol_baseline", "adni2_lmci_vol_baseline", "adni2_emci_vol_baseline",
            *enigma_thickness_keys()]  # fmt: skip
    k, n = (int(v) for v in args.part.split("/"))
    if not 1 <= k <= n:
        sys.exit(f"--part {args.part}: expected K/N with 1 <= K <= N, e.g. 1/2.")
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.merge_only:
        for key in keys[k - 1 :: n]:
            if (args.work / key / "benchmark.csv").exists():
                continue
            res = benchmark_maps([key], n_perm=args.n_perm, null_cv=args.null_cv,
                                 null_models=args.null_models, seed=args.seed,
                                 params={"random_state": args.seed}, echo=print)  # fmt: skip
            res.save(args.work / key, command="crossscale benchmark")
            (args.work / key / "commit.txt").write_text(COMMIT)
    if n > 1:
        return print(f"part {args.part} done; merge with --merge-only")
    done = [k for k in keys if (args.work / k / "benchmark.csv").exists()]
    if not done:
        sys.exit(f"No finished map under {args.work}.")
    runs = {k: json.loads((args.work / k / "run.json").read_text()) for k in done}
    commits = {k: (args.work / k / "commit.txt").read_text().strip() for k in done}

    def signature(k: str) -> str:
        r = runs[k]
        p = {key: v for key, v in r["parameters"].items() if key != "maps"}
        return json.dumps([p, r["model_params"], commits[k]], sort_keys=True)

    sigs = {signature(k) for k in done}
    if len(sigs) > 1:
        sys.exit(
            "Refusing to merge runs made with different parameters, models or commits:\n"
            + "\n".join(f"  {k}: {signature(k)}" for k in done)
            + "\nRe-run the stale maps (delete their folders under --work)."
        )
    table = pd.concat([pd.read_csv(args.work / k / "benchmark.csv") for k in done])
    RESULTS.mkdir(exist_ok=True)
    table.assign(commit=table["map"].map(commits)).to_csv(
        RESULTS / "benchmark_maps.csv", index=False, float_format="%.6g"
    )
    p = runs[done[0]]["parameters"]
    h = headline(table)
    total = sum(r["total_time_s"] for r in runs.values())
    wins = table[table["model"] == "GraphVAE"].set_index("map")
    head = [
        "# `crossscale benchmark`: GraphVAE and baselines on disease maps",
        "",
        f"- commit of every map's run: `{commits[done[0]]}`",
        f"- per map: `crossscale benchmark --maps KEY --n-perm {p['n_perm']} --null-cv "
        f"{str(p['null_cv']).removeprefix('kfold')} --seed {p['seed']}` (preset {p.get('preset')}, "
        f"protocol {p.get('protocol', 'inductive')}); merged by `python benchmarks/run_benchmark_maps.py "
        f"{' '.join(sys.argv[1:])}`",
        f"- GraphVAE parameters: `{runs[done[0]]['model_params']}`",
        f"- maps run: {len(done)} of {len(keys)}; {total / 60:.0f} min of per-map run time in all (summed over maps; `--part` runs them side by side) on a shared 2-core CPU",
        f"- `null_cv_r`, `p_spin`: r under {p['null_cv']} spatial CV (contiguous k-means blocks) "
        f"against {p['n_perm']} Hungarian spin-null refits of the same model (models refitted: "
        f"{', '.join(p.get('null_models', ['all']))}; smallest possible "
        f"p = {1 / (1 + p['n_perm']):.4f}); uncorrected. `spatial_r2`: 68-fold distance-blocked CV.",
        "",
        "## Headline",
        "",
        f"- GraphVAE's spatial-CV R² is at or above the best baseline's on **{h['n_at_or_above']} of "
        f"{h['n_maps']}** maps; median difference to the best baseline **{h['median_difference']:+.3f}** "
        "(the best of seven baselines picked per map on the evaluation folds: an oracle).",
        f"- GraphVAE's CV r has p_spin < 0.05 on {h['n_p05']} and < 0.01 on {h['n_p01']} of "
        f"{h['n_maps']} maps.",
    ]
    if "n_at_or_above_selected" in h:
        head.append(
            f"- Against the nested-CV-selected baseline (`{SELECTED_BASELINE}`: chosen per fold on "
            f"training regions only): at or above on **{h['n_at_or_above_selected']} of {h['n_maps']}** "
            f"maps; median difference **{h['median_difference_selected']:+.3f}**."
        )
    if REFERENCE_MAP in wins.index:
        ad = wins.loc[REFERENCE_MAP]
        head.append(
            f"- AD map: LORO R² {ad['loro_r2']:.3f}, spatial-CV R² {ad['spatial_r2']:.3f}, "
            f"p_spin {ad['p_spin']:.4f}; in-sample R² {ad['in_sample_r2']:.3f}, r "
            f"{ad['in_sample_r']:.3f} (reference, in-sample only: {REFERENCE_METRICS['in_sample_r2']} / "
            f"{REFERENCE_METRICS['in_sample_r']})."
        )
    r2 = table.pivot(index="map", columns="model", values="spatial_r2").loc[done]
    best = r2.drop(columns=["GraphVAE", SELECTED_BASELINE], errors="ignore")
    per_map = pd.DataFrame({
        "GraphVAE": r2["GraphVAE"], "best baseline": best.idxmax(axis=1), "its R²": best.max(axis=1),
        "difference": r2["GraphVAE"] - best.max(axis=1), "GraphVAE p_spin": wins.loc[done, "p_spin"],
    })  # fmt: skip
    if SELECTED_BASELINE in r2.columns:
        per_map["nested-selected baseline"] = r2[SELECTED_BASELINE]
    head += ["", "## Spatial-CV R² per map", "", markdown_table(per_map.reset_index()), "",
             "## All metrics", ""]  # fmt: skip
    (RESULTS / "benchmark_maps.md").write_text("\n".join(head) + markdown_table(table))
    print("\n".join(head))


if __name__ == "__main__":
    main()
