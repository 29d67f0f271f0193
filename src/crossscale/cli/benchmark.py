"""``crossscale benchmark``: GraphVAE and the baselines side by side on many disease maps.

One table: per map and model, in-sample, leave-one-region-out and spatial-CV R² and r, the
spin-test p-value of the cross-validated r (refits on spun maps), and wall times.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import typer

logger = logging.getLogger(__name__)

ADNI_GROUPS = {"ad": "AD", "lmci": "LMCI", "emci": "EMCI"}

TABLE_COLUMNS = [
    "map", "model", "in_sample_r2", "in_sample_r", "loro_r2", "loro_r", "spatial_r2", "spatial_r",
    "null_cv_r", "p_spin", "fit_time_s", "cv_time_s", "null_time_s",
]  # fmt: skip


def enigma_thickness_keys() -> list[str]:
    """Registry keys of the ENIGMA case-control cortical-thickness maps (33)."""
    from crossscale.datasets import registry

    return sorted(k for k in registry() if k.startswith("enigma_") and k.endswith("_thickness"))


def resolve_maps(spec: str) -> list[str]:
    """Expand ``--maps``: ``ad``, ``lmci``, ``emci``, ``enigma-thickness`` or registry keys."""
    from crossscale._errors import ParameterError
    from crossscale.datasets import registry

    keys: list[str] = []
    known = registry()
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        low = token.lower()
        if low in ADNI_GROUPS:
            keys.append(f"adni2_{low}_vol_baseline")
        elif low in ("enigma-thickness", "enigma_thickness"):
            keys += enigma_thickness_keys()
        elif token in known and (token.startswith("adni2_") or token.endswith("_thickness")):
            keys.append(token)
        else:
            raise ParameterError(
                f"--maps: unknown map {token!r}. Use ad, lmci, emci, enigma-thickness, or registry keys "
                "such as adni2_ad_vol_2 or enigma_scz_case_controls_thickness (`crossscale data list`)."
            )
    if not keys:
        raise ParameterError("--maps is empty; give at least one map, e.g. --maps ad.")
    return list(dict.fromkeys(keys))


def load_map(key: str):  # noqa: ANN201
    """Load a map by registry key (ADNI2 volume change or ENIGMA thickness)."""
    from crossscale.maps import load_adni_map, load_enigma_map

    if key.startswith("adni2_"):
        _, group, _, timepoint = key.split("_", 3)
        y = load_adni_map(group.upper(), timepoint)
    else:
        from crossscale._errors import InputDataError

        try:
            y = load_enigma_map(key)
        except InputDataError:
            # some ENIGMA tables leave regions empty (e.g. ASD mega-analysis: fusiform); keep the rest
            import pandas as pd

            from crossscale.atlas import to_canonical
            from crossscale.datasets import fetch

            raw = pd.read_csv(fetch(key))
            values = pd.to_numeric(raw["d_icv"], errors="coerce")
            y = pd.Series(
                values.to_numpy(), index=pd.Index(to_canonical(raw["Structure"]), name="region")
            )
            dropped = list(y.index[y.isna()])
            y = y.dropna()
            logger.warning(
                "%s: %d region(s) without a value dropped: %s", key, len(dropped), dropped
            )
            typer.echo(f"  {key}: {len(dropped)} region(s) without a value dropped: {dropped}")
    y.name = key
    return y


def benchmark(
    maps: str = typer.Option(
        "ad",
        "--maps",
        help="Comma list: ad, lmci, emci (ADNI2 baseline), enigma-thickness (33 ENIGMA case-control maps), or registry keys.",
    ),
    out: Path = typer.Option(
        Path("results/benchmark"), "--out", "-o", help="Output folder (written atomically)."
    ),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
    n_perm: int = typer.Option(
        100, "--n-perm", help="Spin null maps per map for p_spin (0: no null refits)."
    ),
    null_cv: str = typer.Option(
        "10",
        "--null-cv",
        help="CV of p_spin: k contiguous spatial blocks (k-means of centroids), or 'spatial' (distance-blocked, one fold per region: slow).",
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Dask: 'local' or tcp://host:port (needs crossscale[dask])."
    ),
    batch_size: int = typer.Option(
        100, "--batch-size", help="Null maps per stacked GraphVAE program / Dask task."
    ),
    max_epochs: int = typer.Option(1000, help="GraphVAE maximum epochs."),
    seed: int = typer.Option(0, help="Random seed of every stochastic step."),
    device: str = typer.Option("auto", help="'auto' (CUDA when present), 'cpu' or 'cuda'."),
) -> None:
    """Run GraphVAE and the baselines (PLS 1-5, ridge, spatial-only) on many maps; one table."""
    import numpy as np
    import pandas as pd

    from crossscale import __version__
    from crossscale._device import check_device
    from crossscale._errors import ParameterError
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk
    from crossscale.cli.fit import _versions, parse_null_cv
    from crossscale.datasets import checksums

    t_start = time.perf_counter()
    # -- every check before any work ----------------------------------------------------------
    keys = resolve_maps(maps)
    chk.at_least("--n-perm", n_perm, 0, hint="0 skips the null refits.")
    cv = parse_null_cv(null_cv)
    if n_perm and cv is None:
        raise ParameterError("--null-cv must name a CV scheme when --n-perm > 0.")
    chk.scheduler("--scheduler", scheduler)
    chk.at_least("--batch-size", batch_size, 1)
    chk.at_least("--max-epochs", max_epochs, 1)
    check_device(device)
    out = check_output_dir(out, overwrite=overwrite)
    # every check passed: only now import torch, scikit-learn and matplotlib
    from crossscale.atlas import RegionGraph
    from crossscale.evaluate import evaluate_models, null_distribution
    from crossscale.models.baselines import default_baselines
    from crossscale.models.graphvae import GraphVAE
    from crossscale.report.benchmark import build_benchmark_report
    from crossscale.transcriptomics import load_default_expression

    typer.echo("Loading AHBA expression and landmark genes ...")
    X_all, selection = load_default_expression()
    rows = []
    for i, key in enumerate(keys, 1):
        y = load_map(key)
        regions = pd.Index([r for r in X_all.index if r in y.index], name="region")
        X, y = X_all.loc[regions], y.loc[regions].astype(float)
        graph = RegionGraph.from_surface(regions)
        typer.echo(f"[{i}/{len(keys)}] {key}: {len(regions)} regions")
        gvae = GraphVAE(max_epochs=max_epochs, random_state=seed, device=device)
        models = {"GraphVAE": gvae} | default_baselines()
        ev = evaluate_models(X, y, graph, models, cv=("loro", "spatial"))
        for name, est in models.items():
            row = {"map": key, "model": name} | ev.metrics.loc[name].to_dict()
            row["null_cv_r"], row["p_spin"], row["null_time_s"] = np.nan, np.nan, np.nan
            if n_perm:
                res = null_distribution(
                    est, X, y, graph, "spin", metric="r", cv=cv, n_perm=n_perm,
                    random_state=seed, scheduler=scheduler, batch_size=batch_size,
                    in_sample=False,
                )  # fmt: skip
                row["null_cv_r"], row["p_spin"] = res.observed["cv_r"], res.p_values["cv_r"]
                row["null_time_s"] = res.time_s
            rows.append(row)
        best = ev.metrics["spatial_r"].idxmax()
        typer.echo(
            f"  GraphVAE spatial-CV r = {ev.metrics.loc['GraphVAE', 'spatial_r']:.3f}; best: {best} "
            f"({ev.metrics.loc[best, 'spatial_r']:.3f})"
        )
    table = pd.DataFrame(rows)[TABLE_COLUMNS]
    cv_name = (f"kfold{cv}" if isinstance(cv, int) else cv) if n_perm else None
    total = time.perf_counter() - t_start
    with atomic_dir(out, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "benchmark.csv", index=False, float_format="%.6g")
        (tmp / "benchmark.md").write_text(markdown_table(table))
        write_json(tmp / "run.json", {
            "command": " ".join(["crossscale", *sys.argv[1:]]),
            "parameters": {"maps": keys, "n_perm": n_perm, "null_cv": cv_name, "scheduler": scheduler,
                           "batch_size": batch_size, "max_epochs": max_epochs, "seed": seed},
            "model_params": GraphVAE(max_epochs=max_epochs, random_state=seed, device=device).get_params(),
            "versions": _versions(__version__),
            "seed": seed,
            "n_genes": X_all.shape[1],
            "data_checksums": checksums(["ahba_expression", "lincs_landmark_genes", *keys]),
            "total_time_s": total,
        })  # fmt: skip
        report = build_benchmark_report(
            table, n_perm=n_perm, null_cv=cv_name, n_genes=X_all.shape[1], seed=seed
        )
        report.save(tmp / "report.html")
    typer.echo(f"{out}/benchmark.csv, benchmark.md, report.html written ({total:.0f} s)")
    del selection


def markdown_table(table) -> str:  # noqa: ANN001
    """The benchmark table as GitHub markdown (3 decimals, p-values 3 significant digits)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, str):
                cells.append(v)
            elif v != v:
                cells.append("–")
            elif c == "p_spin":
                cells.append(f"{v:.3g}")
            elif c.endswith("_s"):
                cells.append(f"{v:.1f}")
            else:
                cells.append(f"{v:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
