"""Spreading-subtype benchmark: writes benchmarks/results/spread.md (+ spread.csv).

Usage::

    CROSSSCALE_MIRROR=../shared/data python benchmarks/bench_spread.py [--quick]

The cohorts and methods are described in :mod:`crossscale.evaluate.spread_benchmark`.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from crossscale.evaluate import spread_benchmark
from crossscale.evaluate.spread_benchmark import run_spread_benchmark

OUT = Path(__file__).parent / "results" / "spread.md"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="K=2, noise 0.05 only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.quick:
        res = run_spread_benchmark(ks=(2,), noises=(0.05,), sizes=(40, 80), selection_ks=())
    else:
        res = run_spread_benchmark()
    minutes = (time.perf_counter() - t0) / 60
    doc = spread_benchmark.__doc__.split("References")[0].strip()
    text = "\n".join([
        "# Spreading-subtype benchmark",
        "",
        f"Command: `CROSSSCALE_MIRROR=../shared/data python benchmarks/bench_spread.py"
        f"{' --quick' if args.quick else ''}` ({minutes:.0f} min on {platform.machine()}, "
        "torch on 1 thread, a shared 2-core CPU: timings are noisy).",
        "",
        doc,
        "",
        "Metrics: ARI of subtype labels; epicentre_acc = fraction of subjects whose inferred "
        "epicentre (of their predicted subtype, or of their own fit) is the true one; Spearman r "
        "and median relative error of subject-level rho, alpha and onset; fit time in seconds.",
        "",
        res.to_markdown(),
    ])  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    res.accuracy.to_csv(OUT.with_suffix(".csv"), index=False)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
