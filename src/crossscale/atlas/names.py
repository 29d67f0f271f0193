"""Canonical Desikan-Killiany region names and the one place other tools' names are mapped.

Canonical names are ENIGMA's: ``L_bankssts`` ... ``L_insula``, ``R_bankssts`` ... ``R_insula``
(68 cortical regions, left hemisphere first, regions in Desikan-Killiany label order).

Recognised spellings (case-insensitive):

* ENIGMA: ``L_bankssts``, ``L_bankssts_thickavg``, ``L_bankssts_surfavg``
* FreeSurfer aparcstats2table: ``lh_bankssts_thickness``, ``lh_bankssts_area``, ``lh_bankssts_volume``
* FreeSurfer LUT: ``ctx-lh-bankssts``, ``ctx_lh_bankssts``
* plain with hemisphere suffix: ``bankssts_L``, ``lh.bankssts``
* Raj lab ``RegionNames``: ``Bankssts_L``, ``Bankssts_R``

References
----------
.. [1] Desikan R.S. et al. (2006). An automated labeling system for subdividing the human cerebral
   cortex on MRI scans into gyral based regions of interest. NeuroImage 31, 968-980.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

import pandas as pd

from crossscale._errors import RegionMismatchError
from crossscale._format import format_list

#: The 34 Desikan-Killiany cortical labels of one hemisphere, in ENIGMA order.
DK_LABELS: tuple[str, ...] = (
    "bankssts", "caudalanteriorcingulate", "caudalmiddlefrontal", "cuneus", "entorhinal",
    "fusiform", "inferiorparietal", "inferiortemporal", "isthmuscingulate", "lateraloccipital",
    "lateralorbitofrontal", "lingual", "medialorbitofrontal", "middletemporal", "parahippocampal",
    "paracentral", "parsopercularis", "parsorbitalis", "parstriangularis", "pericalcarine",
    "postcentral", "posteriorcingulate", "precentral", "precuneus", "rostralanteriorcingulate",
    "rostralmiddlefrontal", "superiorfrontal", "superiorparietal", "superiortemporal",
    "supramarginal", "frontalpole", "temporalpole", "transversetemporal", "insula",
)  # fmt: skip

#: The 68 canonical cortical region names, left hemisphere first.
DK_REGIONS: tuple[str, ...] = tuple(f"{h}_{lab}" for h in ("L", "R") for lab in DK_LABELS)

#: Lobe of each Desikan-Killiany label (frontal, parietal, temporal, occipital, cingulate, insula),
#: as in Klein & Tourville (2012) with the cingulate and insula kept separate.
DK_LOBES: dict[str, str] = {
    **dict.fromkeys(("caudalmiddlefrontal", "lateralorbitofrontal", "medialorbitofrontal",
                     "paracentral", "parsopercularis", "parsorbitalis", "parstriangularis",
                     "precentral", "rostralmiddlefrontal", "superiorfrontal", "frontalpole"),
                    "frontal"),
    **dict.fromkeys(("inferiorparietal", "postcentral", "precuneus", "superiorparietal",
                     "supramarginal"), "parietal"),
    **dict.fromkeys(("bankssts", "entorhinal", "fusiform", "inferiortemporal", "middletemporal",
                     "parahippocampal", "superiortemporal", "temporalpole", "transversetemporal"),
                    "temporal"),
    **dict.fromkeys(("cuneus", "lateraloccipital", "lingual", "pericalcarine"), "occipital"),
    **dict.fromkeys(("caudalanteriorcingulate", "isthmuscingulate", "posteriorcingulate",
                     "rostralanteriorcingulate"), "cingulate"),
    "insula": "insula",
}  # fmt: skip

_HEMI = {"l": "L", "lh": "L", "left": "L", "r": "R", "rh": "R", "right": "R"}
_SUFFIXES = ("thickavg", "thickness", "surfavg", "area", "volume", "grayvol", "vol", "thick")
_LABEL_SET = frozenset(DK_LABELS)


def dk_regions(hemisphere: str | None = None) -> pd.Index:
    """Return the canonical Desikan-Killiany cortical regions as a ``pandas.Index``.

    Parameters
    ----------
    hemisphere : {"L", "R"} or None
        Restrict to one hemisphere; None (default) gives all 68.

    Returns
    -------
    regions : pandas.Index, shape (68,) or (34,)
        Named ``region``.
    """
    regions = [r for r in DK_REGIONS if hemisphere is None or r.startswith(f"{hemisphere}_")]
    return pd.Index(regions, name="region")


def canonical_region(name: str) -> str | None:
    """Map one region name from any supported convention to its canonical name.

    Parameters
    ----------
    name : str
        A region name such as ``lh_bankssts_thickness`` or ``ctx-lh-bankssts``.

    Returns
    -------
    canonical : str or None
        ``L_bankssts`` style name, or None if the name is not a Desikan-Killiany cortical region.
    """
    s = str(name).strip().lower().replace("-", "_").replace(".", "_").replace(" ", "_")
    s = re.sub(r"^ctx_", "", s)
    for suf in _SUFFIXES:
        if s.endswith("_" + suf):
            s = s[: -len(suf) - 1]
            break
    parts = [p for p in s.split("_") if p]
    if len(parts) != 2:
        return None
    a, b = parts
    if a in _HEMI and b in _LABEL_SET:
        return f"{_HEMI[a]}_{b}"
    if b in _HEMI and a in _LABEL_SET:
        return f"{_HEMI[b]}_{a}"
    return None


def to_canonical(names: Iterable[str], *, what: str = "names") -> list[str]:
    """Map many region names to canonical names, or raise one error that lists every problem.

    Parameters
    ----------
    names : iterable of str
        Region names in any supported convention.
    what : str
        How the error message refers to the input (e.g. ``"the 'map'"``).

    Returns
    -------
    canonical : list of str
        Same length and order as `names`.

    Raises
    ------
    RegionMismatchError
        If some names are not Desikan-Killiany cortical regions (with suggestions), or if two
        names map to the same region.
    """
    return dk_names().to_canonical(names, what=what)


_list = functools.partial(format_list, limit=8)


# -- other atlases: one matcher per atlas, all spellings mapped here -------------------------------
#: The 7 subcortical structures of one hemisphere covered by AHBA expression, in ENIGMA order.
SUBCORTEX_LABELS: tuple[str, ...] = (
    "accumbens", "amygdala", "caudate", "hippocampus", "pallidum", "putamen", "thalamus",
)  # fmt: skip

#: The 14 canonical subcortical region names (left first), as the ``dk-subcortex`` atlas orders them.
SUBCORTEX_REGIONS: tuple[str, ...] = tuple(f"{h}_{s}" for h in ("L", "R") for s in SUBCORTEX_LABELS)

# Spellings of each structure once separators are removed: ENIGMA (Laccumb), FreeSurfer
# (Left-Accumbens-area, Left-Thalamus-Proper), imaging-transcriptomics (L_thalamusproper), Raj lab
# (Accumbens_area_L).
_SUBCORTEX_SYNONYMS: dict[str, str] = {
    syn: label
    for label, syns in {
        "accumbens": ("accumbens", "accumbensarea", "accumb", "nacc", "nucleusaccumbens"),
        "amygdala": ("amygdala", "amyg", "amy"),
        "caudate": ("caudate", "caud"),
        "hippocampus": ("hippocampus", "hippo", "hipp"),
        "pallidum": ("pallidum", "pall", "pal", "globuspallidus"),
        "putamen": ("putamen", "put"),
        "thalamus": ("thalamus", "thalamusproper", "thal"),
    }.items()
    for syn in syns
}
_HEMI_WORDS = (("left", "L"), ("lh", "L"), ("l", "L"), ("right", "R"), ("rh", "R"), ("r", "R"))


def _normalise(name: object) -> str:
    """Lower case, separators (``-``, ``.``, space) as ``_``, no repeated or outer ``_``."""
    s = str(name).strip().lower()
    s = re.sub(r"[-. ]+", "_", s)
    return re.sub(r"_+", "_", s).strip("_")


def _strip_measure(s: str) -> str:
    for suf in _SUFFIXES:
        if s.endswith("_" + suf):
            return s[: -len(suf) - 1]
    return s


def canonical_subcortical(name: str) -> str | None:
    """Map one subcortical region name to its canonical name (``L_thalamus`` ...), or None.

    Recognised (case-insensitive): ENIGMA ``Lthal``, ``Raccumb``; FreeSurfer ``Left-Thalamus-Proper``,
    ``Right-Accumbens-area``; ``L_thalamusproper``; ``Thalamus_Proper_R``; ``lh_hippocampus_volume``.
    """
    compact = _strip_measure(_normalise(name)).replace("_", "")
    for word, hemi in _HEMI_WORDS:
        if compact.startswith(word) and compact[len(word) :] in _SUBCORTEX_SYNONYMS:
            return f"{hemi}_{_SUBCORTEX_SYNONYMS[compact[len(word) :]]}"
        if compact.endswith(word) and compact[: -len(word)] in _SUBCORTEX_SYNONYMS:
            return f"{hemi}_{_SUBCORTEX_SYNONYMS[compact[: -len(word)]]}"
    return None


def schaefer_key(name: object, networks: int = 7) -> str:
    """Matching key of a Schaefer parcel name: ``lh_vis_1`` for ``7Networks_LH_Vis_1``.

    The ``<networks>Networks_`` prefix is optional, a FreeSurfer hemisphere prefix
    (``lh.7Networks_LH_Vis_1``) is ignored and case does not matter. Names of another network
    resolution (``17Networks_…`` in a 7-network atlas) keep their prefix, so they do not match.
    """
    s = _strip_measure(_normalise(name))
    s = re.sub(r"^(?:lh|rh|l|r|left|right)_(?=\d+networks_|lh_|rh_)", "", s)
    return re.sub(rf"^{networks}networks_", "", s)


def glasser_key(name: object) -> str:
    """Matching key of a Glasser (HCP-MMP1.0) area: ``l_v1`` for ``L_V1``, ``L_V1_ROI``, ``lh.L_V1_ROI``.

    Also used for the parcels of user atlases (any ``lh``/``left`` prefix becomes ``l``).
    """
    s = _strip_measure(_normalise(name))
    s = re.sub(r"^(?:lh|rh|left|right)_(?=[lr]_)", "", s)
    s = re.sub(r"_roi$", "", s)
    s = re.sub(r"^(?:lh|left)_", "l_", s)
    return re.sub(r"^(?:rh|right)_", "r_", s)


def hemisphere_of(name: str) -> str:
    """``"L"`` or ``"R"`` for a canonical region name (``L_…``, ``7Networks_LH_…``), else ``"?"``."""
    s = str(name)
    if s[:2] in ("L_", "R_"):
        return s[0]
    m = re.search(r"(?:^|_)(LH|RH|lh|rh)(?:_|$)", s)
    return m.group(1)[0].upper() if m else "?"


class RegionNames:
    """The canonical region names of one atlas and the one place other spellings map to them.

    Parameters
    ----------
    regions : sequence of str
        Canonical names in atlas order.
    key : callable
        Maps any spelling to a matching key (or None when it cannot be a region of this atlas);
        a canonical name's key identifies it.
    title : str
        How errors name the atlas (``"Schaefer-200 (7 networks)"``).
    examples : str
        Spellings quoted by errors as accepted examples.
    advice : str, optional
        The sentence errors end with (default: ``Use names such as <examples>.``).

    Raises
    ------
    ParameterError
        Two regions with the same key (names differing only in case or separators).
    """

    def __init__(self, regions, key, *, title: str, examples: str = "", advice: str = "") -> None:  # noqa: ANN001
        from crossscale._errors import ParameterError

        self.regions = tuple(str(r) for r in regions)
        self.title = title
        self.examples = examples
        self.advice = advice or (f"Use names such as {examples}." if examples else "")
        self._key = key
        self._lookup: dict[str, str] = {}
        for r in self.regions:
            k = key(r)
            if k is None or k in self._lookup:
                raise ParameterError(
                    f"The {title} atlas has region names that cannot be told apart: '{r}' "
                    f"(and '{self._lookup.get(k)}'). Give every parcel a distinct name."
                )
            self._lookup[k] = r

    def canonical(self, name: object) -> str | None:
        """Canonical name of one region, or None when it is not a region of this atlas."""
        k = self._key(name)
        return None if k is None else self._lookup.get(k)

    def suggest(self, name: object) -> str:
        """`` (did you mean 'X'?)`` for a close region name, or an empty string."""
        s = str(name).strip()
        close = difflib.get_close_matches(s, self.regions, n=1, cutoff=0.6)
        if not close:
            keys = list(self._lookup)
            k = self._key(s) or _normalise(s)
            hit = difflib.get_close_matches(k, keys, n=1, cutoff=0.6)
            close = [self._lookup[hit[0]]] if hit else []
        return f" (did you mean '{close[0]}'?)" if close else ""

    def to_canonical(
        self, names: Iterable[object], *, what: str = "names", hint: str = ""
    ) -> list[str]:
        """Map many names to canonical names, or raise one error that lists every problem.

        Parameters
        ----------
        names : iterable of str
        what : str
            How the error refers to the input (``"The 'map'"``).
        hint : str
            Appended to the error about unknown names (e.g. which other atlas they fit).

        Returns
        -------
        canonical : list of str
            Same length and order as `names`.

        Raises
        ------
        RegionMismatchError
            Unknown names (with suggestions) or two names of one region.
        """
        names = list(names)
        mapped = [self.canonical(n) for n in names]
        unknown = [n for n, m in zip(names, mapped, strict=True) if m is None]
        if unknown:
            detail = ", ".join(f"'{n}'{self.suggest(n)}" for n in unknown[:8])
            more = f", … ({len(unknown) - 8} more)" if len(unknown) > 8 else ""
            ex = f" {self.advice}" if self.advice else ""
            raise RegionMismatchError(
                f"{what} has {len(unknown)} region name(s) that are not {self.title} regions: "
                f"{detail}{more}.{ex}{hint}"
            )
        seen: dict[str, object] = {}
        dups = []
        for n, m in zip(names, mapped, strict=True):
            if m in seen:
                dups.append(f"'{seen[m]}' and '{n}' are both {m}")
            else:
                seen[m] = n  # type: ignore[index]
        if dups:
            raise RegionMismatchError(
                f"{what} names {len(dups)} region(s) more than once: {'; '.join(dups[:8])}. "
                "Keep one row per region."
            )
        return mapped  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.regions)


def _dk_key(name: object) -> str | None:
    return canonical_region(str(name))


def _dk_subcortex_key(name: object) -> str | None:
    return canonical_region(str(name)) or canonical_subcortical(str(name))


def dk_names(subcortex: bool = False) -> RegionNames:
    """The matcher of the Desikan-Killiany atlas (68 cortical regions, or 82 with subcortex)."""
    if subcortex:
        return RegionNames(
            DK_REGIONS + SUBCORTEX_REGIONS, _dk_subcortex_key,
            title="Desikan-Killiany (with subcortex)",
            examples="'L_bankssts', 'lh_bankssts_thickness', 'Lthal' or 'Left-Thalamus-Proper'",
        )  # fmt: skip
    return _DK_NAMES


_DK_NAMES = RegionNames(
    DK_REGIONS, _dk_key, title="Desikan-Killiany cortical",
    examples="'L_bankssts', 'lh_bankssts_thickness' or 'ctx-lh-bankssts'",
    advice="Use ENIGMA names such as 'L_bankssts', FreeSurfer names such as "
    "'lh_bankssts_thickness' or 'ctx-lh-bankssts'; drop subcortical rows.",
)  # fmt: skip


def looks_like(names: Iterable[object]) -> str | None:
    """The atlas family a list of names seems to come from: ``dk``, ``dk-subcortex``, ``schaefer``, ``glasser``.

    Used by errors to suggest ``--atlas``; None when no family fits most names.
    """
    names = [str(n) for n in names]
    if not names:
        return None
    n = len(names)
    dk = sum(canonical_region(x) is not None for x in names)
    sub = sum(canonical_subcortical(x) is not None for x in names)
    if dk + sub >= 0.5 * n:
        return "dk-subcortex" if sub else "dk"
    if (
        sum(bool(re.search(r"\d+networks_|(?:^|_)(?:lh|rh)_[a-z]", _normalise(x))) for x in names)
        >= 0.5 * n
    ):
        return "schaefer"
    if sum(bool(re.match(r"^[lr]_[a-z0-9]", glasser_key(x))) for x in names) >= 0.5 * n:
        return "glasser"
    return None
