"""The ``crossscale fit`` report.

Metrics against the reference and the baselines, brain figures, and a methods paragraph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale.evaluate.metrics import METRIC_LABELS, REFERENCE_METRICS, SELECTED_BASELINE
from crossscale.report._fit_methods import methods_text, model_methods
from crossscale.report._fit_nulls import add_null_section, null_figure, null_table
from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography

__all__ = [
    "REFERENCE_METRICS", "add_null_section", "build_fit_report", "methods_text", "metrics_table",
    "model_methods", "null_figure", "null_table", "skill_verdict", "verdict_sentences",
]  # fmt: skip


def metrics_table(metrics: pd.DataFrame, *, reference: bool = True) -> pd.DataFrame:
    """Metrics with readable column names, and the reference's row (in-sample only) if `reference`.

    The reference row belongs only beside the reference's own map (ADNI AD baseline).
    """
    ref = pd.DataFrame(
        [dict.fromkeys(metrics.columns, np.nan) | REFERENCE_METRICS],
        index=["Reference (published, in-sample)"],
    )
    table = (pd.concat([metrics, ref]) if reference else metrics)[list(METRIC_LABELS)]
    table = table.rename(columns=METRIC_LABELS)
    table.index.name = "model"
    return table


def skill_verdict(
    metrics: pd.DataFrame, model_name: str, nulls: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Whether the model beats the best baseline out of sample and its CV r is spatially significant.

    Parameters
    ----------
    metrics : pandas.DataFrame
        From :class:`crossscale.evaluate.Evaluation`.
    model_name : str
        Row of `metrics` of the model judged.
    nulls : dict of str to NullResult, optional
        Null refits per model; the verdict then quotes the model's p_spin.

    Returns
    -------
    verdict : dict
        ``best_baseline`` (by spatial-CV R², else LORO R², chosen on the evaluation folds: an
        oracle), ``beats_loro``, ``beats_spatial`` (bool or None), ``beats_selected_spatial``
        (against the nested-CV choice among the baselines, ``SELECTED_BASELINE``, when it ran), ``p_spin`` (p of the model's CV r against its null refits, or None) and
        ``skill`` (True when the model's spatial-CV R² > 0 and, if nulls ran, p < 0.05).
    """
    m = metrics.loc[model_name]
    others = metrics.drop(index=[model_name, SELECTED_BASELINE], errors="ignore")
    key = "spatial_r2" if others["spatial_r2"].notna().any() else "loro_r2"
    ranked = others[key].dropna()
    best = ranked.idxmax() if len(ranked) else None

    def beats(col: str) -> bool | None:
        if best is None or not np.isfinite(m[col]) or not np.isfinite(others.loc[best, col]):
            return None
        return bool(m[col] >= others.loc[best, col])

    beats_selected = None
    if SELECTED_BASELINE in metrics.index:
        sel, own = metrics.loc[SELECTED_BASELINE, "spatial_r2"], m["spatial_r2"]
        beats_selected = bool(own >= sel) if np.isfinite(sel) and np.isfinite(own) else None
    p = None
    if nulls and model_name in nulls and "cv_r" in nulls[model_name].p_values:
        p = float(nulls[model_name].p_values["cv_r"])
    score = m["spatial_r2"] if np.isfinite(m["spatial_r2"]) else m["loro_r2"]
    skill = bool(np.isfinite(score) and score > 0 and (p is None or p < 0.05))
    return {"best_baseline": best, "beats_loro": beats("loro_r2"),
            "beats_spatial": beats("spatial_r2"), "beats_selected_spatial": beats_selected,
            "p_spin": p, "skill": skill}  # fmt: skip


def verdict_sentences(
    metrics: pd.DataFrame, model_name: str, nulls: dict[str, Any] | None = None
) -> tuple[str, str]:
    """The report's opening verdict as plain text: the headline and the nested-CV sentence.

    Parameters
    ----------
    metrics : pandas.DataFrame
        From :class:`crossscale.evaluate.Evaluation`.
    model_name : str
        The model the verdict is about (a row of `metrics`).
    nulls : dict of str to NullResult, optional
        Null refits per model; the p_spin of `model_name` is quoted when present.

    Returns
    -------
    headline : str
        Whether `model_name` beats the best baseline under spatial CV and LORO (R² of both), and
        its p_spin (or that no null refits ran); ``""`` when there is no baseline.
    nested : str
        The comparison with the nested-CV choice among the baselines (``""`` when absent).
    """
    verdict = skill_verdict(metrics, model_name, nulls)
    best = verdict["best_baseline"]
    if best is None:
        return "", ""
    m, b = metrics.loc[model_name], metrics.loc[best]

    def yes_no(v: bool | None) -> str:
        return {True: "beats", False: "does not beat", None: "cannot be compared with"}[v]

    headline = (
        f"Out of sample, {model_name} {yes_no(verdict['beats_spatial'])} the best baseline "
        f"({best}) under spatial CV (R² {m['spatial_r2']:.3f} vs {b['spatial_r2']:.3f}) and "
        f"{yes_no(verdict['beats_loro'])} it leaving one region out (R² {m['loro_r2']:.3f} vs "
        f"{b['loro_r2']:.3f})"
        + (f"; p_spin of its CV r = {verdict['p_spin']:.3g}" if verdict["p_spin"] is not None
           else "; no spatial null refits in this run")
        + "."
    )  # fmt: skip
    nested = ""
    if verdict["beats_selected_spatial"] is not None:
        sel = metrics.loc[SELECTED_BASELINE, "spatial_r2"]
        nested = (
            f"That best baseline is picked on the evaluation folds themselves (an oracle); "
            f"against the baseline chosen per fold by nested CV on training regions only, "
            f"{model_name} {yes_no(verdict['beats_selected_spatial'])} it (spatial-CV R² "
            f"{m['spatial_r2']:.3f} vs {sel:.3f})."
        )
    return headline, nested


def build_fit_report(
    *,
    observed: pd.Series,
    predictions: pd.DataFrame,
    latent: pd.DataFrame | None,
    metrics: pd.DataFrame,
    history: pd.DataFrame | None,
    best_epoch: int | None,
    summary: dict[str, Any],
    model_name: str = "GraphVAE",
    nulls: dict[str, Any] | None = None,
    interpretation: Any | None = None,
    programs: Any | None = None,
) -> Report:
    """Assemble the report of one ``crossscale fit`` run.

    Parameters
    ----------
    observed : pandas.Series, shape (n_regions,)
        The map fitted.
    predictions : pandas.DataFrame
        Columns ``<model>|in_sample``, ``<model>|loro``, ``<model>|spatial``.
    latent : pandas.DataFrame, shape (n_regions, n_latent), or None
        Latent programs (models without them: None, no section).
    metrics : pandas.DataFrame
        From :class:`crossscale.evaluate.Evaluation`.
    history : pandas.DataFrame or None
        Training curve of the in-sample fit.
    best_epoch : int or None
        Epoch chosen by early stopping (None: no early stopping).
    summary : dict
        Run facts used in the text (map name and units, genes, graph, parameters, seed, times).
    model_name : str
        Display name of the model.
    nulls : dict of str to NullResult, optional
        Null refits per model (:func:`crossscale.evaluate.null_distribution`): adds a section
        with p-values and null histograms.
    interpretation : crossscale.interpret result, optional
        From :func:`crossscale.interpret.interpret_model`; adds the interpretation section.
    programs : crossscale.evaluate.programs.ProgramSummary, optional
        The distinct, stable programs: only these are shown, with their stability (and a
        warning when there is effectively one).

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
    headline, nested = verdict_sentences(metrics, model_name, nulls)
    text = (f"<b>{escape(headline)}</b> " if headline else "") + (f"{escape(nested)} " if nested else "")
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
    if latent is not None and programs is not None:
        rep.add_heading("Latent programs", 2)
        if programs.warning:
            rep.add_paragraph(f"<b>Warning:</b> {programs.warning}")
        rep.add_paragraph(
            f"{programs.sentence()} Only distinct programs are shown: the latent means rotated onto "
            "their principal axes, a program kept when its |r| with every larger one is at most "
            f"{programs.threshold:g} and its median matched |r| (Hungarian assignment) over seed "
            f"refits used for selection alone reaches {programs.min_stability:g}; the stability "
            "columns come from other refits (new seeds; new seeds with 20% of the map values unseen)."
        )
        rep.add_table(programs.table.round(3), caption="Distinct programs: variance across regions, "
                      "median matched |r| over seed and subsampling refits, Moran's I on the region graph, "
                      "duplicates merged into each.")  # fmt: skip
        shown = programs.distinct[:4]
        rep.add_figure(plot_brain_maps(latent[shown]), caption="Distinct latent programs.")
    elif latent is not None:
        rep.add_heading("Latent programs", 2)
        order = latent.abs().mean().sort_values(ascending=False).index[: min(4, latent.shape[1])]
        rep.add_paragraph(
            "Posterior means μ of the leading latent programs (largest mean magnitude) of the in-sample model "
            "(their distinctness and stability were not measured). Gene loadings and cell-type enrichment "
            "with spatial nulls are the subject of <code>crossscale.interpret</code>."
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
