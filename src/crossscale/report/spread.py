"""Reports of ``crossscale spread``: subtypes of a cohort and the benchmark.

The report of group-map fits (``spread fit-group``) is in :mod:`crossscale.report.spread_groups`.

The reports open with a summary paragraph that answers the user's question (how many subtypes,
where they start, how fast, how sure), then figures with diverging colour scales centred at 0 for signed values, tidy
tables, a methods paragraph with numbered citations and the references.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography

_UNITS = {"rho": "1/year", "alpha": "1/year", "onset": "years before the first visit"}
_SYMBOL = {"rho": "ρ", "alpha": "α", "onset": "onset"}


def _figure(width: float, height: float):  # noqa: ANN202
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def selection_figure(table: pd.DataFrame):  # noqa: ANN201
    """Held-out log predictive density (mean ± 1 SE) against K, the chosen K marked."""
    fig = _figure(5.0, 3.2)
    ax = fig.add_subplot()
    k = table.index.to_numpy()
    ax.errorbar(k, table["heldout_loglik"], yerr=table["heldout_se"], marker="o", capsize=4,
                color="#2f5d8a", label="mean ± 1 SE over held-out subjects")  # fmt: skip
    best = table.index[table["within_1se"]].min()
    ax.axhline(table["heldout_loglik"].max() - table.loc[table["heldout_loglik"].idxmax(),
               "heldout_se"], color="grey", ls=":", lw=1, label="best − 1 SE")  # fmt: skip
    ax.plot([best], [table.loc[best, "heldout_loglik"]], "o", ms=12, mfc="none", mec="#c0392b",
            mew=2, label=f"chosen K = {best}")  # fmt: skip
    ax.set_xlabel("number of subtypes K")
    ax.set_ylabel("held-out log p(y) per subject (nats)")
    ax.set_xticks(k)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def truth_figure(params: pd.DataFrame, truth: pd.DataFrame, names: list[str]):  # noqa: ANN201
    """Estimated (posterior median, 95% interval) against true value, one panel per parameter."""
    fig = _figure(3.3 * len(names), 3.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    t = truth.loc[params.index]
    for ax, name in zip(axes, names, strict=True):
        est, lo, hi = params[name], params[f"{name}_low"], params[f"{name}_high"]
        ok = lo.notna()
        ax.errorbar(t.loc[ok, name], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o",
                    ms=3, lw=0.6, alpha=0.7, color="#2f5d8a", label="95% interval")  # fmt: skip
        if (~ok).any():
            ax.plot(t.loc[~ok, name], est[~ok], "x", color="#c0392b", label="not identified")
        lim = [min(t[name].min(), est.min()), max(t[name].max(), est.max())]
        ax.plot(lim, lim, color="grey", lw=1, ls="--")
        ax.set_xlabel(f"true {_SYMBOL[name]} ({_UNITS[name]})")
        ax.set_ylabel(f"estimated {_SYMBOL[name]}")
        ax.legend(fontsize=7, loc="upper left")
    return fig


def _coverage(params: pd.DataFrame, truth: pd.DataFrame, names: list[str]) -> dict[str, float]:
    t = truth.loc[params.index]
    return {n: float(((params[f"{n}_low"] <= t[n]) & (t[n] <= params[f"{n}_high"])).mean())
            for n in names}  # fmt: skip


def _epicentre_set(proba: pd.Series, level: float = 0.95) -> list[str]:
    p = proba.sort_values(ascending=False)
    size = int(np.searchsorted(np.cumsum(p.to_numpy()), level) + 1)
    return [str(r) for r in p.index[:size]]


def subtype_table(est, params: pd.DataFrame) -> pd.DataFrame:
    """One row per subtype: epicentre, its probability, weight, subjects, median parameters."""
    rows = []
    names = list(est.module_.names)
    for k in range(est.n_subtypes):
        sub = params[params["subtype"] == k]
        row: dict[str, Any] = {
            "subtype": k, "epicentre": est.epicentres_[k],
            "P(epicentre)": float(est.epicentre_proba_.iloc[k].max()),
            "95% epicentre set": ", ".join(_epicentre_set(est.epicentre_proba_.iloc[k])),
            "weight": float(est.subtype_params_["weight"].iloc[k]), "subjects": len(sub),
        }  # fmt: skip
        for n in names:
            q = sub[n].quantile([0.25, 0.5, 0.75]) if len(sub) else pd.Series([np.nan] * 3)
            row[f"{_SYMBOL[n]} median [IQR]"] = (
                f"{q.iloc[1]:.3g} [{q.iloc[0]:.3g}-{q.iloc[2]:.3g}]" if len(sub) else "-"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def summary_text(est, params: pd.DataFrame, selection=None) -> str:
    """The report's first paragraph: how many subtypes, where they start, how fast, how sure."""
    k = est.n_subtypes
    how = (
        f"chosen by held-out log predictive density with the one-standard-error rule "
        f"({int(round(100 * selection.stability))}% of {len(selection.repeats)} repeat(s) agree)"
        if selection is not None else "as requested (--n-subtypes)"
    )  # fmt: skip
    parts = [f"<b>{k} subtype{'s' if k > 1 else ''}</b> ({how})."]
    names = list(est.module_.names)
    for j in range(k):
        sub = params[params["subtype"] == j]
        if not len(sub):
            parts.append(f"Subtype {j} (epicentre {escape(est.epicentres_[j])}) has no subjects.")
            continue
        rates = ", ".join(f"{_SYMBOL[n]} {sub[n].median():.3g}/year" for n in names
                          if n != "onset")  # fmt: skip
        parts.append(
            f"Subtype {j}: {len(sub)} subjects ({100 * len(sub) / len(params):.0f}%), starts in "
            f"<b>{escape(est.epicentres_[j])}</b> (epicentre probability "
            f"{est.epicentre_proba_.iloc[j].max():.2f}), median {rates}, first visit a median "
            f"{sub['onset'].median():.1f} years after onset."
        )
    p = params["subtype_proba"]
    parts.append(
        f"How sure: {100 * (p > 0.9).mean():.0f}% of subjects have a subtype probability above "
        f"0.9 (median {p.median():.2f}); fitted noise sd {est.noise_:.3g}."
    )
    unid = {n: int((~params[f"{n}_identified"]).sum()) for n in names}
    if any(unid.values()):
        parts.append(
            "Not identified by the visits (intervals left blank): "
            + ", ".join(f"{_SYMBOL[n]} for {v} subject(s)" for n, v in unid.items() if v)
            + "."
        )
    return " ".join(parts)


def _methods(est, selection, bib: Bibliography) -> str:
    model = ("Fisher-KPP (diffusion plus logistic growth)" if est.model == "fisher_kpp"
             else "network diffusion")  # fmt: skip
    text = (
        f"SpreadMixtureVAE {bib.cite('pinnawala2025')} models each subject's visits as {model} "
        f"{bib.cite('raj2012', 'weickenmeier2019')} on the ENIGMA HCP structural connectome "
        f"{bib.cite('enigma_toolbox')}, seeded at the epicentre of the subject's subtype, with "
        f"subject-level log-normal diffusivity, growth rate and onset, and Gaussian noise. An "
        f"amortised encoder {bib.cite('vae')} is trained for {est.max_epochs} epochs; then "
        f"{est.n_em} EM rounds {bib.cite('dempster1977')} refine every subject's posterior under "
        f"every subtype (MAP by Levenberg-Marquardt and a full-covariance Laplace approximation "
        f"{bib.cite('tierney1986', 'kim2018_savae')}) and re-estimate the subtype weights, "
        "prior means and spreads and the noise. Intervals are central 95% posterior intervals "
        "of that Laplace posterior; a parameter that the subject's data alone leave with a "
        "log-scale sd above 1 (e.g. the time scale of a single visit) is reported as not "
        "identified. Subtype probabilities use the Laplace evidence of each subtype."
    )
    if selection is not None:
        text += (
            " K was chosen among "
            f"{', '.join(str(i) for i in selection.table.index)} by the log predictive density "
            "of held-out subjects (30%; importance-sampled with a Laplace-centred t proposal "
            f"{bib.cite('burda2016')}), taking the smallest K within one standard error of the "
            f"best {bib.cite('hastie2009')}."
        )
    return text


def build_spread_fit_report(
    est,
    params: pd.DataFrame,
    observed_means: pd.DataFrame,
    *,
    selection=None,
    truth: pd.DataFrame | None = None,
    command: str | None = None,
) -> Report:
    """The HTML report of ``crossscale spread fit MAPS``.

    Parameters
    ----------
    est : SpreadMixtureVAE
        Fitted.
    params : pandas.DataFrame
        ``est.transform(X)``.
    observed_means : pandas.DataFrame, shape (n_regions, n_subtypes * n_times)
        Mean observed map of each inferred subtype at each visit time.
    selection : SubtypeSelection or None
    truth : pandas.DataFrame or None
        ``truth.csv`` of a simulated cohort (columns rho, alpha, onset, subtype), if known.
    command : str or None

    Returns
    -------
    report : Report
    """
    from crossscale.plotting import plot_brain_maps

    bib = Bibliography()
    rep = Report("crossscale spread fit", subtitle=command)
    rep.add_paragraph(summary_text(est, params, selection))
    names = list(est.module_.names)
    if truth is not None:
        cov = _coverage(params, truth, names)
        from sklearn.metrics import adjusted_rand_score

        ari = adjusted_rand_score(truth.loc[params.index, "subtype"], params["subtype"])
        rep.add_note(
            "Simulated cohort (truth.csv found): subtype ARI "
            f"{ari:.2f}; 95% intervals contain the true value for "
            + ", ".join(f"{100 * v:.0f}% ({_SYMBOL[n]})" for n, v in cov.items())
            + " of subjects.",
            "info",
        )
    if selection is not None:
        rep.add_heading("Choice of the number of subtypes", 2)
        rep.add_figure(selection_figure(selection.table),
                       caption="Held-out log predictive density per subject against K.")  # fmt: skip
        tab = selection.table.reset_index()[
            ["n_subtypes", "heldout_loglik", "heldout_se", "diff_to_best", "within_1se",
             "noise", "chosen_in_repeats"]
        ].rename(columns={"n_subtypes": "K", "heldout_loglik": "held-out log p(y)",
                          "heldout_se": "SE", "diff_to_best": "below best",
                          "within_1se": "within 1 SE", "noise": "fitted noise",
                          "chosen_in_repeats": "chosen in repeats"})  # fmt: skip
        rep.add_table(tab, caption="Selection curve (nats per held-out subject).",
                      float_format="{:.3g}", index=False)  # fmt: skip
    rep.add_heading("Subtypes", 2)
    rep.add_table(subtype_table(est, params), caption="Subtypes and their subjects' parameters.",
                  float_format="{:.3g}", index=False)  # fmt: skip
    lim = float(np.nanmax(np.abs(observed_means.to_numpy()))) if observed_means.size else 1.0
    rep.add_figure(
        plot_brain_maps(observed_means, cmap="RdBu_r", symmetric=True, vmin=-lim, vmax=lim,
                        shared_scale=True, colorbar_label="mean observed value"),
        caption="Mean observed map of each inferred subtype at each visit time (diverging scale "
        "centred at 0: noise can make values negative).",
    )  # fmt: skip
    ep = est.epicentre_proba_.T.set_axis([f"subtype {k}" for k in range(est.n_subtypes)], axis=1)
    rep.add_figure(
        plot_brain_maps(ep, cmap="Purples", symmetric=False, vmin=0.0, vmax=1.0,
                        colorbar_label="posterior probability of the epicentre"),
        caption="Posterior over each subtype's epicentre.",
    )  # fmt: skip
    if truth is not None:
        rep.add_heading("Simulated against true", 2)
        rep.add_figure(truth_figure(params, truth, names),
                       caption="Posterior median and 95% interval against the simulated truth "
                       "(dashed: identity).")  # fmt: skip
        conf = pd.crosstab(truth.loc[params.index, "subtype"].rename("true subtype"),
                           params["subtype"].rename("inferred subtype"))  # fmt: skip
        conf.columns = [f"inferred {c}" for c in conf.columns]
        rep.add_table(conf.reset_index(), caption="Subjects by true and inferred subtype.",
                      index=False)  # fmt: skip
    rep.add_heading("Subjects", 2)
    cols = ["subtype", "subtype_proba", "epicentre"]
    for n in names:
        cols += [n, f"{n}_low", f"{n}_high"]
    show = params[cols].reset_index()
    rep.add_table(show, caption=f"First 20 of {len(params)} subjects (all in subjects.csv); "
                  "blank bounds: not identified.", float_format="{:.3g}", index=False,
                  max_rows=20)  # fmt: skip
    rep.add_heading("Methods", 2)
    rep.add_paragraph(_methods(est, selection, bib))
    rep.add_heading("References", 2)
    rep.add_html(bib.render())
    return rep


def subtype_trajectories(X: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Mean observed map of each inferred subtype at each visit time, regions x (subtype, time)."""
    frame = X.copy()
    frame["_k"] = labels.reindex(frame.index.get_level_values(0)).to_numpy()
    frame["_t"] = frame.index.get_level_values(1) if isinstance(frame.index, pd.MultiIndex) else 0.0
    means = frame.groupby(["_k", "_t"]).mean()
    means.index = [f"subtype {k}, t={t:g}" for k, t in means.index]
    return means.T


def build_spread_benchmark_report(res, *, command: str | None = None) -> Report:
    """The HTML report of ``crossscale spread benchmark`` (a ``SpreadBenchmarkResult``)."""
    rep = Report("crossscale spread benchmark", subtitle=command)
    rep.add_paragraph(
        f"Chosen K = true K in {100 * res.selection_accuracy():.0f}% of "
        f"{len(res.selection)} simulated cohorts; tables below (also in benchmark.md)."
    )
    for heading, df in (("Choice of K", res.confusion), ("Calibration", res.calibration),
                        ("Recovery", res.accuracy), ("Fit time", res.scaling)):  # fmt: skip
        if len(df):
            rep.add_heading(heading, 2)
            rep.add_table(df, float_format="{:.3g}", index=False)
    return rep


__all__ = [
    "build_spread_benchmark_report",
    "build_spread_fit_report", "selection_figure",
    "subtype_table", "subtype_trajectories", "summary_text", "truth_figure",
]  # fmt: skip
