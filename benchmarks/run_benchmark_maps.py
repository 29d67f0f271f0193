"""Run `crossscale benchmark` one map at a time (AD + the 33 ENIGMA thickness maps) and merge.

One invocation per map, so a run cut short by a deadline keeps the finished maps; the merged
table is the same as one `crossscale benchmark --maps ad,enigma-thickness` run would write.

    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --n-perm 20 --null-cv 5
    python benchmarks/run_benchmark_maps.py --work /tmp/bench_maps --merge-only   # merge what exists

Writes benchmarks/results/benchmark_maps.csv and benchmark_maps.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from crossscale.cli.benchmark import enigma_thickness_keys, markdown_table

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--n-perm", type=int, default=20)
    ap.add_argument("--null-cv", default="5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--merge-only", action="store_true")
    args = ap.parse_args()
    keys = ["adni2_ad_vol_baseline", *enigma_thickness_keys()]
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.merge_only:
        exe = Path(sys.executable).with_name("crossscale")
        for key in keys:
            if (args.work / key).exists():
                continue
            subprocess.run([str(exe), "-q", "benchmark", "--maps", key, "--out", str(args.work / key),
                            "--n-perm", str(args.n_perm), "--null-cv", args.null_cv,
                            "--seed", str(args.seed)], check=True)  # fmt: skip
    done = [k for k in keys if (args.work / k / "benchmark.csv").exists()]
    table = pd.concat([pd.read_csv(args.work / k / "benchmark.csv") for k in done])
    runs = [json.loads((args.work / k / "run.json").read_text()) for k in done]
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "benchmark_maps.csv", index=False, float_format="%.6g")
    p = runs[0]["parameters"]
    total = sum(r["total_time_s"] for r in runs)
    head = [
        "# `crossscale benchmark`: GraphVAE and baselines on disease maps",
        "",
        f"Maps run: {len(done)} of {len(keys)} (AD baseline + 33 ENIGMA thickness maps, in this "
        f"order; {len(keys) - len(done)} not run). enigma_asd_mega_analysis: 66 regions (fusiform has no value).",
        f"Per map: `crossscale benchmark --maps KEY --n-perm {p['n_perm']} --null-cv "
        f"{p['null_cv'].removeprefix('kfold')} --seed {p['seed']}` (GraphVAE defaults, "
        f"max_epochs={p['max_epochs']}); total {total / 60:.0f} min on a shared 2-core CPU.",
        f"`null_cv_r`, `p_spin`: r under {p['null_cv']} spatial CV (contiguous k-means blocks) "
        f"against {p['n_perm']} Hungarian spin-null refits (smallest possible p = "
        f"{1 / (1 + p['n_perm']):.3f}); uncorrected. `spatial_r`: 68-fold distance-blocked CV.",
        "",
    ]
    (RESULTS / "benchmark_maps.md").write_text("\n".join(head) + markdown_table(table))
    print("\n".join(head))


if __name__ == "__main__":
    main()
