"""The methods paragraph of the ``crossscale fit`` report, generated from the run's configuration."""

from __future__ import annotations

from typing import Any

from crossscale.report.html import escape
from crossscale.report.methods import Bibliography

__all__ = ["methods_text", "model_methods"]


def model_methods(summary: dict[str, Any], bib: Bibliography) -> str:
    """The model's paragraph: its registry entry's ``methods`` text, else a generic sentence.

    The generic sentence names the model and its parameters.

    `summary` holds ``model`` (the registry key), ``model_label`` / ``model_class`` and
    ``model_params`` (``get_params()``).
    """
    from crossscale.models import registry

    name = str(summary.get("model"))
    entry = registry.entry_of(name) or registry.entry_of(str(summary.get("model_class")))
    if entry is not None and entry.methods is not None:
        return entry.methods(summary["model_params"], bib.cite)
    params = ", ".join(f"{k} = {v!r}" for k, v in sorted(summary["model_params"].items()))
    label = entry.label if entry is not None else summary.get("model_class", name)
    cites = (" " + bib.cite(*entry.references)) if entry is not None and entry.references else ""
    return (
        f"The model was {escape(str(label))}{cites} (registered as <code>{escape(name)}</code>), "
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
