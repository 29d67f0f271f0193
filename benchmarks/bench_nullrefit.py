"""Speed of spin-null refits of GraphVAE: batched (stacked) vs looped, in-sample and 10-fold CV.

Writes benchmarks/results/nullrefit.md.

    python benchmarks/bench_nullrefit.py --n-perm 1000 --n-loop 20 --batch-size 250

The 10 spatial folds are contiguous blocks from k-means of the region centroids, 5 per hemisphere
(``crossscale.evaluate.kmeans_blocks``): every region is held out once. The looped timings are
measured on ``--n-loop`` refits and extrapolated linearly to ``--n-perm`` (the batched ones too
when ``--n-measure`` < ``--n-perm``: stacks of ``--batch-size`` maps run one after the other, so
time is linear in the number of chunks).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from crossscale.atlas import RegionGraph
from crossscale.evaluate import null_distribution
from crossscale.maps import load_adni_map
from crossscale.models.graphvae import GraphVAE
from crossscale.transcriptomics import load_default_expression

OUT = Path(__file__).parent / "results" / "nullrefit.md"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-perm", type=int, default=1000)
    ap.add_argument("--n-loop", type=int, default=20)
    ap.add_argument(
        "--n-measure", type=int, default=None, help="batched refits measured (default: --n-perm)"
    )
    ap.add_argument("--batch-size", type=int, default=250)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--skip", default="", help="comma list of: insample,cv,loop")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    os.environ.setdefault("CROSSSCALE_MIRROR", str(Path(__file__).parents[2] / "shared" / "data"))
    X, _ = load_default_expression()
    y = load_adni_map("AD", "baseline").loc[X.index]
    g = RegionGraph.from_surface(X.index)
    est = GraphVAE(random_state=0, device="cpu")
    rows = []

    def run(label: str, n: int, measured: int, **kw: object) -> None:
        t0 = time.perf_counter()
        res = null_distribution(est, X, y, g, "spin", n_perm=measured, random_state=0, **kw)
        dt = time.perf_counter() - t0
        per = dt / measured
        p = res.p_values.get("cv_r", res.p_values["in_sample_r"])
        rows.append((label, measured, dt, per * n, n, p, res.null["in_sample_r"].mean()))
        print(f"{label}: {measured} refits in {dt:.1f} s -> {per * n:.0f} s for {n}", flush=True)

    n = args.n_perm
    nm = args.n_measure or n
    sched = args.scheduler
    if "insample" not in skip:
        run("batched, in-sample", n, nm, batch_size=args.batch_size, scheduler=sched)
    if "cv" not in skip:
        run(f"batched, in-sample + {args.folds}-fold spatial CV", n, nm, cv=args.folds,
            batch_size=args.batch_size, scheduler=sched)  # fmt: skip
    if "loop" not in skip:
        run("looped, in-sample", n, args.n_loop, batched=False)
        run(f"looped, in-sample + {args.folds}-fold spatial CV", n, args.n_loop, cv=args.folds,
            batched=False)  # fmt: skip
    lines = [
        "# Spin-null refits of GraphVAE",
        "",
        f"AD atrophy map (ADNI2 baseline), {X.shape[1]} landmark genes, 68 regions, surface graph; "
        "GraphVAE defaults (n_latent=8, n_hidden=32, max_epochs=1000, patience=100, early stopping + "
        f"refit); Hungarian spins; batch_size={args.batch_size} null maps per stacked program; "
        f"scheduler={sched or 'in-process'}. CV: {args.folds} contiguous blocks "
        "(k-means of centroids, half per hemisphere; every region held out once). "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, CPU only, shared with other jobs.",
        "",
        "| path | refits measured | measured (s) | time for N refits (s) | N | p (cv_r or in_sample_r) | mean null in-sample r |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, m, dt, tot, nn, p, mr in rows:
        extra = " (extrapolated)" if m < nn else ""
        lines.append(f"| {label} | {m} | {dt:.1f} | {tot:.0f}{extra} | {nn} | {p:.3f} | {mr:.3f} |")
    lines += ["", "Command: `python benchmarks/bench_nullrefit.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v not in (None, "")) + "`", ""]  # fmt: skip
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
