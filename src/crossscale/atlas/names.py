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

import numpy as np
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


def _suggest(name: str) -> str:
    s = str(name).strip()
    close = difflib.get_close_matches(s, DK_REGIONS, n=1, cutoff=0.6)
    if not close:
        low = s.lower()
        close = difflib.get_close_matches(low, [r.lower() for r in DK_REGIONS], n=1, cutoff=0.6)
        close = [DK_REGIONS[[r.lower() for r in DK_REGIONS].index(close[0])]] if close else []
    return f" (did you mean '{close[0]}'?)" if close else ""


_list = functools.partial(format_list, limit=8)


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
    names = list(names)
    mapped = [canonical_region(n) for n in names]
    unknown = [n for n, m in zip(names, mapped, strict=True) if m is None]
    if unknown:
        detail = ", ".join(f"'{n}'{_suggest(n)}" for n in unknown[:8])
        more = f", … ({len(unknown) - 8} more)" if len(unknown) > 8 else ""
        raise RegionMismatchError(
            f"{what} has {len(unknown)} region name(s) that are not Desikan-Killiany cortical "
            f"regions: {detail}{more}. Use ENIGMA names such as 'L_bankssts', FreeSurfer names "
            "such as 'lh_bankssts_thickness' or 'ctx-lh-bankssts'; drop subcortical rows."
        )
    seen: dict[str, str] = {}
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


def validate_regional_map(
    values: pd.Series,
    *,
    regions: pd.Index | None = None,
    min_regions: int = 10,
    what: str = "The 'map'",
) -> pd.Series:
    """Check a regional map and return it indexed by canonical region names in atlas order.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Values indexed by region names in any supported convention.
    regions : pandas.Index or None
        Regions that must all be present; None requires at least `min_regions` regions.
    min_regions : int
        Fewest regions accepted when `regions` is None.
    what : str
        How the error message refers to the input.

    Returns
    -------
    map : pandas.Series
        Float values, index ``region`` with canonical names, in ENIGMA order.

    Raises
    ------
    RegionMismatchError
        Unknown, duplicated or missing regions.
    InputDataError
        NaN or non-numeric values, a constant map, or too few regions.
    """
    from crossscale._errors import InputDataError

    canon = to_canonical(values.index, what=what)
    s = pd.Series(pd.to_numeric(values.to_numpy(), errors="coerce"), index=canon, dtype=float)
    bad = [orig for orig, v, raw in zip(values.index, s, values, strict=True) if pd.isna(v)]
    if bad:
        raise InputDataError(
            f"{what} has {len(bad)} region(s) with a missing or non-numeric value: {_list(bad)}. "
            "Fill them in, or remove those rows and pass a map on the remaining regions."
        )
    inf = [orig for orig, v in zip(values.index, s, strict=True) if v in (np.inf, -np.inf)]
    if inf:
        raise InputDataError(
            f"{what} has {len(inf)} infinite value(s) in {_list(inf)}. Every value must be a "
            "finite number; check how the map was computed."
        )
    if regions is not None:
        missing = [r for r in regions if r not in s.index]
        if missing:
            raise RegionMismatchError(
                f"{what} lacks {len(missing)} of the {len(regions)} regions needed: "
                f"{_list(missing)}. Add values for them."
            )
        s = s.loc[list(regions)]
    else:
        order = [r for r in DK_REGIONS if r in s.index]
        s = s.loc[order]
        if len(s) < min_regions:
            raise InputDataError(
                f"{what} has only {len(s)} region(s); at least {min_regions} are needed to fit "
                "and cross-validate a model. Provide a map on more Desikan-Killiany regions."
            )
    if float(s.max() - s.min()) <= 1e-9 * float(s.abs().max()):  # constant relative to scale
        raise InputDataError(
            f"{what} is constant (every region is {float(s.iloc[0])!r}); there is nothing to "
            "predict. Check that the value column is the effect size, not a count or label."
        )
    s.index = pd.Index(s.index, name="region")
    s.name = values.name
    s.attrs = dict(values.attrs)
    return s
