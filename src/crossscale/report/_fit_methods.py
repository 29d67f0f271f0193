"""The methods paragraph of the ``crossscale fit`` report, generated from the run's configuration."""

from __future__ import annotations

from typing import Any

from crossscale.report.html import escape
from crossscale.report.methods import Bibliography

__all__ = ["methods_text", "model_methods"]


def _graphvae_methods(p: dict[str, Any], bib: Bibliography) -> str:
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
    lam = float(p.get("smoothness", 0.0))
    encoder = p.get("encoder", "gcn")
    alpha = float(p.get("expression_weight", 0.0) or 0.0)
    if lam > 0:
        name = f"The graph-regularised VAE {bib.cite('vaithianathan2026')}"
    elif encoder != "mlp":
        name = (f"A graph-convolutional VAE (the model of {bib.cite('vaithianathan2026')} without "
                "its smoothness penalty, λ = 0)")  # fmt: skip
    else:
        name = (f"A VAE without any graph term (MLP encoder, λ = 0; the model of "
                f"{bib.cite('vaithianathan2026')} without its graph regularisation)")  # fmt: skip
    decoders = f"decodes it with an MLP ({p.get('decoder_layers', 1)} hidden layer(s)) into the map"
    recon = ""
    if alpha > 0:
        decoders += (
            " and with a linear decoder into the region's standardised gene expression (a "
            f"generative model of the expression as well as of the map, as scVI's decoder {bib.cite('scvi2018')})"
        )
        recon = f" + α Σ<sub>regions</sub> (mean squared error per standardised gene) (α = {alpha:g})"
    smooth = (
        f" + λ Σ<sub>edges</sub> w<sub>ij</sub> ‖{smooth_on}<sub>i</sub> − {smooth_on}<sub>j</sub>‖² "
        f"(λ = {lam:g})" if lam > 0 else ""
    )
    shrink = p.get("shrinkage", "none")
    a, b = (float(v) for v in p.get("blend_weights", (0.3, 0.6)))
    mix = f"ȳ + a (ŷ<sub>VAE</sub> − ȳ) + b (ŷ<sub>ridge</sub> − ȳ) of the network, ridge regression {bib.cite('ridge')} and the training mean ȳ"
    blend = {
        "none": "",
        "fixed": f" Each prediction is the fixed blend {mix}, with (a, b) = ({a:g}, {b:g}) chosen once on 36 public case-control maps (ADNI2 baseline atrophy, ENIGMA cortical thickness) and never on the map being fitted.",
        "scaled": (f" Each prediction is the blend {mix}, with (a, b) = s ({a:g}, {b:g}) (the weights chosen once on "
                 "36 public case-control maps) and the shrinkage factor s ∈ {0, 0.1, …, 1} chosen for every fold by a "
                 f"5-block spatial cross-validation on its training regions only {bib.cite('breiman1996')}."),
        "auto": (f" Each prediction is the blend {mix}, with a, b ≥ 0, a + b ≤ 1 chosen for every fold by a "
                   f"5-block spatial cross-validation on its training regions only {bib.cite('breiman1996')}."),
    }.get(shrink, "")
    return (
        f"{name} encodes {inputs} of each region with {enc} into a Gaussian latent program of "
        f"{p['n_latent']} dimensions {bib.cite('vae')}, {decoders}, and minimises the summed squared "
        f"error of the map{recon}{smooth} + β KL (β = {p['beta']}) with Adam (learning rate "
        f"{p['lr']}, weight decay {p['weight_decay']}), full batch, for {policy}.{ens}{resid}{blend}"
    )


def model_methods(summary: dict[str, Any], bib: Bibliography) -> str:
    """The model's paragraph: GraphVAE's maths from its parameters, else the model and its parameters.

    `summary` holds ``model_params`` (``get_params()``) and ``model_class`` (the estimator's class
    name; runs without it were GraphVAE runs).
    """
    cls = summary.get("model_class", "GraphVAE")
    if cls == "GraphVAE":
        return _graphvae_methods(summary["model_params"], bib)
    params = ", ".join(f"{k} = {v!r}" for k, v in sorted(summary["model_params"].items()))
    return (
        f"The model was {escape(cls)} (registered as <code>{escape(str(summary.get('model')))}</code>), "
        f"fitted on the same inputs with parameters {escape(params) or 'none'}."
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
    expression_text = atlas_expression_methods(s, bib) or (
        f"Regional gene expression came from the Allen Human Brain Atlas {bib.cite('ahba')} processed "
        f"with abagen {bib.cite('abagen')} into the Desikan-Killiany atlas {bib.cite('desikan2006')} "
        f"(package data of imaging-transcriptomics {bib.cite('imaging_transcriptomics')}). The input "
        f"was {s['n_genes']} genes: the LINCS L1000 landmark genes {bib.cite('lincs')} that are "
        f"columns of the matrix ({s['n_genes_missing']} of {s['n_genes_requested']} landmark symbols "
        "are not; the reference reports 910 genes but does not describe its matching). "
    )
    return (
        expression_text + "Each gene was "
        f"z-scored across the training regions. The target map was <i>{escape(s['map_name'])}</i> "
        f"({escape(s['map_units'])}) over {s['n_regions']} regions, standardised for training and "
        f"reported in its own units. Regions were linked in a graph ({escape(s['graph_kind'])}; "
        f"{s['n_edges']} edges). "
        + (model_methods(s, bib) + " " if "model_params" in s else "")
        + "Out-of-sample accuracy was measured by leave-one-region-out cross-validation and by "
        f"distance-blocked spatial cross-validation {bib.cite('hansen2021')} (for each region, the "
        f"nearest quarter of its hemisphere held out). {proto_text} "
        f"Baselines fitted in the same run on the same folds: PLS regression with 1-5 components "
        f"{bib.cite('pls', 'imaging_transcriptomics')}, ridge regression with a penalty chosen by "
        f"leave-one-out CV {bib.cite('ridge')}, a spatial-only predictor (harmonic interpolation "
        "of the map over the region graph, no genes) and, as the baseline a user could run, the one "
        "of these seven chosen in each outer fold by 5-block spatial CV on its training regions only "
        f"(nested CV {bib.cite('varma2006')}; the best baseline of the table is instead picked on the "
        "evaluation folds)."
        + atlas_null_methods(s, bib)
    )


_ATLAS_CITES = {"dk": "desikan2006", "dk-subcortex": "desikan2006", "glasser360": "glasser2016"}


def atlas_expression_methods(s: dict[str, Any], bib: Bibliography) -> str | None:
    """The expression sentences for an atlas other than DK or a panel other than L1000 (else None)."""
    atlas, expr = s.get("atlas") or {}, s.get("expression") or {}
    name = atlas.get("name", "dk")
    if not expr or (name == "dk" and expr.get("panel") == "l1000"):
        return None
    user = expr.get("panel") == "user"
    ahba, abagen = ("", "") if user else (bib.cite("ahba"), bib.cite("abagen"))  # reading order
    key = _ATLAS_CITES.get(name, "schaefer2018" if name.startswith("schaefer") else None)
    where = (f"the {escape(atlas.get('title', name))} atlas {bib.cite(key)}" if key and atlas.get("builtin")
             else f"a user parcellation ({escape(', '.join(atlas.get('sources', [])))})")  # fmt: skip
    dropped = expr.get("dropped_regions", {})
    empty = sum(len(v) for k, v in dropped.items() if k.startswith("empty"))
    empty_text = f"; {empty} parcels without any AHBA sample were left out" if empty else ""
    if expr.get("panel") == "user":
        head = (f"Regional gene expression was the user's matrix {escape(str(expr.get('source')))} "
                f"for {where}, checked against the atlas")  # fmt: skip
    elif expr.get("panel") == "stable":
        head = (f"Regional gene expression came from the Allen Human Brain Atlas {ahba} "
                f"processed with abagen {abagen} into {where} by the ENIGMA Toolbox "
                f"authors {bib.cite('enigma_toolbox')}; the genes were those with differential "
                f"stability of at least 0.6 {bib.cite('hawrylycz2015')} (the LINCS L1000 landmark "
                "panel is not available for this atlas)")  # fmt: skip
    else:
        head = (f"Regional gene expression came from the Allen Human Brain Atlas {ahba} "
                f"processed with abagen {abagen} into {where} (package data of "
                f"imaging-transcriptomics {bib.cite('imaging_transcriptomics')}), restricted to the "
                f"LINCS L1000 landmark genes {bib.cite('lincs')} it holds")  # fmt: skip
    return f"{head}{empty_text}: {s['n_genes']} genes over {s['n_regions']} regions. "


def atlas_null_methods(s: dict[str, Any], bib: Bibliography) -> str:
    """Which null model each region set got, when the fit has nulls (else empty)."""
    nulls = s.get("null_models")
    if not nulls:
        return ""
    parts = "; ".join(f"{escape(k)}: {escape(v)}" for k, v in nulls.items())
    moran = any("Moran" in v for v in nulls.values())
    return (f" Spatial null models — {parts}" + (f" {bib.cite('wagner2015')}" if moran else "")
            + ".")  # fmt: skip
