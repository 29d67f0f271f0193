"""``crossscale benchmark``: a registered model (default GraphVAE) and the baselines on many maps.

One table: per map and model, in-sample, leave-one-region-out and spatial-CV R² and r, the
spin-test p-value of the cross-validated r (refits on spun maps), and wall times.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

from crossscale.models import registry
from crossscale.models.registry import DEFAULT_MODEL

logger = logging.getLogger(__name__)

__all__ = ["benchmark"]


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
        None, "--scheduler", help="Dask: 'local' or tcp://host:port (needs crossscale\\[dask])."
    ),
    batch_size: int = typer.Option(
        250, "--batch-size", help="Null maps per stacked GraphVAE program / Dask task."
    ),
    null_models: str = typer.Option(
        "all",
        "--null-models",
        help="Models refitted on the spin nulls: 'all', or a comma list such as 'GraphVAE,PLS-4'.",
    ),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="Registered regional model (default graphvae)."),
    param: list[str] = typer.Option(
        None, "--param", metavar="KEY=VALUE", help="A model parameter (repeatable), e.g. --param n_latent=4."
    ),
    preset: str = typer.Option("default", help="Parameter preset of --model (see crossscale fit)."),
    max_epochs: int = typer.Option(None, help="Same as --param max_epochs=N."),
    ensemble: int = typer.Option(None, "--ensemble", help="Same as --param n_ensemble=N."),
    atlas: str = typer.Option(
        "dk", "--atlas", help="Parcellation: dk (default), dk-subcortex, schaefer100-400, glasser360; other than dk, --maps bigbrain."
    ),
    gene_panel: str = typer.Option(
        "auto", "--gene-panel", help="Built-in expression genes: auto, l1000 (dk only) or stable."
    ),
    seed: int = typer.Option(0, help="Random seed of every stochastic step."),
    device: str = typer.Option("auto", help="'auto' (CUDA when present), 'cpu' or 'cuda'."),
) -> None:
    """Run a model (default GraphVAE) and the baselines (PLS 1-5, ridge, spatial-only) on many maps."""
    from crossscale._validate import MAX_EPOCHS, MAX_PERM
    from crossscale.cli import _checks as chk

    # the numbers first: no import of the models is needed to refuse them
    chk.seed("--seed", seed)
    chk.at_least("--n-perm", n_perm, 0, hint="0 skips the null refits.")
    chk.count("--n-perm", n_perm, 0, MAX_PERM)
    chk.count("--max-epochs", max_epochs, 1, MAX_EPOCHS)
    chk.count("--ensemble", ensemble, 1, 10_000)
    chk.count("--batch-size", batch_size, 1, MAX_PERM)
    from crossscale._device import check_device
    from crossscale._errors import ParameterError
    from crossscale._utils import check_output_dir
    from crossscale.maps.catalog import resolve_maps
    from crossscale.models.baselines import default_baselines
    from crossscale.pipeline import benchmark_maps, model_params, parse_null_cv
    from crossscale.pipeline.benchmark import resolve_null_models

    t_start = time.perf_counter()
    # -- every check before any work ----------------------------------------------------------
    atlas_obj = chk.atlas_option("--atlas", atlas)
    chk.one_of("--gene-panel", gene_panel, ("auto", "l1000", "stable"))
    keys = resolve_maps(maps, atlas_obj)
    chk.at_least("--n-perm", n_perm, 0, hint="0 skips the null refits.")
    if n_perm and parse_null_cv(null_cv) is None:
        raise ParameterError("--null-cv must name a CV scheme when --n-perm > 0.")
    chk.scheduler("--scheduler", scheduler)
    chk.at_least("--batch-size", batch_size, 1)
    if max_epochs is not None:
        chk.at_least("--max-epochs", max_epochs, 1)
    if ensemble is not None:
        chk.at_least("--ensemble", ensemble, 1)
    check_device(device)
    params = model_params(model, preset, param, seed=seed, device=device,
                          aliases={"max_epochs": max_epochs, "n_ensemble": ensemble})  # fmt: skip
    resolve_null_models(null_models, [registry.get(model).label, *default_baselines()])
    out = check_output_dir(out, overwrite=overwrite)
    result = benchmark_maps(
        keys, model=model, preset=preset, params=params, n_perm=n_perm,
        null_cv=null_cv, null_models=null_models, scheduler=scheduler, batch_size=batch_size,
        seed=seed, atlas=atlas_obj, gene_panel=gene_panel, echo=typer.echo,
    )  # fmt: skip
    result.save(out, overwrite=overwrite, command="crossscale benchmark")
    total = time.perf_counter() - t_start
    typer.echo(f"{out}/benchmark.csv, benchmark.md, report.html written ({total:.0f} s)")
