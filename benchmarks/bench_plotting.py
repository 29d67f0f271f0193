"""Time the figure layer: plot_brain_map (build and PNG), the latent-program grid, a report.

Run: CROSSSCALE_MIRROR=/work/shared/data python benchmarks/bench_plotting.py
Writes benchmarks/results/plotting.md.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale.maps import load_adni_map
from crossscale.plotting import plot_brain_map, plot_brain_maps, plot_null_distribution
from crossscale.report import Report

REPEATS = 5
OUT = Path(__file__).parent / "results" / "plotting.md"


def _png(fig, dpi=110):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getbuffer().nbytes


def _time(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main() -> None:
    ad = load_adni_map("AD", "baseline")
    latent = pd.DataFrame(
        np.random.default_rng(0).normal(size=(68, 4)),
        index=ad.index,
        columns=[f"z{i}" for i in range(4)],
    )
    rows = []

    t0 = time.perf_counter()
    _png(plot_brain_map(ad))
    rows.append(
        ("plot_brain_map + PNG, first call (loads meshes, labels)", time.perf_counter() - t0, None)
    )

    med, best = _time(lambda: plot_brain_map(ad))
    rows.append(("plot_brain_map, build figure (4 views)", med, best))
    med, best = _time(lambda: _png(plot_brain_map(ad)))
    rows.append(("plot_brain_map + PNG at 110 dpi", med, best))
    med, best = _time(lambda: _png(plot_brain_map(ad, surface="pial")))
    rows.append(("plot_brain_map(surface='pial') + PNG", med, best))
    med, best = _time(lambda: _png(plot_brain_maps(latent)), repeats=3)
    rows.append(("plot_brain_maps, 4 latent programs (16 views) + PNG", med, best))

    def report():
        rep = Report("bench")
        rep.add_figure(plot_brain_map(ad), caption="AD")
        rep.add_figure(
            plot_null_distribution(np.random.default_rng(0).normal(size=1000), 2.0, label="r")
        )
        rep.add_table(latent, caption="latent")
        return rep.to_html()

    med, best = _time(report, repeats=3)
    rows.append(("Report with brain map, null histogram, table -> HTML", med, best))

    lines = [
        "# Plotting benchmark",
        "",
        f"`python benchmarks/bench_plotting.py` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; median (best) of "
        f"{REPEATS} runs unless noted; ADNI2 AD baseline map, inflated fsaverage5 surface.",
        "",
        "| step | median (s) | best (s) |",
        "|---|---:|---:|",
    ]
    for name, med, best in rows:
        lines.append(f"| {name} | {med:.3f} | {'' if best is None else f'{best:.3f}'} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
