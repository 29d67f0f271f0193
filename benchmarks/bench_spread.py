"""Spreading-subtype benchmark on simulated cohorts: writes benchmarks/results/spread.md (+ CSVs).

Usage::

    CROSSSCALE_MIRROR=../shared/data nice -n 10 python benchmarks/bench_spread.py [--quick]

Parts (see :mod:`crossscale.evaluate.spread_benchmark`): choice of K (true K x chosen K),
calibration of the printed intervals, recovery against per-subject least squares, fit time.
Group maps (ADNI2, ENIGMA) are benchmarked by ``benchmarks/bench_spread_groups.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from crossscale.evaluate import spread_benchmark
from crossscale.evaluate.spread_benchmark import run_spread_benchmark

OUT = Path(__file__).parent / "results" / "spread.md"

FULL = {
    "selection": {"ks": (1, 2, 3, 4), "noises": (0.05, 0.2), "n_seeds": 5, "n_per_subtype": 15,
                  "min_subjects": 30, "candidates": (1, 2, 3, 4, 5, 6), "patience": 2,
                  "epochs": 30},
    "recovery": {"k": 2, "noises": (0.05, 0.1, 0.2), "n_per_subtype": 50, "epochs": 50},
    "timing": {"sizes": (50, 200, 1000), "ls_sizes": (50, 200), "epochs": 50},
}  # fmt: skip
QUICK = {
    "selection": {"ks": (1, 2), "noises": (0.05,), "n_seeds": 1, "candidates": (1, 2, 3),
                  "epochs": 30},
    "recovery": {"noises": (0.1,), "n_per_subtype": 20, "epochs": 50},
    "timing": {"sizes": (20, 40), "ls_sizes": (20, 40), "epochs": 50},
}  # fmt: skip


def commit() -> str:
    """``git describe --always --dirty`` of the repository."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
            cwd=Path(__file__).parent, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):  # pragma: no cover
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a two-minute smoke run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--parts", default="selection,recovery,timing",
        help="comma-separated parts; a subset writes results/spread_<parts>.md instead",
    )  # fmt: skip
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    base = QUICK if args.quick else FULL
    cfg = {k: (v if k in parts else {"skip": True}) for k, v in base.items()}
    out = OUT if set(parts) >= set(base) else OUT.with_name(f"spread_{'_'.join(parts)}.md")
    stamp = commit()  # the code that runs: taken before the run, not after
    t0 = time.perf_counter()
    res = run_spread_benchmark(**cfg, random_state=args.seed)
    minutes = (time.perf_counter() - t0) / 60
    doc = spread_benchmark.__doc__.split("References")[0].strip()
    cmd = "CROSSSCALE_MIRROR=../shared/data nice -n 10 python benchmarks/bench_spread.py"
    cmd += (" --quick" if args.quick else "") + (f" --seed {args.seed}" if args.seed else "")
    cmd += "" if out == OUT else f" --parts {args.parts}"
    text = "\n".join([
        "# Spreading-subtype benchmark (simulated cohorts)",
        "",
        f"Commit `{stamp}`; command `{cmd}`; {minutes:.0f} min on {platform.machine()} "
        "(torch on 1 thread, a 2-core CPU shared with other jobs: timings are noisy).",
        "",
        f"Parameters: `{json.dumps(res.params)}`. Cohort sizes are small (15 subjects per subtype "
        "for the choice of K, 50 for recovery) so that the whole run fits the CPU budget. "
        "Group maps (ADNI2, ENIGMA): [spread_groups.md](spread_groups.md).",
        "",
        doc,
        "",
        res.to_markdown(),
    ])  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text + "\n")
    tmp.replace(out)
    # the fit-time table is <stem>_fit_time.csv: spread_scaling.csv is bench_spread_scaling.py's
    for name, suffix in (("selection", "selection"), ("accuracy", "accuracy"),
                         ("calibration", "calibration"), ("scaling", "fit_time")):  # fmt: skip
        if len(getattr(res, name)):
            tmp = out.with_name(f".{out.stem}_{suffix}.csv.tmp")
            getattr(res, name).assign(commit=stamp).to_csv(tmp, index=False)
            tmp.replace(out.with_name(f"{out.stem}_{suffix}.csv"))
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
