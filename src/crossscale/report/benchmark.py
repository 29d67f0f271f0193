"""The ``crossscale benchmark`` report: a model (GraphVAE) and baselines on many maps, one table."""

from __future__ import annotations

import pandas as pd

from crossscale.evaluate.metrics import SELECTED_BASELINE
from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography


def headline(table: pd.DataFrame, model: str = "GraphVAE") -> dict[str, float]:
    """How `model` compares with the best baseline of each map (by spatial-CV R²).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per map and model, with ``spatial_r2`` (and ``p_spin`` if null refits ran).
    model : str, default "GraphVAE"
        Display name of the benchmarked model.

    Returns
    -------
    headline : dict
        ``n_maps``, ``n_at_or_above`` (maps where `model`'s spatial-CV R² >= the best
        baseline's, that best picked per map on the evaluation folds: an oracle),
        ``median_difference`` (median over maps of that difference), ``n_p05`` and ``n_p01``
        (maps with p_spin below 0.05 / 0.01); when the table has the nested-CV choice among the
        baselines (``SELECTED_BASELINE``), also ``n_at_or_above_selected`` and
        ``median_difference_selected`` against it.
    """
    r2 = table.pivot(index="map", columns="model", values="spatial_r2")
    best = r2.drop(columns=[model, SELECTED_BASELINE], errors="ignore").max(axis=1)
    diff = r2[model] - best
    p = table[table["model"] == model].set_index("map").get("p_spin")
    out = {
        "n_maps": int(len(r2)),
        "n_at_or_above": int((diff >= 0).sum()),
        "median_difference": float(diff.median()),
        "n_p05": int((p < 0.05).sum()) if p is not None else 0,
        "n_p01": int((p < 0.01).sum()) if p is not None else 0,
    }
    if SELECTED_BASELINE in r2.columns:
        d = r2[model] - r2[SELECTED_BASELINE]
        out |= {"n_at_or_above_selected": int((d >= 0).sum()),
                "median_difference_selected": float(d.median())}  # fmt: skip
    return out


def build_benchmark_report(
    table: pd.DataFrame,
    *,
    n_perm: int,
    null_cv: str | None,
    n_genes: int,
    seed: int,
    model: str = "GraphVAE",
    data_text: str | None = None,
) -> Report:
    """Assemble the benchmark report (`data_text`: the expression/maps sentence, other atlases).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per map and model (columns of
        :data:`crossscale.evaluate.metrics.BENCHMARK_COLUMNS`).
    n_perm : int
        Spin null maps per map (0: no p-values).
    null_cv : str or None
        CV scheme of ``null_cv_r`` / ``p_spin``.
    n_genes : int
        Genes the models used (methods text).
    seed : int
        Seed of the run (methods text).
    model : str
        Display name of the benchmarked model (the other rows are baselines).
    data_text : str or None
        Sentence on the data, placed in the methods (None: the default data).

    Returns
    -------
    Report
    """
    bib = Bibliography()
    maps = list(dict.fromkeys(table["map"]))
    rep = Report("crossscale benchmark", subtitle=f"{len(maps)} map(s), {model} and baselines")
    rep.add_heading("Summary", 2)
    pivot = table.pivot(index="map", columns="model", values="spatial_r").loc[maps]
    h = headline(table, model)
    text = (
        f"Out of sample (distance-blocked spatial CV R²), {escape(model)} is at or above the best baseline "
        f"on {h['n_at_or_above']} of {h['n_maps']} map(s); the median difference to the best "
        f"baseline is {h['median_difference']:+.3f}. That best baseline is picked per map on the "
        "evaluation folds themselves (an oracle choice, biased towards the baselines)"
        + (
            f"; against the baseline chosen per fold by nested CV on training regions only, "
            f"{escape(model)} is at or above on {h['n_at_or_above_selected']} of {h['n_maps']} "
            f"(median difference {h['median_difference_selected']:+.3f})."
            if "n_at_or_above_selected" in h else "."
        )
    )
    if n_perm:
        sig = table[(table["model"] == model) & (table["p_spin"] < 0.05)]
        text += (
            f" Its {escape(str(null_cv))} cross-validated r beats spin-null refits (p<sub>spin</sub> "
            f"&lt; 0.05, {n_perm} spins, uncorrected) on {len(sig)} of {len(maps)} map(s)."
        )
    rep.add_paragraph(text)
    rep.add_table(
        pivot, caption="Spatial-CV r (distance-blocked) per map (rows) and model (columns)"
    )
    if n_perm:
        rep.add_table(
            table.pivot(index="map", columns="model", values="p_spin").loc[maps],
            caption=f"p_spin of the {null_cv} cross-validated r ({n_perm} spun maps, refitted)",
            float_format="{:.3g}",
        )
    rep.add_heading("All metrics", 2)
    rep.add_table(table.set_index(["map", "model"]), caption="Per map and model")
    rep.add_heading("Methods", 2)
    rep.add_paragraph(
        (escape(data_text) + " " if data_text else
         f"Expression: {n_genes} LINCS landmark genes {bib.cite('lincs')} of the Allen Human Brain "
         f"Atlas {bib.cite('ahba')} in the Desikan-Killiany atlas {bib.cite('desikan2006')}. Maps: "
         f"ADNI2 regional volume change {bib.cite('adni')} and ENIGMA case-control cortical thickness "
         f"{bib.cite('enigma_toolbox')}. ")
        + f"Models: {escape(model)}{_model_cites(model, bib)}, PLS with 1-5 "
        f"components {bib.cite('pls', 'imaging_transcriptomics')}, ridge {bib.cite('ridge')}, a "
        "spatial-only harmonic interpolation and, as the baseline a user could run, the one of "
        "these seven chosen per outer fold by 5-block spatial CV on its training regions "
        f"(nested CV {bib.cite('varma2006')}). In-sample, leave-one-region-out (LORO) and "
        f"distance-blocked spatial CV {bib.cite('hansen2021')} metrics. p<sub>spin</sub>: each model "
        f"was refitted on {n_perm} Hungarian spin permutations of the map {bib.cite('spin_test')} and "
        f"scored with the same {escape(str(null_cv))} CV (k-fold: contiguous blocks from k-means of "
        "centroids within each hemisphere); p = (1 + #{null ≥ observed}) / (1 + n). "
        f"Seed {seed}. No correction for multiple maps."
    )
    rep.add_heading("References", 2)
    rep.add_html(bib.render("html"))
    return rep


def _model_cites(model: str, bib: Bibliography) -> str:
    """The citations of the registered model labelled `model` (``" [1]"``; empty if none)."""
    from crossscale.models import registry

    entry = registry.entry_of(model)
    return " " + bib.cite(*entry.references) if entry is not None and entry.references else ""


def markdown_table(table: pd.DataFrame) -> str:
    """The benchmark table as GitHub markdown (3 decimals, p-values 3 significant digits)."""
    from crossscale._format import markdown_table as _table

    formats = {str(c): "{:.3g}" if c == "p_spin" else "{:.1f}" if str(c).endswith("_s")
               else "{:.3f}" for c in table.columns}  # fmt: skip
    return _table(table, float_format="{:.3f}", formats=formats, na="–") + "\n"
