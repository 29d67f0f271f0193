"""Report of ``crossscale spread fit-group``: spreading models on group maps against the baselines.

It opens with the answer (whether the graph beats the baselines and the null graphs, in one
sentence), then the input warnings, the table of models and baselines (out-of-sample spreading
R² first, pooled r last), the null graphs (length-preserving headline, degree-preserving beside),
then per model the epicentre, the identified parameters and the stage order, methods and
references.
"""

from __future__ import annotations

import pandas as pd

from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography

_MODEL = {"diffusion": "network diffusion", "fisher_kpp": "Fisher-KPP",
          "distance_kernel": "distance kernel", "offset_only": "offset only"}  # fmt: skip


def _figure(width: float, height: float):  # noqa: ANN202
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def models_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table of models and baselines for display (out-of-sample R² first)."""
    t = table.copy()
    t["model"] = t["model"].map(lambda m: _MODEL.get(m, m))

    def shape(r: pd.Series) -> str:
        if not r["shape_name"] or pd.isna(r["shape_low"]):
            return ""
        rng = f"{r['shape_low']:.3g}-{r['shape_high']:.3g}"
        if r["shape_identified"]:
            return f"{r['shape_name']} = {r['shape']:.3g} (95% {rng})"
        return f"{r['shape_name']} not identified (95% set {rng} reaches the grid end)"

    t["shape (95% profile set)"] = t.apply(shape, axis=1)
    t["95% epicentre set"] = t["epicentre_set"].map(
        lambda s: s if len(s.split(", ")) <= 4 else ", ".join(s.split(", ")[:4]) + " …"
    )
    out = t[["model", "graph", "role", "r2_lro", "r2_loro", "r2_lomo", "r2", "r_pooled",
             "epicentre", "95% epicentre set", "shape (95% profile set)"]]  # fmt: skip
    return out.rename(columns={
        "r2_lro": "R² spatial blocks", "r2_loro": "R² leave-one-region-out",
        "r2_lomo": "R² leave-one-map-out", "r2": "R² in sample", "r_pooled": "pooled r",
    })  # fmt: skip


def parameter_text(fit, stage: dict | None) -> str:
    """A paragraph on one fit: epicentre, its 95% set, the identified parameters, stage order."""
    eset = list(fit.epicentre_set)
    if len(eset) >= len(fit.epicentre_r2.dropna()):
        shown = "every region searched: the epicentre is not identified"
    else:
        shown = ", ".join(eset[:10]) + (f" and {len(eset) - 10} more" if len(eset) > 10 else "")
    parts = [f"Epicentre <b>{escape(fit.epicentre)}</b> (95% profile set: {escape(shown)})."]
    if fit.shape_name:
        if fit.shape_identified:
            parts.append(f"{escape(fit.shape_name)} = {fit.shape:.3g} (95% profile set "
                         f"{fit.shape_low:.3g}-{fit.shape_high:.3g}).")  # fmt: skip
        else:
            parts.append(f"{escape(fit.shape_name)}: <b>not identified</b> (95% profile set "
                         f"{fit.shape_low:.3g}-{fit.shape_high:.3g} reaches the end of the "
                         "grid searched; no point estimate).")  # fmt: skip
    ne = fit.n_eff
    parts.append(f"Profile sets use {ne['n_eff']:.0f} effective independent values of "
                 f"{ne['n']} (residual correlation between maps {ne['map_correlation']:.2f}, "
                 f"Moran's I {ne['morans_i']:.2f}).")  # fmt: skip
    n_id = int(fit.per_map["time_identified"].sum())
    parts.append(f"{escape(fit.time_name)} identified for {n_id} of {len(fit.per_map)} map(s).")
    if fit.model != "distance_kernel":
        parts.append("Cross-sectional maps with free amplitudes identify only alpha/rho and "
                     "rho*t: rho, alpha and t are not estimated apart.")  # fmt: skip
    if stage:
        parts.append(stage_text(stage))
    p = fit.peak
    if p:
        parts.append(f"The maps' peak is {escape(p['region'])}, {p['distance_mm']:.0f} mm from "
                     f"the epicentre (rank {p['rank']} in the epicentre search).")  # fmt: skip
    return " ".join(parts)


def stage_text(stage: dict) -> str:
    """One sentence on the stage order of the identified fitted times."""
    order = escape(" < ".join(stage["order"]))
    used = (f"{stage['n_maps']} map(s) with an identified time"
            + (f", {stage['n_excluded']} left out" if stage["n_excluded"] else ""))  # fmt: skip
    if stage["ordered"] is None:
        return (f"Stage order ({order}): <b>cannot be checked</b> — fewer than two stages have "
                f"an identified time ({used}).")  # fmt: skip
    med = ", ".join(f"{escape(k)} {v:.3g}" for k, v in stage["stage_median_time"].items())
    state = ("<b>ordered</b>" if stage["ordered"] else
             "<b>not ordered</b> (" + escape("; ".join(stage["inversions"])) + ")")  # fmt: skip
    return (f"Stage order of the fitted times ({order}; {used}): {state}; median rho*t per "
            f"stage: {med}; Kendall tau {stage['kendall_tau']:.2f} (p = {stage['p']:.2g}).")


def build_group_report(result, *, command: str | None = None) -> Report:
    """The HTML report of ``crossscale spread fit-group`` (a :class:`GroupFitResult`)."""
    from crossscale.plotting import plot_brain_maps, plot_null_distribution

    comp = result.comparison
    bib = Bibliography()
    rep = Report("crossscale spread fit-group", subtitle=command)
    rep.add_paragraph(escape(comp.verdict["sentence"]))
    for w in result.warnings:
        rep.add_note(escape(w), kind="warning")
    rep.add_heading("Models and baselines", 2)
    rep.add_table(
        models_table(comp.table),
        caption="Spreading R²: the fraction of within-map variance explained after per-map "
        "offsets and amplitudes (offsets alone: 0). Out of sample: contiguous spatial blocks "
        "of regions held out (headline), single regions held out, whole maps held out "
        "(epicentre and shape from the other maps). Pooled r is shown beside only: the maps' "
        "different offsets inflate it.",
        float_format="{:.3f}", index=False,
    )  # fmt: skip
    rep.add_heading("Null graphs", 2)
    nt = comp.nulls.copy()
    nt["model"] = nt["model"].map(lambda m: _MODEL.get(m, m))
    rep.add_table(
        nt.rename(columns={"r2": "R² in sample", "null_r2_length": "mean R² length-preserving",
                           "p_length": "p length-preserving", "null_r2_degree":
                           "mean R² degree-preserving", "p_degree": "p degree-preserving"}),
        caption="p = (1 + #null R² >= R²) / (1 + n), for each kind of null graph apart: "
        "degree- and edge-length-preserving rewirings (the headline: they keep the distance "
        "structure a spatially smooth map follows) and degree-preserving rewirings (beside).",
        float_format="{:.3g}", index=False,
    )  # fmt: skip
    m = comp.verdict["model"]
    v = comp.null_r2[(comp.null_r2.model == m) & (comp.null_r2.null == "length-preserving")]
    obs = float(comp.table[(comp.table.model == m) & (comp.table.role == "model")]["r2"].iloc[0])
    if len(v):
        fig = _figure(5.5, 3.2)
        plot_null_distribution(v["r2"].to_numpy(), obs, label="spreading R²",
                               p_value=comp.verdict["p_length"],
                               title=f"{_MODEL.get(m, m)}: length-preserving nulls vs "
                               f"{comp.graph_name}", ax=fig.add_subplot())  # fmt: skip
        rep.add_figure(fig, caption="Spreading R² of the length-preserving null graphs "
                       "(histogram) and of the observed graph (line).")  # fmt: skip
    for (model, gname), fit in comp.fits.items():
        if gname != comp.graph_name:
            continue
        rep.add_heading(f"{_MODEL.get(model, model)} on the {gname}", 2)
        rep.add_paragraph(parameter_text(fit, comp.stage_order.get(model)))
        for n in fit.notes:
            rep.add_note(escape(n), kind="warning")
        per = fit.per_map.reset_index()
        rep.add_table(per, caption=f"Per map: fitted {fit.time_name} (NaN: not identified; "
                      "time_best is the grid value the prediction uses), its 95% profile set, "
                      "offset, amplitude, r and spreading R².", float_format="{:.3g}",
                      index=False, max_rows=40)  # fmt: skip
        pick = list(comp.maps.index[: min(3, len(comp.maps))])
        frame = pd.concat(
            [comp.maps.loc[pick].T.set_axis([f"{p} observed" for p in pick], axis=1),
             fit.predicted.loc[pick].T.set_axis([f"{p} fitted" for p in pick], axis=1)], axis=1,
        )  # fmt: skip
        rep.add_figure(plot_brain_maps(frame, cmap="RdBu_r", symmetric=True, shared_scale=True),
                       caption="The first maps, observed and fitted.")  # fmt: skip
        er = fit.epicentre_r2
        rep.add_figure(
            plot_brain_maps(er.clip(lower=float(er.quantile(0.25))).to_frame("spreading R²"),
                            cmap="viridis", symmetric=False,
                            colorbar_label="spreading R² with this epicentre"),
            caption="Epicentre search: the spreading R² with each region as the epicentre "
            "(shape and times refitted; floored at the lower quartile).",
        )  # fmt: skip
    rep.add_heading("Methods", 2)
    rep.add_paragraph(_methods(result, bib))
    rep.add_heading("References", 2)
    rep.add_html(bib.render())
    return rep


def _methods(result, bib: Bibliography) -> str:
    comp = result.comparison
    cfg = result.config
    src = (f"The 16 ADNI2 {bib.cite('adni')} FreeSurfer {bib.cite('freesurfer')} regional volume "
           "Welch t maps (controls minus patients; EMCI, LMCI, AD at baseline and follow-ups), "
           "divided by the largest t" if result.layout == "adni"
           else f"{len(comp.maps)} group map(s) read from {escape(str(cfg.maps))} ({result.layout} "
           "layout)")  # fmt: skip
    return (
        f"{src}{', sign flipped' if cfg.flip_sign else ''}, on the "
        f"Desikan-Killiany regions {bib.cite('desikan2006')}. Each map gets its own offset, "
        "non-negative amplitude and dimensionless disease time; the epicentre and the shape of "
        f"the dynamics are shared. Network diffusion {bib.cite('raj2012')} and Fisher-KPP "
        f"{bib.cite('weickenmeier2019')} were rewritten in the time rho*t, which leaves "
        "alpha/rho as the only shape parameter: the quantities cross-sectional maps identify. "
        "Every region was searched as the epicentre, with alpha/rho on a 17-value grid "
        "(0.05-500) and the time on a grid per alpha/rho value up to the stationary state. "
        f"Graph: {escape(comp.graph_name)} ({escape(result.graph.kind)}). Baselines in the same "
        "run: per-map offsets alone; a graph-free kernel exp(-(d/w)^p) of the Euclidean "
        "distance d from an epicentre (shared p and epicentre, per-map width); the same "
        "dynamics on a Euclidean nearest-neighbour graph with the same mean degree; and a "
        "random epicentre (the median over all regions). Fit measure: spreading R², 1 - SSE / "
        "the within-map sum of squares, in sample, leave-one-map-out (epicentre and shape from "
        f"the other maps), and leave-regions-out: {cfg.n_folds} contiguous spatial blocks "
        "(k-means of centroids per hemisphere) and single regions, with the epicentre, shape, "
        "times, offsets and amplitudes chosen on the training regions and the held-out values "
        "compared with the training mean. Null graphs: "
        f"{cfg.n_length} degree- and edge-length-preserving rewirings ({cfg.length_bins} length "
        f"bins) {bib.cite('betzel2018')} (headline) and {cfg.n_degree} degree-preserving "
        f"rewirings {bib.cite('maslov2002')}, refitted exactly as the observed graph, p-values "
        f"{bib.cite('phipson2010')} per kind, never pooled. 95% sets: profile likelihood with "
        "Gaussian residuals, n_eff log(SSE/SSE_min) <= 3.84, where n_eff, the effective number "
        "of independent values, corrects for residuals correlated between maps (Kish's design "
        "effect) and between neighbouring regions (Moran's I); a set that reaches the end of "
        "its grid is reported as not identified."
    )


__all__ = ["build_group_report", "models_table", "parameter_text", "stage_text"]
