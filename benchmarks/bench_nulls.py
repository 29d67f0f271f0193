"""Speed and calibration of the spatial null models; writes benchmarks/results/nulls.md.

Run:  CROSSSCALE_MIRROR=/work/shared/data .venv/bin/python benchmarks/bench_nulls.py [--quick]

Tables:
1. time to generate 1,000 and 10,000 nulls of the 68-region Desikan-Killiany atlas per method
   (cold: no cache; mesh and eigenvectors loaded beforehand);
2. false-positive rate (p < 0.05) of two independent smooth random maps, per null model, for
   graph heat-kernel fields exp(-t L) z and isotropic Gaussian fields on the sphere;
3. example comparisons of the ADNI AD atrophy map with ENIGMA cortical-thickness maps.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.linalg

from crossscale.atlas import RegionGraph, dk_regions
from crossscale.maps import load_adni_map, load_enigma_map
from crossscale.nulls import (
    compare_maps,
    moran_eigenvectors,
    moran_randomization,
    morans_i,
    random_rotations,
    sphere_centroids,
    spin_alexander_bloch,
    spin_hungarian,
    spin_vasa,
    spin_vertex_average,
)
from crossscale.nulls.vertex_spins import _vertex_counts

RESULTS = Path(__file__).resolve().parent / "results" / "nulls.md"


def markdown(df: pd.DataFrame) -> str:
    """A pipe table (no tabulate dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def speed_table(sizes: list[int], ad: pd.Series, graph: RegionGraph) -> pd.DataFrame:
    methods = {
        "hungarian (spin_hungarian)": lambda n: spin_hungarian(n_perm=n, random_state=0),
        "vasa, farthest first (spin_vasa)": lambda n: spin_vasa(n_perm=n, random_state=0),
        "vasa, random order": lambda n: spin_vasa(n_perm=n, random_state=0, order="random"),
        "alexander_bloch, majority (spin_alexander_bloch)": lambda n: spin_alexander_bloch(
            n_perm=n, random_state=0
        ),
        "vertex average (spin_vertex_average)": lambda n: spin_vertex_average(
            ad, n_perm=n, random_state=0
        ),
        "moran singleton (moran_randomization)": lambda n: moran_randomization(
            ad, graph, n_perm=n, random_state=0
        ),
        "moran pair": lambda n: moran_randomization(
            ad, graph, n_perm=n, procedure="pair", random_state=0
        ),
        "rotations only (random_rotations)": lambda n: random_rotations(n, 0),
    }
    spin_vertex_average(ad, n_perm=2, random_state=0)  # load meshes and KD-trees once
    moran_eigenvectors(graph)
    rows = []
    for name, fn in methods.items():
        row = {"method": name}
        for n in sizes:
            row[f"{n:,} nulls (s)"] = round(_timed(lambda fn=fn, n=n: fn(n)), 2)
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def _vertex_weights(rotations: np.ndarray) -> np.ndarray:
    """(n_perm, 68, 68) share of each region's rotated vertices landing in each region."""
    regions = dk_regions()
    w = np.zeros((len(rotations), 68, 68))
    for _h, idx, start, _rot, counts in _vertex_counts(regions, rotations):
        w[start : start + len(counts)][:, idx[:, None], idx[None, :]] = counts
    total = w.sum(-1, keepdims=True)
    return w / np.where(total > 0, total, 1)  # empty rows (rare) give 0: fine for a benchmark


def calibration_table(n_repeats: int, n_perm: int, graph: RegionGraph) -> pd.DataFrame:
    regions = graph.regions
    lap = graph.laplacian().toarray()
    c = sphere_centroids().to_numpy()
    d = np.linalg.norm(c[:, None] - c[None], axis=-1)
    fields = {}
    for t in (0.1, 0.3, 0.6):
        k = scipy.linalg.expm(-t * lap)
        fields[f"graph heat kernel t={t}"] = lambda rng, k=k: k @ rng.standard_normal(68)
    for ell in (30.0, 50.0):
        cov = np.exp(-(d**2) / (2 * ell**2))
        cov[:34, 34:] = cov[34:, :34] = 0.0
        chol = np.linalg.cholesky(cov + 1e-8 * np.eye(68))
        fields[f"sphere Gaussian, length {ell:g} mm"] = lambda rng, ch=chol: (
            ch @ rng.standard_normal(68)
        )
    rotations = random_rotations(n_perm, 3)
    perms = {
        "hungarian": spin_hungarian(rotations=rotations),
        "vasa": spin_vasa(rotations=rotations),
        "alexander_bloch": spin_alexander_bloch(rotations=rotations),
        "shuffle (no spatial null)": np.random.default_rng(7)
        .permuted(np.tile(np.arange(68), (n_perm, 1)), axis=1)
        .T,
    }
    vertex_w = _vertex_weights(rotations)
    rows = []
    for fname, gen in fields.items():
        rng = np.random.default_rng(1)
        hits: dict[str, list[bool]] = {m: [] for m in [*perms, "vertex", "moran", "moran_pair"]}
        moran_i = []
        for i in range(n_repeats):
            a = pd.Series(gen(rng), index=regions)
            b = pd.Series(gen(rng), index=regions)
            moran_i.append(morans_i(a, graph))
            for m, p in perms.items():
                hits[m].append(compare_maps(a, b, nulls=p).p_value < 0.05)
            hits["vertex"].append(
                compare_maps(a, b, nulls=(vertex_w @ a.to_numpy()).T).p_value < 0.05
            )
            for m in ("moran", "moran_pair"):
                res = compare_maps(a, b, nulls=m, n_perm=n_perm, random_state=i, graph=graph)
                hits[m].append(res.p_value < 0.05)
        row = {"field": fname, "mean Moran's I": round(float(np.mean(moran_i)), 2)}
        row.update({m: round(float(np.mean(h)), 3) for m, h in hits.items()})
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def example_table(n_perm: int, graph: RegionGraph) -> pd.DataFrame:
    ad = load_adni_map("AD", "baseline")
    others = {
        "ADNI LMCI baseline": load_adni_map("LMCI", "baseline"),
        "ENIGMA schizophrenia thickness d": load_enigma_map("enigma_scz_case_controls_thickness"),
        "ENIGMA all epilepsies thickness d": load_enigma_map(
            "enigma_allepi_case_controls_thickness"
        ),
        "ENIGMA adult MDD thickness d": load_enigma_map("enigma_mddadult_case_controls_thickness"),
    }
    rows = []
    for name, y in others.items():
        row = {"map vs AD atrophy (ADNI AD baseline)": name}
        for nulls in ("spin", "vasa", "moran"):
            res = compare_maps(ad, y, nulls=nulls, n_perm=n_perm, random_state=0, graph=graph)
            row["r"] = round(res.statistic, 3)
            row[f"p {nulls}"] = round(res.p_value, 4)
        shuffles = np.random.default_rng(0).permuted(np.tile(np.arange(68), (n_perm, 1)), axis=1).T
        row["p shuffle"] = round(compare_maps(ad, y, nulls=shuffles).p_value, 4)
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [1000, 10000]
    n_repeats, n_cal_perm = (50, 100) if args.quick else (200, 500)
    graph = RegionGraph.from_surface()
    ad = load_adni_map("AD", "baseline")
    t0 = time.perf_counter()
    speed = speed_table(sizes, ad, graph)
    cal = calibration_table(n_repeats, n_cal_perm, graph)
    ex = example_table(1000 if args.quick else 10000, graph)
    total = time.perf_counter() - t0
    text = f"""# Spatial null models: speed and calibration

Generated by `benchmarks/bench_nulls.py{" --quick" if args.quick else ""}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC,
{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}
(total {total:.0f} s). 68 Desikan-Killiany regions, fsaverage5 sphere.

## 1. Time to generate the nulls (seconds, cold, no cache)

Spin methods return indices (n_regions, n_perm); `vertex` and Moran return values.

{markdown(speed)}

## 2. Calibration: fraction of p < 0.05 for two independent smooth maps (nominal 0.05)

{n_repeats} pairs of independent random maps per row, {n_cal_perm} nulls each, Pearson r, two-sided.
Spins use the same {n_cal_perm} rotations for every pair; Moran uses the fsaverage5 surface graph.
Binomial standard error at 0.05 with {n_repeats} pairs: {np.sqrt(0.05 * 0.95 / n_repeats):.3f}.
"Graph heat kernel" fields are exp(-t L) z on the surface graph (not rotation-invariant);
"sphere Gaussian" fields have squared-exponential covariance in sphere-centroid distance
(radius 100 mm), independent hemispheres: the rotation-invariant case spins are built for.

{markdown(cal)}

## 3. Example: ADNI AD atrophy map against other maps ({1000 if args.quick else 10000} nulls, seed 0)

{markdown(ex)}
"""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
