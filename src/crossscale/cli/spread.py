"""``crossscale spread simulate|fit|benchmark``: spreading subtypes on the connectome."""

from __future__ import annotations

import logging
import platform
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="Network diffusion / Fisher-KPP spreading models and the SpreadMixtureVAE subtype model.",
    no_args_is_help=True,
)
logger = logging.getLogger(__name__)


def _run_info(command: str, params: dict, extra: dict | None = None) -> dict:
    import numpy
    import pandas
    import torch

    from crossscale import __version__

    return {
        "command": command,
        "argv": sys.argv,
        "parameters": params,
        "versions": {
            "crossscale": __version__,
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "torch": torch.__version__,
        },  # fmt: skip
        **(extra or {}),
    }


def _data_checksums(keys: list[str]) -> dict[str, str]:
    from crossscale.datasets import registry

    reg = registry()
    return {k: reg[k].sha256 for k in keys if k in reg}


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


def _report(title: str, sections: list[tuple[str, object]]):  # noqa: ANN202
    """A crossscale Report from (heading, DataFrame | Figure | str) sections."""
    import pandas as pd

    from crossscale.report import Report

    rep = Report(title)
    for heading, content in sections:
        rep.add_heading(heading, 2)
        if isinstance(content, (pd.DataFrame, pd.Series)):
            rep.add_table(content, float_format="{:.3g}")
        elif isinstance(content, str):
            rep.add_paragraph(content)
        else:
            rep.add_figure(content)
    return rep


def _subtype_trajectories(X, labels):  # noqa: ANN001, ANN202
    """Mean observed map of each inferred subtype at each visit time, regions x (subtype, time)."""
    import pandas as pd

    frame = X.copy()
    subj = frame.index.get_level_values(0)
    frame["_k"] = labels.reindex(subj).to_numpy()
    if isinstance(frame.index, pd.MultiIndex):
        frame["_t"] = frame.index.get_level_values(1)
    else:
        frame["_t"] = 0.0
    means = frame.groupby(["_k", "_t"]).mean()
    means.index = [f"subtype {k}, t={t:g}" for k, t in means.index]
    return means.T


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
            "data_checksums": _data_checksums(["enigma_hcp_struc_matrix_ctx"]),
        }))  # fmt: skip
    typer.echo(f"{out}/maps.csv written ({cohort.maps.shape[0]} visits x 68 regions)")


@app.command("fit")
def fit(
    maps: Path = typer.Argument(
        None, help="CSV of visits: columns subject, time, then the 68 regions. Omit with --adni."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    adni: bool = typer.Option(
        False, "--adni", help="Fit the ADNI2 EMCI/LMCI/AD group trajectory instead of a cohort."
    ),
    n_subtypes: str = typer.Option("2", help="K, or 'auto' (held-out ELBO over 1-4)."),
    model: str = typer.Option("fisher_kpp", help="fisher_kpp or diffusion."),
    epochs: int = typer.Option(300, help="Training epochs."),
    n_rewired: int = typer.Option(10, help="--adni: number of degree-preserving rewired nulls."),
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
    chk.at_least("--epochs", epochs, 1)
    chk.at_least("--n-rewired", n_rewired, 1)
    if n_subtypes != "auto":
        try:
            chk.at_least("--n-subtypes", int(n_subtypes), 1)
        except ValueError:
            raise ParameterError(
                f"--n-subtypes must be an integer or 'auto'; got {n_subtypes!r}."
            ) from None
    if not adni and maps is None:
        raise ParameterError("Give a maps CSV (see 'crossscale spread simulate'), or --adni.")
    if not adni:
        chk.input_file("MAPS", maps, what="maps CSV")
    out = check_output_dir(out, overwrite=overwrite, inputs=[maps])
    g = _graph(graph)
    if adni:
        _fit_adni(g, out, n_rewired=n_rewired, seed=seed, overwrite=overwrite, graph_name=graph)
        return
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
        selection = select_n_subtypes(X, g, candidates=(1, 2, 3, 4), random_state=seed,
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
    with atomic_dir(out, overwrite=overwrite, inputs=[maps]) as tmp:
        est.save(tmp / "model")
        params.join(proba).to_csv(tmp / "subjects.csv")
        est.subtype_params_.to_csv(tmp / "subtypes.csv")
        est.epicentre_proba_.T.to_csv(tmp / "epicentre_proba.csv")
        est.history_.to_csv(tmp / "history.csv")
        sel_dict = selection.to_dict() if selection is not None else None
        write_json(tmp / "run.json", _run_info("spread fit", {
            "maps": str(maps), "n_subtypes": n_subtypes, "model": model, "epochs": epochs,
            "graph": graph}, {
            "seeds": {"random_state": seed}, "graph": g.to_dict(), "n_subtypes_fitted": k,
            "selection": sel_dict, "epicentres": est.epicentres_, "noise": est.noise_,
            "fit_time_s": est.fit_time_,
        }))  # fmt: skip
        from crossscale.plotting import plot_brain_maps

        traj = _subtype_trajectories(X, est.predict(X))
        sections = [
            ("Subtypes", est.subtype_params_),
            (
                "Subtype trajectories on the brain",
                plot_brain_maps(
                    traj, cmap="Reds", shared_scale=True, colorbar_label="mean observed value"
                ),
            ),
            (
                "Epicentre distribution of each subtype",
                plot_brain_maps(
                    est.epicentre_proba_.T.set_axis([f"subtype {k}" for k in range(k)], axis=1),
                    cmap="Purples",
                ),
            ),
            ("Subjects (first 20)", params.join(proba).head(20)),
        ]
        if selection is not None:
            sections.insert(0, ("K by held-out ELBO", selection.table))
        _report("crossscale spread fit", sections).save(tmp / "report.html")
    typer.echo(f"{out}/report.html written; epicentres {est.epicentres_}")


def _fit_adni(g, out: Path, *, n_rewired: int, seed: int, overwrite: bool, graph_name: str):
    import pandas as pd

    from crossscale._utils import atomic_dir, write_json
    from crossscale.models.spread.groupfit import compare_with_null_graphs, load_adni_trajectory

    maps = load_adni_trajectory()
    comp = compare_with_null_graphs(maps, g, n_rewired=n_rewired, random_state=seed)
    keys = [f"adni2_{grp.lower()}_vol_{t}" for grp, t in maps.index]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        comp.table.to_csv(tmp / "graph_fits.csv", index=False)
        comp.p_values.to_csv(tmp / "nulls.csv", index=False)
        for model in ("diffusion", "fisher_kpp"):
            fit = comp.fits[(model, "connectome")]
            fit.to_frame().to_csv(tmp / f"{model}_maps.csv")
            fit.epicentre_sse.to_csv(tmp / f"{model}_epicentre_search.csv")
        write_json(tmp / "run.json", _run_info("spread fit --adni", {
            "n_rewired": n_rewired, "graph": graph_name,
            "scaling": f"Welch t divided by the max t over all maps ({maps.attrs['scale']:.4g})"}, {
            "seeds": {"random_state": seed}, "graph": g.to_dict(), "result": comp.to_dict(),
            "connectome_fits": {m: comp.fits[(m, "connectome")].to_dict()
                                for m in ("diffusion", "fisher_kpp")},
            "data_checksums": _data_checksums(keys + ["enigma_hcp_struc_matrix_ctx"]),
        }))  # fmt: skip
        from crossscale.plotting import plot_brain_map

        sections = [
            ("Fit against null graphs", comp.p_values),
            ("All fits", comp.table),
        ]
        for model in ("diffusion", "fisher_kpp"):
            fit = comp.fits[(model, "connectome")]
            sections.append((f"{model}: per map (connectome)", fit.to_frame()))
            sse = fit.epicentre_sse
            if isinstance(sse, pd.Series):
                sections.append(
                    (
                        f"{model}: epicentre search (connectome)",
                        plot_brain_map(
                            -sse,
                            cmap="viridis",
                            symmetric=False,
                            colorbar_label="- residual sum of squares (higher = better epicentre)",
                        ),
                    )
                )
        _report("crossscale spread fit --adni", sections).save(tmp / "report.html")
    typer.echo(comp.p_values.to_string(index=False))
    typer.echo(f"{out}/report.html written")


@app.command("benchmark")
def benchmark(
    out: Path = typer.Option(..., "--out", help="Output folder (written atomically)."),
    quick: bool = typer.Option(False, help="K=2, noise 0.05 only, two cohort sizes."),
    epochs: int = typer.Option(300, help="VAE training epochs."),
    seed: int = typer.Option(0, help="Base random seed."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Benchmark SpreadMixtureVAE against k-means, GMM and per-subject fits on simulations."""
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk
    from crossscale.evaluate.spread_benchmark import run_spread_benchmark

    chk.at_least("--epochs", epochs, 1)
    out = check_output_dir(out, overwrite=overwrite)

    kw = dict(ks=(2,), noises=(0.05,), sizes=(40, 80), selection_ks=()) if quick else {}
    res = run_spread_benchmark(epochs=epochs, random_state=seed, **kw)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        res.accuracy.to_csv(tmp / "accuracy.csv", index=False)
        res.scaling.to_csv(tmp / "scaling.csv", index=False)
        res.selection.to_csv(tmp / "selection.csv", index=False)
        (tmp / "benchmark.md").write_text(res.to_markdown())
        write_json(tmp / "run.json", _run_info("spread benchmark",
                                               {"quick": quick, "epochs": epochs},
                                               {"seeds": {"random_state": seed},
                                                "result": res.to_dict()}))  # fmt: skip
        sections = [("Accuracy", res.accuracy), ("Scaling", res.scaling)]
        _report("crossscale spread benchmark", sections).save(tmp / "report.html")
    typer.echo(res.to_markdown())
