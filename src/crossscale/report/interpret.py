"""Report section of the interpretation: genes with rank intervals, programs, clusters, enrichment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale.report.html import Report, escape

_REFERENCES = ["sundararajan2017", "fulcher2021", "lake2018", "spin_test", "benjamini1995"]
#: Columns and formats of the enrichment tables (per gene set and per program).
_ENRICHMENT_COLUMNS = ["n_genes", "score", "p_random", "q_random", "p_spatial", "q_spatial",
                       "p_ratio"]  # fmt: skip
_ENRICHMENT_FORMAT = {"score": "{:.3f}", "p_random": "{:.4f}", "q_random": "{:.4f}",
                      "p_spatial": "{:.4f}", "q_spatial": "{:.4f}", "p_ratio": "{:.2f}"}  # fmt: skip


def _rank_figure(genes: pd.DataFrame, n_top: int) -> Any:
    from matplotlib.figure import Figure

    top = genes.head(n_top).iloc[::-1]
    fig = Figure(figsize=(6.0, 0.22 * len(top) + 1.0))
    ax = fig.add_subplot()
    y = np.arange(len(top))
    ax.errorbar(
        top["rank_median"], y,
        xerr=[top["rank_median"] - top["rank_low"], top["rank_high"] - top["rank_median"]],
        fmt="o", color="#1f4e79", ecolor="#8fb3d9", capsize=2, label="median, 95% interval (replicates)",
    )  # fmt: skip
    ax.plot(top["rank"], y, "x", color="#c0392b", label="fitted model")
    ax.set_yticks(y, top.index)
    ax.set_xscale("log")
    ax.set_xlabel("rank of gene importance (log scale)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def add_interpretation_section(
    report: Report,
    interp: Any,
    *,
    level: int = 2,
    n_top: int = 20,
    figures: bool = True,
) -> Report:
    """Append the interpretation of a fitted GraphVAE to a report.

    Parameters
    ----------
    report : Report
        The report to extend (e.g. the one of ``crossscale fit``).
    interp : crossscale.interpret.Interpretation
        From :func:`crossscale.interpret.interpret_model`.
    level : int, default 2
        Heading level of the section (sub-sections get ``level + 1``).
    n_top : int, default 20
        Genes shown in the gene table and figure.
    figures : bool, default True
        Draw the brain-surface figures (slower); tables are always added.

    Returns
    -------
    report : Report
        The same report, for chaining.
    """
    p = interp.params
    sub = level + 1
    report.add_heading("Interpretation: genes, programs, cell types", level)
    report.add_paragraph(
        "Which genes carry the prediction, how stable that is, and whether they point to cell "
        "types once spatial autocorrelation is accounted for. Gene importance is the mean over "
        "regions of the absolute integrated gradient of the predicted map with respect to the "
        "gene's standardised expression (baseline: every gene at its mean; "
        f"{p.get('n_steps')} steps; map units). Ranks carry 95% intervals over "
        f"{p.get('n_replicates')} refits, each with its own initial weights and without the map "
        f"values of a random {100 * p.get('holdout', 0):.0f}% of regions."
    )
    report.add_key_values(
        {
            "Gene-importance stability (mean pairwise Spearman over replicates)": interp.stability,
            "Integrated-gradients completeness error (map units)": (
                interp.attribution.completeness_error
            ),
            "Replicates": p.get("n_replicates"),
            "Spin-null refits (ensemble null)": p.get("n_perm"),
            "Random gene sets per set": p.get("n_random"),
        }
    )
    # -- genes --------------------------------------------------------------------------------
    report.add_heading("Genes that carry the prediction", sub)
    cols = ["importance", "signed", "rank", "rank_median", "rank_low", "rank_high", "top20_freq"]
    report.add_table(
        interp.genes[cols].head(n_top),
        caption=(
            f"Top {n_top} genes by importance (mean |integrated gradient|, map units); signed: "
            "mean signed contribution (positive raises the predicted map); rank interval: 2.5-97.5 "
            "percentiles over replicates; top20_freq: fraction of replicates ranking it in the "
            "top 20."
        ),
        float_format={"importance": "{:.4g}", "signed": "{:.3g}", "rank_median": "{:.0f}",
                      "rank_low": "{:.0f}", "rank_high": "{:.0f}", "top20_freq": "{:.2f}"},
    )  # fmt: skip
    if figures:
        report.add_figure(
            _rank_figure(interp.genes, n_top), caption="Rank of the top genes, with intervals."
        )
    # -- programs -----------------------------------------------------------------------------
    report.add_heading("Latent programs", sub)
    prog = interp.programs
    selected = bool(getattr(interp, "params", {}).get("programs_selected"))
    which = (f"The {len(prog)} distinct, stable program{'s' if len(prog) != 1 else ''} only (duplicates "
             "and unstable programs are not interpreted; see the program table above), ordered"
             if selected else "Every latent unit (distinctness not checked), ordered")  # fmt: skip
    report.add_table(
        prog,
        caption=(
            f"{which} by how much of the prediction they carry (integrated gradients of "
            "the decoder from the mean program vector; share of the total); loading_stability: "
            "Spearman correlation of the program's gene loadings with the best-matching program "
            "of each replicate, averaged."
        ),
    )
    top_load = {
        c: ", ".join(interp.loadings[c].abs().sort_values(ascending=False).index[:8])
        for c in prog.index
    }
    report.add_table(
        pd.Series(top_load, name="genes with the largest |loading|").rename_axis("program"),
        caption="Genes that drive each program (largest |correlation| across regions).",
    )
    if figures:
        from crossscale.plotting import plot_brain_map, plot_brain_maps

        report.add_figure(
            plot_brain_maps(interp.latent[list(prog.index)]),
            caption="Latent programs on the brain, ordered by their share of the prediction.",
        )
    # -- clusters -----------------------------------------------------------------------------
    cl = interp.clusters
    report.add_heading("Region clusters in latent space", sub)
    report.add_key_values(
        {
            "Clusters (k-means, k by silhouette)": cl.n_clusters,
            "Mean silhouette": cl.silhouette,
            "Stability (mean adjusted Rand index vs replicates)": cl.stability_ari,
            "Adjusted Rand index with lobes": cl.lobe_ari,
            "p (spin test), lobes": cl.lobe_p,
            "ANOVA F of the map across clusters": cl.map_f,
            "p (spin test), map": cl.map_p,
            "Spin permutations": cl.n_perm,
        }
    )
    report.add_table(cl.summary, caption="Clusters: size, main lobe, mean of the map.")
    if figures:
        labels = cl.labels.astype(float).rename("cluster")
        report.add_figure(
            plot_brain_map(labels, cmap="tab10", symmetric=False, vmin=-0.5, vmax=9.5,
                           colorbar_label="cluster"),
            caption="Region clusters on the brain.",
        )  # fmt: skip
    # -- enrichment ---------------------------------------------------------------------------
    report.add_heading("Cell-type enrichment", sub)
    report.add_paragraph(
        "Set score: mean z-scored gene importance of the set's genes. Two one-sided p-values side "
        "by side: <b>p_random</b> against random gene sets of the same size, and <b>p_spatial</b> "
        "against the spatially constrained ensemble null (the model refitted on "
        f"{p.get('n_perm')} spin-permuted maps, the same score recomputed each time; Fulcher et "
        "al. 2021). q: Benjamini-Hochberg across sets. p_ratio = p_spatial / p_random: how much "
        "the random-gene null alone overstates the evidence."
    )
    for name, enr in interp.enrichment.items():
        t = enr.to_frame()
        report.add_table(
            t[[*_ENRICHMENT_COLUMNS, "top_genes"]],
            caption=f"Enrichment in the '{name}' gene sets (n_genes: set genes among the model's).",
            float_format=_ENRICHMENT_FORMAT,
        )
        few = enr.too_few_genes() if hasattr(enr, "too_few_genes") else t.iloc[:0]
        if len(few):
            n_model = getattr(enr, "n_scored_genes", None)
            listing = ", ".join(
                f"{set_name} ({int(r['n_genes'])}"
                + (f" of {int(r['size'])})" if "size" in r and r["size"] == r["size"] else ")")
                for set_name, r in few.iterrows()
            )
            report.add_note(
                f"{len(few)} of the {len(t)} '{escape(name)}' sets show '–': fewer than "
                f"{enr.min_size} of their genes are among the model's "
                f"{n_model if n_model is not None else ''} genes, too few for a set score "
                f"(genes among the model's, of the set's): {escape(listing)}. Scoring them over all "
                "AHBA genes would not be sound: attributions exist only for the genes the model "
                "was given. A gene panel with more genes (e.g. --gene-panel stable) covers more "
                "sets."
            )
        inflated = t[(t["q_random"] < 0.05) & ~(t["q_spatial"] < 0.05)]
        if len(inflated):
            report.add_note(
                f"{len(inflated)} '{escape(name)}' set(s) pass FDR 0.05 under the random-gene null "
                f"but not under the spatial ensemble null: {escape(', '.join(inflated.index))}.",
                kind="warning",
            )
    prog_enr = getattr(interp, "program_enrichment", {}) or {}
    if prog_enr:
        report.add_paragraph(
            "Programs to cell types: for each program, the set score is the mean z-scored "
            "|correlation| across regions between the program and the set's genes; p_spatial "
            "comes from spin permutations of the program map (same genes, same co-expression, "
            "spatial autocorrelation kept). Shown: the best set of each program by p_random."
        )
    for name, tab in prog_enr.items():
        ok = tab.dropna(subset=["p_random"])
        if ok.empty:
            continue
        best = ok.sort_values(["p_random", "p_spatial"]).groupby("program", sort=False).head(1)
        best = best.set_index("program").loc[
            [p_ for p_ in prog.index if p_ in set(best["program"])]
        ]
        report.add_table(
            best[["gene_set", *_ENRICHMENT_COLUMNS]],
            caption=f"Most enriched '{name}' set of each program (programs in order of importance).",
            float_format=_ENRICHMENT_FORMAT,
        )
    report.add_heading("References for this section", sub)
    report.add_references(_REFERENCES, anchors=False)
    return report
