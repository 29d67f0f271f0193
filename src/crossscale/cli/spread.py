"""``crossscale spread simulate|fit|fit-group|benchmark``: the doorway to :mod:`crossscale.pipeline.spread`."""

from __future__ import annotations

from pathlib import Path

import typer

from crossscale.cli import _options as o

app = typer.Typer(
    help="Network diffusion / Fisher-KPP spreading models and the SpreadMixtureVAE subtype model.",
    no_args_is_help=True,
)


def _run(config: object, out: Path, overwrite: bool) -> object:
    """Check `config` and `out` before any work, run the workflow and save its folder."""
    from crossscale.pipeline import spread
    from crossscale.pipeline._workflow import command_line

    config.check()  # type: ignore[attr-defined]
    out = spread.check_output(config, out, overwrite=overwrite)
    result = spread.run(config, echo=typer.echo)
    result.save(out, overwrite=overwrite, command=command_line())
    return result


@app.command("simulate")
def simulate(
    out: o.OutDir, n_subjects: o.NSubjects = 60,
    subtypes: o.Subtypes = "L_entorhinal:0.1:0.5,L_lateraloccipital:0.1:0.5",
    timepoints: o.Timepoints = "0,2,4", noise: o.Noise = 0.05, dynamics: o.Dynamics = "fisher_kpp",
    graph: o.SpreadGraph = "connectome", seed: o.Seed = 0, overwrite: o.Overwrite = False,
) -> None:  # fmt: skip
    """Simulate a longitudinal cohort with known spreading subtypes."""
    from crossscale.pipeline.spread import SimulateConfig

    res = _run(SimulateConfig(n_subjects=n_subjects, subtypes=subtypes, timepoints=timepoints,
                              noise=noise, dynamics=dynamics, graph=graph, seed=seed),
               out, overwrite)  # fmt: skip
    typer.echo(f"{out}/maps.csv written ({res.cohort.maps.shape[0]} visits x 68 regions)")


@app.command("fit")
def fit(
    out: o.OutDir, maps: o.CohortMaps = None, adni: o.CohortAdni = False, n_subtypes: o.NSubtypes = "2",
    max_subtypes: o.MaxSubtypes = 4, selection_repeats: o.SelectionRepeats = 2, truth: o.Truth = None,
    dynamics: o.Dynamics = "fisher_kpp", epochs: o.CohortEpochs = 100, n_rewired: o.NRewired = 100,
    n_length: o.NLengthAdni = 100, graph: o.SpreadGraph = "connectome", seed: o.Seed = 0,
    overwrite: o.Overwrite = False,
) -> None:  # fmt: skip
    """Fit SpreadMixtureVAE to a cohort, or network diffusion / Fisher-KPP to ADNI2 group maps."""
    from crossscale.pipeline.spread import CohortFitConfig

    res = _run(CohortFitConfig(
        maps=None if maps is None else str(maps), adni=adni, n_subtypes=n_subtypes,
        max_subtypes=max_subtypes, selection_repeats=selection_repeats,
        truth=None if truth is None else str(truth), dynamics=dynamics, epochs=epochs,
        n_rewired=n_rewired, n_length=n_length, graph=graph, seed=seed), out, overwrite)  # fmt: skip
    if adni:
        typer.echo(f"{out}/report.html written")
        return
    typer.echo(f"{out}/report.html written; {res.n_subtypes} subtype(s), epicentres "
               f"{res.model.epicentres_}")  # fmt: skip


@app.command("fit-group")
def fit_group(
    out: o.OutDir, maps: o.GroupMaps = None, adni: o.GroupAdni = False,
    graph: o.GroupGraph = "connectome", models: o.GroupModels = "diffusion,fisher_kpp",
    stage_order: o.StageOrder = None, columns: o.Columns = None, flip_sign: o.FlipSign = False,
    n_length: o.NLength = 100, n_degree: o.NDegree = 100, n_folds: o.NFolds = 10,
    seed: o.GroupSeed = 0, overwrite: o.Overwrite = False,
) -> None:  # fmt: skip
    """Fit network diffusion and Fisher-KPP to group maps, against baselines and null graphs.

    Named after the group-level maps it fits (case-control t or Cohen's d, group-mean SUVR),
    as opposed to `spread fit`, which fits a cohort of subjects.
    """
    from crossscale.pipeline.spread_groups import GroupFitConfig, models_option, stage_order_option

    _run(GroupFitConfig(
        maps=str(maps) if maps is not None else None, adni=adni, graph=graph,
        models=models_option(models), stage_order=stage_order_option(stage_order),
        columns=models_option(columns) if columns else None, flip_sign=flip_sign,
        n_length=n_length, n_degree=n_degree, n_folds=n_folds, seed=seed), out, overwrite)  # fmt: skip
    typer.echo(f"{out}/report.html written")


@app.command("benchmark")
def benchmark(
    out: o.OutDir, quick: o.Quick = False, epochs: o.VaeEpochs = 50, seed: o.BaseSeed = 0,
    overwrite: o.Overwrite = False,
) -> None:  # fmt: skip
    """Benchmark SpreadMixtureVAE against k-means, GMM and per-subject fits on simulations."""
    from crossscale.pipeline.spread import SpreadBenchmarkConfig

    res = _run(SpreadBenchmarkConfig(quick=quick, epochs=epochs, seed=seed), out, overwrite)
    typer.echo(res.to_markdown())
