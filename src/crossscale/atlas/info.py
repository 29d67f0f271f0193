"""The built-in parcellations of crossscale: what each is and where its data come from.

:data:`ATLASES` describes every built-in atlas without loading it (:func:`atlas_info` looks one up
by any common spelling); :func:`crossscale.atlas.get_atlas` builds the :class:`~crossscale.atlas.Atlas`:

========== ============================================ ========= ===========================
name       parcellation                                 regions   expression (AHBA)
========== ============================================ ========= ===========================
dk         Desikan-Killiany, cortex (default)           68        L1000 landmark genes (889)
dk-sub...  Desikan-Killiany + 14 subcortical regions    82        L1000 (889) or stable (1,645)
schaefer*  Schaefer 2018, 7 networks, 100 ... 400       100-400   stable genes (810 ... 282)
glasser360 Glasser 2016 HCP-MMP1.0                      360       stable genes (268)
========== ============================================ ========= ===========================

and :meth:`Atlas.from_annot` builds one from a pair of FreeSurfer ``.annot`` files on fsaverage5.
Vertex labels of the built-in cortical parcellations come from FreeSurfer annotations (DK: the
imaging-transcriptomics package; Schaefer and Glasser: the ENIGMA Toolbox); the mesh is
nilearn's fsaverage5 (the same 10,242 vertices per hemisphere). Centroids of subcortical regions
come from the Desikan-Killiany volume in MNI152 space (imaging-transcriptomics); they have no
position on the sphere, so spin tests leave them to a distance-based null
(:func:`crossscale.nulls.generate_nulls`).

References
----------
.. [1] Desikan R.S. et al. (2006). NeuroImage 31, 968-980.
.. [2] Schaefer A. et al. (2018). Local-global parcellation of the human cerebral cortex from
   intrinsic functional connectivity MRI. Cereb Cortex 28, 3095-3114.
.. [3] Glasser M.F. et al. (2016). A multi-modal parcellation of human cerebral cortex. Nature
   536, 171-178.
.. [4] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossscale._errors import ParameterError

__all__ = ["ATLASES", "AtlasInfo", "atlas_info"]


@dataclass(frozen=True)
class AtlasInfo:
    """What a built-in atlas is, without loading it (for ``crossscale data atlases``).

    Attributes
    ----------
    name, title : str
    n_cortex, n_subcortex : int
        Region counts.
    annot : tuple of str
        Registry keys of the lh and rh annotations.
    connectome : tuple of str or None
        Registry keys (structural matrix, functional matrix, labels), or None.
    expression : dict of str to str
        Gene panel -> description of the built-in expression for it (first: the default).
    bigbrain : str
        Registry key of the BigBrain gradient map in this atlas.
    citation : str
    """

    name: str
    title: str
    n_cortex: int
    n_subcortex: int
    annot: tuple[str, str]
    connectome: tuple[str, str, str] | None
    expression: dict[str, str]
    bigbrain: str | None
    citation: str
    examples: str = ""

    @property
    def n_regions(self) -> int:
        """Cortical plus subcortical regions."""
        return self.n_cortex + self.n_subcortex

    def to_dict(self) -> dict[str, object]:
        """Plain dict for tables and run.json."""
        return {
            "name": self.name, "title": self.title, "n_regions": self.n_regions,
            "n_cortex": self.n_cortex, "n_subcortex": self.n_subcortex,
            "annotations": list(self.annot), "connectome": list(self.connectome or []),
            "expression": dict(self.expression), "bigbrain": self.bigbrain,
            "citation": self.citation,
        }  # fmt: skip


_DK_CITE = "Desikan R.S. et al. (2006). NeuroImage 31, 968-980."
_SCH_CITE = "Schaefer A. et al. (2018). Cereb Cortex 28, 3095-3114."
_GLA_CITE = "Glasser M.F. et al. (2016). Nature 536, 171-178."
_STABLE = "ENIGMA Toolbox AHBA matrix, genes with differential stability >= 0.6"
_L1000 = "imaging-transcriptomics AHBA matrix x LINCS L1000 landmark genes (889 of 978)"
_DK_CONNECTOME = ("enigma_hcp_struc_matrix_ctx", "enigma_hcp_func_matrix_ctx",
                  "enigma_hcp_struc_labels_ctx")  # fmt: skip


def _enigma_info(name: str, title: str, n: int, genes: int, empty: int, cite: str,
                 examples: str) -> AtlasInfo:  # fmt: skip
    empty_text = f", {empty} empty parcels dropped" if empty else ""
    return AtlasInfo(
        name=name, title=title, n_cortex=n, n_subcortex=0,
        annot=(f"enigma_annot_{name}_lh", f"enigma_annot_{name}_rh"),
        connectome=(f"enigma_hcp_struc_matrix_{name}", f"enigma_hcp_func_matrix_{name}",
                    f"enigma_hcp_struc_labels_{name}"),
        expression={"stable": f"{_STABLE}: {genes} genes{empty_text} (ahba_stable_{name}); "
                              "L1000 landmark genes are not available for this atlas"},
        bigbrain=f"bigbrain_gradient_{name}", citation=cite, examples=examples,
    )  # fmt: skip


_SCHAEFER_EX = "'7Networks_LH_Vis_1' or 'LH_Vis_1'"
#: Built-in atlases by name (see :func:`get_atlas`).
ATLASES: dict[str, AtlasInfo] = {
    "dk": AtlasInfo(
        "dk", "Desikan-Killiany", 68, 0, ("dk_annot_fsaverage5_lh", "dk_annot_fsaverage5_rh"),
        _DK_CONNECTOME, {"l1000": f"{_L1000} (ahba_expression)",
                         "stable": f"{_STABLE}: 1,645 genes, 2 empty regions dropped (ahba_stable_dk_subcortex)"},
        "bigbrain_gradient_dk", _DK_CITE, "'L_bankssts', 'lh_bankssts_thickness' or 'ctx-lh-bankssts'",
    ),  # fmt: skip
    "dk-subcortex": AtlasInfo(
        "dk-subcortex", "Desikan-Killiany with subcortex", 68, 14,
        ("dk_annot_fsaverage5_lh", "dk_annot_fsaverage5_rh"),
        ("enigma_hcp_struc_matrix_with_sctx", "enigma_hcp_func_matrix_with_sctx",
         "enigma_hcp_struc_labels_with_sctx"),
        {"l1000": f"{_L1000} (ahba_expression)",
         "stable": f"{_STABLE}: 1,645 genes, 2 empty regions dropped (ahba_stable_dk_subcortex)"},
        "bigbrain_gradient_dk", _DK_CITE,
        "'L_bankssts', 'Lthal' or 'Left-Thalamus-Proper'",
    ),  # fmt: skip
    **{f"schaefer{n}": _enigma_info(f"schaefer{n}", f"Schaefer-{n} (7 networks)", n, g, e,
                                     _SCH_CITE, _SCHAEFER_EX)
       for n, g, e in ((100, 810, 0), (200, 430, 9), (300, 327, 28), (400, 282, 49))},
    "glasser360": _enigma_info("glasser360", "Glasser-360 (HCP-MMP1.0)", 360, 268, 63, _GLA_CITE,
                               "'L_V1', 'L_V1_ROI' or 'lh.L_V1_ROI'"),
}  # fmt: skip


def atlas_info(name: str) -> AtlasInfo:
    """The description of a built-in atlas.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the built-in ones).
    """
    key = str(name).strip().lower().replace("_", "-")
    key = {"desikan-killiany": "dk", "aparc": "dk", "dk-sctx": "dk-subcortex",
           "glasser": "glasser360", "glasser-360": "glasser360", "hcp-mmp1": "glasser360"}.get(key, key)  # fmt: skip
    key = key.replace("schaefer-", "schaefer")
    if key not in ATLASES:
        import difflib

        close = difflib.get_close_matches(key, list(ATLASES), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ParameterError(
            f"atlas must be one of {', '.join(map(repr, ATLASES))} or two FreeSurfer .annot files "
            f"('lh.x.annot,rh.x.annot'); got {name!r}.{hint}"
        )
    return ATLASES[key]


def family_hint(family: str | None, current: str) -> str:
    """Advice for names of another atlas `family` (see ``looks_like``) than `current`, or ""."""
    if family is None:
        return ""
    if family == "schaefer" and not current.startswith("schaefer"):
        return (" They look like Schaefer parcel names: pass the atlas they come from, e.g. "
                "--atlas schaefer200 (atlas='schaefer200').")  # fmt: skip
    if family == "glasser" and current != "glasser360":
        return " They look like Glasser areas: pass --atlas glasser360 (atlas='glasser360')."
    if family == "dk-subcortex" and current == "dk":
        return (" They include subcortical regions: pass --atlas dk-subcortex "
                "(atlas='dk-subcortex'), or drop those rows.")  # fmt: skip
    if family in ("dk", "dk-subcortex") and not current.startswith("dk"):
        return " They look like Desikan-Killiany names: pass --atlas dk (atlas='dk')."
    if family == "destrieux":
        return (" They look like Destrieux (aparc.a2009s) names; crossscale has no Destrieux "
                "atlas: give its .annot files as --atlas lh.x.annot,rh.x.annot.")  # fmt: skip
    return ""
