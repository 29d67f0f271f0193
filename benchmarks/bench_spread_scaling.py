"""SpreadMixtureVAE fit time against cohort size: writes benchmarks/results/spread_scaling.md (+ CSV).

Usage::

    CROSSSCALE_MIRROR=../shared/data nice -n 10 python benchmarks/bench_spread_scaling.py \
        [--sizes 200,1000,5000] [--epochs 50] [--out NAME]

Simulated cohorts as in the fit-time part of ``benchmarks/bench_spread.py`` (K = 2 subtypes
seeded at the left entorhinal and the precuneus, Fisher-KPP on the ENIGMA HCP connectome,
rho 0.1 / year, alpha 0.5 / year, noise 0.05, three visits at 0, 2, 4 years), fitted with the
defaults (``SpreadMixtureVAE(2, max_epochs=50)``: amortised training by the shared plan, 3 EM
rounds with per-subject Laplace posteriors, epicentre scores), then ``transform``. A fit whose time
grows linearly with the cohort has a constant time per subject; the subtype ARI against the truth
checks that the fits are as good at every size. A 20-subject fit warms up first (not timed).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_spread import commit  # noqa: E402  (one stamp helper for the spread benchmarks)

RESULTS = Path(__file__).parent / "results"


def measure(n: int, epochs: int, seed: int, graph) -> dict[str, float]:
    """Fit and transform one simulated cohort of `n` subjects; times in seconds."""
    from sklearn.metrics import adjusted_rand_score

    from crossscale.evaluate.spread_benchmark import SIM_EPICENTRES
    from crossscale.models.spread import SpreadMixtureVAE, simulate_cohort

    cohort = simulate_cohort(graph, n, subtypes=[(e, 0.1, 0.5) for e in SIM_EPICENTRES[:2]],
                             noise=0.05, random_state=seed + 11)  # fmt: skip
    t0 = time.perf_counter()
    vae = SpreadMixtureVAE(2, max_epochs=epochs, random_state=seed).fit(cohort.maps, graph)
    t1 = time.perf_counter()
    vae.transform(cohort.maps)
    t2 = time.perf_counter()
    hist = vae.history_
    train_s = float(getattr(hist, "seconds", float("nan")))
    pred = vae.predict(cohort.maps)
    return {
        "n_subjects": n, "n_visits": len(cohort.maps), "fit_s": t1 - t0,
        "train_s": train_s, "em_and_epicentres_s": (t1 - t0) - train_s,
        "transform_s": t2 - t1, "total_s": t2 - t0, "ms_per_subject": 1000 * (t2 - t0) / n,
        "subtype_ARI": adjusted_rand_score(cohort.labels.loc[pred.index], pred),
        "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,1000,5000", help="comma-separated cohort sizes")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="spread_scaling", help="results/<out>.md and .csv")
    args = ap.parse_args()
    from crossscale.atlas import RegionGraph

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    stamp = commit()  # the code that runs: taken before the run, not after
    graph = RegionGraph.from_connectome()
    measure(20, 2, args.seed, graph)  # warm-up (imports, first calls), not timed
    t0 = time.perf_counter()
    rows = []
    for n in sizes:
        rows.append(measure(n, args.epochs, args.seed, graph))
        sys.stdout.write(json.dumps(rows[-1]) + "\n")
        sys.stdout.flush()
    minutes = (time.perf_counter() - t0) / 60
    table = pd.DataFrame(rows)
    first = table.iloc[0]
    table["x_subjects"] = table["n_subjects"] / first["n_subjects"]
    table["x_time"] = table["total_s"] / first["total_s"]
    table["x_time / x_subjects"] = table["x_time"] / table["x_subjects"]
    cmd = ("CROSSSCALE_MIRROR=../shared/data nice -n 10 python benchmarks/bench_spread_scaling.py "
           f"--sizes {args.sizes} --epochs {args.epochs}"
           + (f" --seed {args.seed}" if args.seed else "")
           + (f" --out {args.out}" if args.out != "spread_scaling" else ""))  # fmt: skip
    params = {"sizes": sizes, "epochs": args.epochs, "seed": args.seed, "K": 2, "noise": 0.05,
              "rho": 0.1, "alpha": 0.5, "visits": [0.0, 2.0, 4.0]}  # fmt: skip
    fmt = table.copy()
    for c in fmt.columns:
        if fmt[c].dtype.kind == "f":
            fmt[c] = fmt[c].map(lambda v: f"{v:.3g}")
    md = ["| " + " | ".join(fmt.columns) + " |", "|" + "---|" * len(fmt.columns)]
    md += ["| " + " | ".join(str(v) for v in row) + " |" for row in fmt.itertuples(index=False)]
    text = "\n".join([
        "# SpreadMixtureVAE fit time against cohort size",
        "",
        f"Commit `{stamp}`; command `{cmd}`; {minutes:.0f} min on {platform.machine()} (torch on "
        "1 thread, a 2-core CPU shared with other jobs: timings are noisy).",
        "",
        f"Parameters: `{json.dumps(params)}`.",
        "",
        __doc__.split("\n\n")[-1].strip(),
        "",
        "Times in seconds (``total_s`` = fit + transform; ``train_s`` = the amortised training, "
        "``history_.seconds``). ``x_time / x_subjects`` = 1 is linear growth from the first size.",
        "",
        *md,
    ])  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text(text + "\n")
    table.assign(commit=stamp).to_csv(RESULTS / f"{args.out}.csv", index=False)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
