"""Speed of the baselines' fold predictions against scikit-learn's separate fits, equal numbers.

PLS-1..5 (one NIPALS path per fold, ``crossscale.models.baselines.pls_path``) and ridge (one
eigendecomposition per fold, kept for the next map: ``crossscale.models._ridge_folds``) against
``PLSRegression(k)`` and ``StandardScaler + RidgeCV`` fitted on every fold's training regions,
on the AD atrophy map (DK, 889 genes), LORO and distance-blocked spatial CV; ridge also on a
second map (a spin of the first) on the same folds, as in null refits. Each time is the best of
``--repeat`` runs. Writes benchmarks/results/baselines.md (commit, command, load average).

Run: CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_baselines.py
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "results" / "baselines.md"
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=ROOT).stdout.strip()  # fmt: skip


def _best(fn, repeat: int) -> tuple[float, np.ndarray]:  # noqa: ANN001
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("CROSSSCALE_MIRROR", str(ROOT.parent / "shared" / "data"))
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from crossscale._threads import single_thread
    from crossscale.atlas import RegionGraph
    from crossscale.evaluate.cv import distance_blocked, leave_one_region_out
    from crossscale.maps import load_adni_map
    from crossscale.models import _ridge_folds
    from crossscale.models.baselines import pls_path
    from crossscale.nulls import spin_permutations
    from crossscale.transcriptomics import load_default_expression

    X, _ = load_default_expression()
    y = load_adni_map("AD", "baseline").loc[X.index]
    g = RegionGraph.from_surface(X.index)
    Xv, yv = X.to_numpy(float), y.to_numpy(float)
    y2 = yv[spin_permutations(method="hungarian", n_perm=1, random_state=0)[:, 0]]
    alphas = np.logspace(-1, 6, 29)
    load0 = "/".join(f"{v:.1f}" for v in os.getloadavg())
    rows = []
    for scheme, masks in (("LORO", leave_one_region_out(68)), ("spatial", distance_blocked(g, 0.25))):
        with single_thread(torch_too=False):
            t_sk, ref = _best(lambda m=masks: np.array([
                [PLSRegression(k).fit(Xv[~f], yv[~f]).predict(Xv).ravel() for f in m] for k in range(1, 6)
            ]), args.repeat)  # fmt: skip
            t_new, new = _best(lambda m=masks: pls_path(Xv, yv, m, 5), args.repeat)
            diff = float(np.abs(new - ref).max() / np.abs(ref).max())
            rows.append((scheme, len(masks), "PLS-1..5 (5 fits per fold vs one path)", t_sk, t_new, diff))

            def sk_ridge(target, m=masks):  # noqa: ANN001, ANN202
                return np.array([make_pipeline(StandardScaler(), RidgeCV(alphas=alphas))
                                 .fit(Xv[~f], target[~f]).predict(Xv) for f in m])  # fmt: skip

            def new_ridge(target, m=masks, fresh=True):  # noqa: ANN001, ANN202
                if fresh:
                    _ridge_folds._CACHE.clear()
                return _ridge_folds.ridge_folds(Xv, target, m, alphas)

            t_sk, ref = _best(lambda: sk_ridge(yv), args.repeat)
            t_new, new = _best(lambda: new_ridge(yv), args.repeat)
            diff = float(np.abs(new - ref).max() / np.abs(ref).max())
            rows.append((scheme, len(masks), "Ridge, first map", t_sk, t_new, diff))
            new_ridge(yv)  # the decomposition of these folds is kept
            t_sk, ref = _best(lambda: sk_ridge(y2), args.repeat)
            t_new, new = _best(lambda: new_ridge(y2, fresh=False), args.repeat)
            diff = float(np.abs(new - ref).max() / np.abs(ref).max())
            rows.append((scheme, len(masks), "Ridge, another map on the same folds", t_sk, t_new, diff))
    load1 = "/".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        "# Baselines: fold predictions against scikit-learn's separate fits",
        "",
        f"- commit: `{COMMIT}`; command: `python benchmarks/bench_baselines.py {' '.join(sys.argv[1:])}`",
        f"- AD atrophy map (ADNI2 baseline), DK, {X.shape[1]} landmark genes, 68 regions; LORO "
        "(68 folds) and distance-blocked spatial CV (one fold per region, 25% of a hemisphere); "
        "one BLAS thread",
        f"- time: best of {args.repeat} runs, seconds; difference: max |new - scikit-learn| / "
        "max |scikit-learn| over all folds and regions",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs; load "
        f"average {load0} → {load1}",
        "",
        "| CV | folds | baseline | scikit-learn (s) | crossscale (s) | speed-up | max rel. difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for scheme, n, what, t_sk, t_new, diff in rows:
        lines.append(f"| {scheme} | {n} | {what} | {t_sk:.3f} | {t_new:.4f} | {t_sk / t_new:.0f}x | "
                     f"{diff:.1e} |")  # fmt: skip
    OUT.parent.mkdir(exist_ok=True)
    tmp = OUT.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(OUT)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
