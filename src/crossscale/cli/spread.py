"""``crossscale spread simulate|fit|benchmark``: spreading subtypes on the connectome."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="Network diffusion / Fisher-KPP spreading models and the SpreadMixtureVAE subtype model.",
    no_args_is_help=True,
)
logger = logging.getLogger(__name__)


def _run_info(command: str, params: dict, extra: dict | None = None, datasets=()) -> dict:  # noqa: ANN001
    from crossscale._provenance import run_record
    from crossscale.datasets import registry

    extra = dict(extra or {})
    seed = extra.get("seeds", {}).get("random_state")
    known = registry()
    return run_record(f"crossscale {command}", parameters=params, seed=seed,
                      datasets=[k for k in datasets if k in known], **extra)  # fmt: skip


def _graph(name: str):
    from crossscale._errors import ParameterError
    from crossscale.atlas import RegionGraph

    if name == "connectome":
        return RegionGraph.from_connectome()
    if name == "surface":
        return RegionGraph.from_surface()
    raise ParameterError(f"--graph must be 'connectome' or 'surface'; got {name!r}.")


def _parse_subtypes(text: str) -> list[tuple[str, float, float]]:
    from crossscale._errors import ParameterError

    out = []
    for part in text.split(","):
        bits = part.strip().split(":")
        if len(bits) != 3:
            raise ParameterError(
                f"--subtypes items must be EPICENTRE:RHO:ALPHA (e.g. L_entorhinal:0.1:0.5); "
                f"got {part!r}."
            )
        try:
            rho, alpha = float(bits[1]), float(bits[2])
        except ValueError:
            raise ParameterError(
                f"--subtypes: RHO and ALPHA must be numbers (EPICENTRE:RHO:ALPHA, e.g. "
                f"L_entorhinal:0.1:0.5); got {part!r}."
            ) from None
        out.append((bits[0], rho, alpha))
    return out


@app.command("simulate")
def simulate(
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    n_subjects: int = typer.Option(60, help="Number of subjects."),
    subtypes: str = typer.Option(
        "L_entorhinal:0.1:0.5,L_lateraloccipital:0.1:0.5",
        help="Comma-separated EPICENTRE:RHO:ALPHA (rates per year).",
    ),
    timepoints: str = typer.Option("0,2,4", help="Visit times in years after the first visit."),
    noise: float = typer.Option(0.05, help="Gaussian noise sd (saturation = 1)."),
    model: str = typer.Option("fisher_kpp", help="fisher_kpp or diffusion."),
    graph: str = typer.Option("connectome", help="connectome (HCP structural) or surface."),
    seed: int = typer.Option(0, help="Random seed."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Simulate a longitudinal cohort with known spreading subtypes."""
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk

    chk.at_least("--n-subjects", n_subjects, 1)
    chk.count("--n-subjects", n_subjects, 1, 1_000_000)
    chk.seed("--seed", seed)
    chk.at_least("--noise", noise, 0)
    chk.one_of("--model", model, ("fisher_kpp", "diffusion"))
    chk.one_of("--graph", graph, ("connectome", "surface"))
    times = chk.float_list("--timepoints", timepoints, minimum=0)
    subtype_list = _parse_subtypes(subtypes)
    out = check_output_dir(out, overwrite=overwrite)
    from crossscale.models.spread import simulate_cohort

    g = _graph(graph)
    cohort = simulate_cohort(g, n_subjects, subtype_list, times, noise=noise,
                             model=model, random_state=seed)  # fmt: skip
    with atomic_dir(out, overwrite=overwrite) as tmp:
        cohort.maps.to_csv(tmp / "maps.csv")
        cohort.params.to_csv(tmp / "truth.csv")
        params = {"n_subjects": n_subjects, "subtypes": subtypes, "timepoints": times,
                  "noise": noise, "model": model, "graph": graph}  # fmt: skip
        write_json(tmp / "run.json", _run_info("spread simulate", params, {
            "seeds": {"random_state": seed}, "graph": g.to_dict(), "cohort": cohort.to_dict(),
        }, datasets=["enigma_hcp_struc_matrix_ctx"]))  # fmt: skip
    typer.echo(f"{out}/maps.csv written ({cohort.maps.shape[0]} visits x 68 regions)")


@app.command("fit")
def fit(
    maps: Path = typer.Argument(
        None, help="CSV of visits: columns subject, time, then the 68 regions. Omit with --adni."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    adni: bool = typer.Option(
        False, "--adni",
        help="Fit the ADNI2 EMCI/LMCI/AD group maps instead of a cohort (the same as "
        "`spread fit-group --adni`; never together with MAPS).",
    ),
    n_subtypes: str = typer.Option(
        "2",
        help="K, or 'auto': held-out log predictive density over 1..--max-subtypes with the "
        "one-standard-error rule.",
    ),
    max_subtypes: int = typer.Option(4, help="Largest K tried by --n-subtypes auto."),
    selection_repeats: int = typer.Option(
        2, help="--n-subtypes auto: independent held-out splits (seed stability)."
    ),
    truth: Path = typer.Option(
        None,
        help="truth.csv of a simulated cohort (only when given); adds simulated-vs-true panels "
        "to the report.",
    ),
    model: str = typer.Option("fisher_kpp", help="fisher_kpp or diffusion."),
    epochs: int = typer.Option(100, help="Training epochs (EM rounds follow)."),
    n_rewired: int = typer.Option(100, help="--adni: degree-preserving rewired null graphs (beside)."),
    n_length: int = typer.Option(
        100, help="--adni: degree- and edge-length-preserving rewired null graphs (headline)."
    ),
    graph: str = typer.Option("connectome", help="connectome (HCP structural) or surface."),
    seed: int = typer.Option(0, help="Random seed."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Fit SpreadMixtureVAE to a cohort, or network diffusion / Fisher-KPP to ADNI2 group maps."""
    from crossscale._errors import ParameterError
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk

    chk.one_of("--model", model, ("fisher_kpp", "diffusion"))
    chk.one_of("--graph", graph, ("connectome", "surface"))
    from crossscale._validate import MAX_EPOCHS, MAX_PERM

    chk.at_least("--epochs", epochs, 1)
    chk.count("--epochs", epochs, 1, MAX_EPOCHS)
    chk.at_least("--n-rewired", n_rewired, 0)
    chk.at_least("--n-length", n_length, 0)
    chk.count("--n-rewired", n_rewired, 0, MAX_PERM)
    chk.count("--n-length", n_length, 0, MAX_PERM)
    chk.count("--max-subtypes", max_subtypes, 1, 100)
    chk.count("--selection-repeats", selection_repeats, 1, 1000)
    chk.seed("--seed", seed)
    if n_subtypes != "auto":
        try:
            chk.at_least("--n-subtypes", int(n_subtypes), 1)
        except ValueError:
            raise ParameterError(
                f"--n-subtypes must be an integer or 'auto'; got {n_subtypes!r}."
            ) from None
    if adni and maps is not None:
        raise ParameterError(
            f"Both a maps file ({maps}) and --adni were given: --adni fits the bundled ADNI2 "
            "group maps and would ignore the file. Give the file alone (a cohort of subjects: "
            "`spread fit MAPS`; group maps: `spread fit-group MAPS`), or --adni alone."
        )
    if not adni and maps is None:
        raise ParameterError("Give a maps CSV (see 'crossscale spread simulate'), or --adni.")
    if not adni:
        chk.input_file("MAPS", maps, what="maps CSV")
    chk.input_file("--truth", truth, what="truth file")
    out = check_output_dir(out, overwrite=overwrite, inputs=[maps, truth])
    if adni:  # the group-map workflow on the bundled ADNI2 maps (= spread fit-group --adni)
        from crossscale.pipeline.spread_groups import GroupFitConfig

        _run_group(GroupFitConfig(adni=True, graph=graph, n_length=n_length, n_degree=n_rewired,
                                  seed=seed), out, overwrite=overwrite)  # fmt: skip
        return
    g = _graph(graph)
    import pandas as pd

    from crossscale.maps.readers import read_delimited
    from crossscale.models.spread import SpreadMixtureVAE, select_n_subtypes

    X = read_delimited(maps, "The maps CSV")
    if {"subject", "time"} <= set(X.columns):
        X = X.set_index(["subject", "time"])
    elif "subject" in X.columns:
        X = X.set_index("subject")
    else:
        raise ParameterError(f"{maps} needs a 'subject' column (and optionally 'time').")
    selection = None
    if n_subtypes == "auto":
        if max_subtypes < 1 or selection_repeats < 1:
            raise ParameterError(
                f"--max-subtypes and --selection-repeats must be >= 1; got {max_subtypes}, "
                f"{selection_repeats}."
            )
        selection = select_n_subtypes(X, g, candidates=range(1, max_subtypes + 1),
                                      n_repeats=selection_repeats, random_state=seed,
                                      model=model, max_epochs=epochs)  # fmt: skip
        k = selection.best
    else:
        try:
            k = int(n_subtypes)
        except ValueError:
            raise ParameterError(
                f"--n-subtypes must be an integer or 'auto'; got {n_subtypes!r}."
            ) from None
    est = SpreadMixtureVAE(k, model=model, max_epochs=epochs, random_state=seed).fit(X, g)
    proba = est.predict_proba(X)
    params = est.transform(X)
    truth_path = truth
    truth_df = None
    beside = Path(maps).with_name("truth.csv")
    if truth is None and beside.exists():
        typer.echo(f"Note: '{beside}' was not used (files are read only when named); pass "
                   f"--truth {beside} to add simulated-vs-true panels to the report.")  # fmt: skip
    if truth_path is not None and truth_path.exists():
        truth_df = pd.read_csv(truth_path, index_col=0)
        truth_df.index = truth_df.index.astype(str)
        need = {"rho", "onset", "subtype"} | ({"alpha"} if model == "fisher_kpp" else set())
        if not need <= set(truth_df.columns) or not set(params.index) <= set(truth_df.index):
            raise ParameterError(
                f"{truth_path} must have a row per subject of {maps} and columns "
                f"{sorted(need)} (as written by 'crossscale spread simulate'); got columns "
                f"{list(truth_df.columns)}. Pass the truth.csv written with these maps."
            )
    with atomic_dir(out, overwrite=overwrite, inputs=[maps]) as tmp:
        est.save(tmp / "model")
        params.join(proba).to_csv(tmp / "subjects.csv")
        est.subtype_params_.to_csv(tmp / "subtypes.csv")
        est.epicentre_proba_.T.to_csv(tmp / "epicentre_proba.csv")
        est.history_.to_csv(tmp / "history.csv")
        sel_dict = selection.to_dict() if selection is not None else None
        write_json(tmp / "run.json", _run_info("spread fit", {
            "maps": str(maps), "n_subtypes": n_subtypes, "max_subtypes": max_subtypes,
            "selection_repeats": selection_repeats, "model": model, "epochs": epochs,
            "graph": graph, "truth": str(truth_path) if truth_df is not None else None}, {
            "seeds": {"random_state": seed}, "graph": g.to_dict(), "n_subtypes_fitted": k,
            "selection": sel_dict, "epicentres": est.epicentres_, "noise": est.noise_,
            "fit_time_s": est.fit_time_s_, "model_params": est.json_params(),
        }))  # fmt: skip
        if selection is not None:
            selection.table.to_csv(tmp / "selection.csv")
        from crossscale.report.spread import build_spread_fit_report, subtype_trajectories

        traj = subtype_trajectories(X, est.predict(X))
        build_spread_fit_report(
            est, params, traj, selection=selection, truth=truth_df,
            command="crossscale " + " ".join(sys.argv[1:]),
        ).save(tmp / "report.html")  # fmt: skip
    typer.echo(f"{out}/report.html written; {k} subtype(s), epicentres {est.epicentres_}")


@app.command("fit-group")
def fit_group(
    maps: Path = typer.Argument(
        None,
        help="CSV of group maps: one row per map with a column per region (and optional "
        "map/stage/time columns), a long table (region, value, map/stage/time), or a region "
        "column with one column per map. Any region naming crossscale understands. Omit with "
        "--adni.",
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    adni: bool = typer.Option(
        False, "--adni", help="Fit the 16 bundled ADNI2 EMCI/LMCI/AD volume maps (not with MAPS)."
    ),
    graph: str = typer.Option(
        "connectome",
        help="connectome (HCP structural), distance (Euclidean nearest neighbours), surface "
        "(fsaverage5 adjacency), or FILE.csv: your connectivity matrix (square, region names "
        "as header and first column).",
    ),
    models: str = typer.Option("diffusion,fisher_kpp", help="Comma-separated dynamics."),
    stage_order: str = typer.Option(
        None, help="Stages earliest first, e.g. 'CN,MCI,AD' (checks the order of fitted times; "
        "default: ADNI2 EMCI,LMCI,AD, or the file's order of appearance).",
    ),
    columns: str = typer.Option(
        None, help="The value column(s), comma-separated: of a long table, or the map columns "
        "of a table with regions as rows (e.g. d_icv of an ENIGMA summary table).",
    ),
    flip_sign: bool = typer.Option(
        False, help="Multiply the maps by -1 (e.g. thickness differences, patients - controls): "
        "spreading models need larger = more pathology.",
    ),
    n_length: int = typer.Option(
        100, help="Degree- and edge-length-preserving null graphs (the headline p)."
    ),
    n_degree: int = typer.Option(100, help="Degree-preserving null graphs (p beside it)."),
    n_folds: int = typer.Option(10, help="Spatial blocks of the leave-regions-out CV."),
    seed: int = typer.Option(0, help="Random seed (rewirings, folds)."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Fit network diffusion and Fisher-KPP to group maps, against baselines and null graphs.

    Named after the group-level maps it fits (case-control t or Cohen's d, group-mean SUVR),
    as opposed to `spread fit`, which fits a cohort of subjects.
    """
    from crossscale._utils import check_output_dir
    from crossscale.cli import _checks as chk
    from crossscale.pipeline.spread_groups import (
        GroupFitConfig,
        models_option,
        stage_order_option,
    )

    chk.seed("--seed", seed)
    if maps is not None and not adni:
        chk.input_file("MAPS", maps, what="maps CSV")

    config = GroupFitConfig(
        maps=str(maps) if maps is not None else None, adni=adni, graph=graph,
        models=models_option(models), stage_order=stage_order_option(stage_order),
        columns=models_option(columns) if columns else None, flip_sign=flip_sign, n_length=n_length, n_degree=n_degree, n_folds=n_folds, seed=seed,
    )  # fmt: skip
    config.check()
    graph_file = graph if graph not in ("connectome", "distance", "surface") else None
    out = check_output_dir(out, overwrite=overwrite, inputs=[maps, graph_file])
    _run_group(config, out, overwrite=overwrite)


def _run_group(config, out: Path, *, overwrite: bool) -> None:  # noqa: ANN001
    from crossscale.pipeline.spread_groups import run

    res = run(config, echo=typer.echo)
    res.save(out, overwrite=overwrite, command="crossscale " + " ".join(sys.argv[1:]))
    typer.echo(f"{out}/report.html written")


@app.command("benchmark")
def benchmark(
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    quick: bool = typer.Option(False, help="A two-minute smoke run (small cohorts)."),
    epochs: int = typer.Option(50, help="VAE training epochs."),
    seed: int = typer.Option(0, help="Base random seed."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Benchmark SpreadMixtureVAE against k-means, GMM and per-subject fits on simulations."""
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale._validate import MAX_EPOCHS
    from crossscale.cli import _checks as chk
    from crossscale.evaluate.spread_benchmark import run_spread_benchmark

    chk.at_least("--epochs", epochs, 1)
    chk.count("--epochs", epochs, 1, MAX_EPOCHS)
    chk.seed("--seed", seed)
    out = check_output_dir(out, overwrite=overwrite)

    kw = {}
    if quick:
        kw = {"selection": {"ks": (1, 2), "noises": (0.05,), "n_seeds": 1,
                            "candidates": (1, 2, 3), "epochs": min(epochs, 30)},
              "recovery": {"noises": (0.1,), "n_per_subtype": 20, "epochs": epochs},
              "timing": {"sizes": (20, 40), "ls_sizes": (20, 40), "epochs": epochs}}  # fmt: skip
    else:
        kw = {"recovery": {"epochs": epochs}, "timing": {"epochs": epochs}}
    res = run_spread_benchmark(random_state=seed, **kw)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for name in ("selection", "confusion", "accuracy", "calibration", "scaling"):
            getattr(res, name).to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "benchmark.md").write_text(res.to_markdown())
        write_json(tmp / "run.json", _run_info("spread benchmark",
                                               {"quick": quick, "epochs": epochs},
                                               {"seeds": {"random_state": seed},
                                                "result": res.to_dict()}))  # fmt: skip
        from crossscale.report.spread import build_spread_benchmark_report

        rep = build_spread_benchmark_report(res, command="crossscale " + " ".join(sys.argv[1:]))
        rep.save(tmp / "report.html")
    typer.echo(res.to_markdown())
