"""Report of ``crossscale spread fit --adni``: the ADNI2 group fit against null graphs.

It opens with the answer (which graph explains the ADNI2 maps best and how significantly), then
the null distribution, per-graph trajectories, the epicentre search, methods and references.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography


def adni_summary_text(comp, maps: pd.DataFrame) -> str:
    """First paragraph of the ADNI2 report: the best graph and its p against the null graphs."""
    w = comp.winner
    pv = comp.p_values[comp.p_values.model == w["model"]].set_index("graph")
    others = ", ".join(f"{g} r = {pv.loc[g, 'r']:.3f}" for g in pv.index if g != w["graph"])
    fit = comp.fits[(w["model"], w["graph"])]
    eset = fit.intervals.get("epicentre_set", [fit.epicentre])
    return (
        f"<b>Best graph: {escape(w['graph'])}</b> with {escape(w['model'])} "
        f"(r = {w['r']:.3f} between fitted and observed values over {len(maps)} ADNI2 group "
        f"maps x {maps.shape[1]} regions; {others}). Against {w['n_null']} null graphs "
        f"(degree-preserving and degree- and length-preserving rewirings of the connectome) "
        f"<b>p = {w['p_null']:.3g}</b> (degree-preserving only p = {w['p_degree']:.3g}, "
        f"length-preserving only p = {w['p_length']:.3g}; the smallest possible p is "
        f"{1 / (1 + w['n_null']):.3g}). Epicentre: <b>{escape(fit.epicentre)}</b> (95% profile "
        f"set: {escape(', '.join(eset))})."
    )


def build_adni_report(comp, maps: pd.DataFrame, *, command: str | None = None) -> Report:
    """The HTML report of ``crossscale spread fit --adni``."""
    from crossscale.plotting import plot_brain_maps, plot_null_distribution
    from crossscale.report.spread import _figure

    bib = Bibliography()
    rep = Report("crossscale spread fit --adni", subtitle=command)
    rep.add_paragraph(adni_summary_text(comp, maps))
    rep.add_heading("Graphs against null graphs", 2)
    tab = comp.p_values.rename(columns={"null_r_mean": "null r mean", "null_r_sd": "null r sd",
                                        "r2": "R2", "n_null": "nulls"})  # fmt: skip
    rep.add_table(tab, caption="Fit of each observed graph; p = (1 + #null r >= r) / (1 + n).",
                  float_format="{:.3g}", index=False)  # fmt: skip
    w = comp.winner
    t = comp.table[comp.table.model == w["model"]]
    fig = _figure(5.5, 3.2)
    plot_null_distribution(
        t.loc[t.null != "observed", "r"].to_numpy(), w["r"], label="r (fitted vs observed)",
        p_value=w["p_null"], title=f"{w['model']}: null graphs vs {w['graph']}",
        ax=fig.add_subplot(),
    )  # fmt: skip
    rep.add_figure(fig, caption="r of the null graphs (histogram) and of the best graph (line).")
    for (model, gname), fit in comp.fits.items():
        if (model, gname) not in {(w["model"], w["graph"]), (w["model"], "connectome")}:
            continue
        rep.add_heading(f"{model} on the {gname} graph: group trajectory", 2)
        iv = fit.intervals
        ident = iv.get("identified", {})
        lines = [f"Epicentre {escape(fit.epicentre)} (95% profile set: "
                 f"{escape(', '.join(iv.get('epicentre_set', [])))})."]  # fmt: skip
        if model == "fisher_kpp":
            for name, label in (("rho", "ρ"), ("alpha", "α"), ("alpha_over_rho", "α/ρ")):
                lo, hi = iv.get(name, (np.nan, np.nan))
                state = ("" if ident.get(name) else
                         " — <b>not identified</b> (the set reaches the end of the search grid)")  # fmt: skip
                value = fit.alpha / fit.rho if name == "alpha_over_rho" else getattr(fit, name)
                lines.append(f"{label} = {value:.3g} (95% profile set {lo:.3g}-{hi:.3g}){state}.")
        lines.append(
            "Rates and times are on an arbitrary common time scale: group maps are "
            "cross-sectional, so only rate x time products are identified."
        )
        if not ident.get("times", True):
            lines.append(
                "<b>Some fitted disease times are at the end of the time grid</b>: the best fit "
                "lies at the edge of the search space, so these rates and times are not "
                "identified (the maps are fitted about as well by ever slower spread)."
            )
        rep.add_paragraph(" ".join(lines))
        per = fit.to_frame().reset_index()
        rep.add_table(per, caption="Fitted disease time, amplitude and r of each map.",
                      float_format="{:.3g}", index=False)  # fmt: skip
        pick = [i for i in maps.index if isinstance(i, tuple) and i[-1] == "baseline"]
        pick = pick or list(maps.index[:3])
        label = [" ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in pick]
        frame = pd.concat(
            [maps.loc[pick].T.set_axis([f"{lb} observed" for lb in label], axis=1),
             fit.predicted.loc[pick].T.set_axis([f"{lb} fitted" for lb in label], axis=1)],
            axis=1,
        )  # fmt: skip
        rep.add_figure(
            plot_brain_maps(frame, cmap="RdBu_r", symmetric=True, shared_scale=True,
                            colorbar_label="atrophy (Welch t / max t)"),
            caption="Baseline maps (or the first three), observed and fitted (diverging scale "
            "centred at 0).",
        )  # fmt: skip
        sse = fit.epicentre_sse.replace(np.inf, np.nan)  # not searched (shortlist): grey
        delta = 100 * (sse / sse.min() - 1)
        rep.add_figure(
            plot_brain_maps(delta.clip(upper=float(delta.quantile(0.9))).to_frame("ΔSSE %"),
                            cmap="viridis_r", symmetric=False,
                            colorbar_label="% more residual than the best epicentre"),
            caption="Epicentre search: residual sum of squares with each region as the seed "
            "(0 = best; capped at the 90th percentile).",
        )  # fmt: skip
    rep.add_heading("Methods", 2)
    rep.add_paragraph(
        f"ADNI2 {bib.cite('adni')} FreeSurfer {bib.cite('freesurfer')} regional volume Welch t "
        f"maps (controls minus patients, Desikan-Killiany atlas {bib.cite('desikan2006')}) of "
        "EMCI (baseline and follow-ups 2-6), LMCI and AD (baseline and 2-5), divided by the "
        "largest t. Each map gets its own offset, non-negative amplitude and disease time; the "
        "epicentre and the rates are shared, so the maps form one trajectory. Network diffusion "
        f"{bib.cite('raj2012')} and Fisher-KPP {bib.cite('weickenmeier2019')} were fitted by an "
        "exhaustive search over epicentres (Fisher-KPP: the 8 best network-diffusion epicentres "
        "of each graph), a rate grid and a time grid, on the HCP structural connectome "
        f"{bib.cite('enigma_toolbox')}, a Euclidean nearest-neighbour graph with the same mean "
        "degree (distance only), their union (combined), degree-preserving rewirings "
        f"{bib.cite('maslov2002')} and degree- and edge-length-preserving rewirings "
        f"{bib.cite('betzel2018')}; p-values count null graphs that fit at least as well "
        f"{bib.cite('phipson2010')}. Intervals are profile-likelihood sets over the search grid "
        "assuming independent Gaussian residuals; neighbouring regions are correlated, so they "
        "are optimistic."
    )
    rep.add_heading("References", 2)
    rep.add_html(bib.render())
    return rep
