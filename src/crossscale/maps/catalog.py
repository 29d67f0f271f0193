"""Named regional maps of the registry: ADNI2 volume change, ENIGMA thickness and surface area."""

from __future__ import annotations

import logging

import pandas as pd

from crossscale._errors import InputDataError, ParameterError

logger = logging.getLogger(__name__)

ADNI_GROUPS = {"ad": "AD", "lmci": "LMCI", "emci": "EMCI"}


def enigma_thickness_keys() -> list[str]:
    """Registry keys of the ENIGMA case-control cortical-thickness maps (33)."""
    from crossscale.datasets import registry

    return sorted(k for k in registry() if k.startswith("enigma_") and k.endswith("_thickness"))


def enigma_surfarea_keys() -> list[str]:
    """Registry keys of the ENIGMA case-control cortical surface-area maps (27).

    Held out from every choice of GraphVAE's defaults (issue 19): tuning used the 36 thickness /
    ADNI2 baseline maps only.
    """
    from crossscale.datasets import registry

    return sorted(k for k in registry() if k.startswith("enigma_") and k.endswith("_surfarea"))


#: the 13 ADNI2 follow-up timepoints of the patient groups (AD 2-5, LMCI 2-5, EMCI 2-6), held out
#: from tuning like the surface-area maps
def adni_followup_keys() -> list[str]:
    """Registry keys of the ADNI2 AD, LMCI and EMCI follow-up maps (13; controls excluded)."""
    from crossscale.datasets import registry

    return sorted(k for k in registry() if k.startswith(("adni2_ad_vol_", "adni2_lmci_vol_",
                                                         "adni2_emci_vol_"))
                  and not k.endswith("_baseline"))  # fmt: skip


def resolve_maps(spec: str, atlas: object = None) -> list[str]:
    """Expand a comma list of map names (``ad``, ``enigma-surfarea``, ``adni-followup`` …) or keys.

    Names: ``ad``, ``lmci``, ``emci``, ``enigma-thickness``, ``enigma-surfarea``, ``adni-followup``,
    ``bigbrain``, or registry keys.

    ``bigbrain`` is the BigBrain gradient in `atlas` (default DK); the ADNI2 and ENIGMA maps are
    Desikan-Killiany maps and are refused for another atlas.

    Raises
    ------
    ParameterError
        An unknown name, a DK map with another atlas, or an empty list.
    """
    from crossscale.atlas import get_atlas
    from crossscale.datasets import registry

    atlas = get_atlas(atlas)  # type: ignore[arg-type]
    keys: list[str] = []
    known = registry()
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        low = token.lower()
        if low == "bigbrain" or token.startswith("bigbrain_gradient_"):
            if atlas.info is None or atlas.info.bigbrain is None:
                raise ParameterError(f"--maps bigbrain: no BigBrain map for the atlas '{atlas.name}'.")
            if token.startswith("bigbrain_gradient_") and token != atlas.info.bigbrain:
                raise ParameterError(
                    f"--maps {token} is not in the {atlas.title} atlas; use --maps bigbrain."
                )
            keys.append(atlas.info.bigbrain)
            continue
        if atlas.name not in ("dk", "dk-subcortex"):
            raise ParameterError(
                f"--maps {token}: the ADNI2 and ENIGMA maps are Desikan-Killiany maps, not "
                f"{atlas.title} ones. With --atlas {atlas.name}, use --maps bigbrain (or "
                "`crossscale fit --atlas ... --map FILE` for your own map)."
            )
        if low in ADNI_GROUPS:
            keys.append(f"adni2_{low}_vol_baseline")
        elif low in ("enigma-thickness", "enigma_thickness"):
            keys += enigma_thickness_keys()
        elif low in ("enigma-surfarea", "enigma_surfarea"):
            keys += enigma_surfarea_keys()
        elif low in ("adni-followup", "adni_followup"):
            keys += adni_followup_keys()
        elif token in known and (token.startswith("adni2_") or token.endswith(("_thickness", "_surfarea"))):
            keys.append(token)
        else:
            raise ParameterError(
                f"--maps: unknown map {token!r}. Use ad, lmci, emci, enigma-thickness, enigma-surfarea, "
                "adni-followup, or registry keys "
                "such as adni2_ad_vol_2 or enigma_scz_case_controls_thickness (`crossscale data list`)."
            )
    if not keys:
        raise ParameterError("--maps is empty; give at least one map, e.g. --maps ad.")
    return list(dict.fromkeys(keys))


def load_map(key: str) -> pd.Series:
    """Load a map by registry key (ADNI2 volume change or ENIGMA thickness).

    ENIGMA tables that leave regions empty (e.g. the ASD mega-analysis: fusiform) keep the other
    regions; the dropped ones are logged and listed in ``attrs["dropped_regions"]``.

    Returns
    -------
    y : pandas.Series, shape (n_regions,)
        Named `key`.
    """
    from crossscale.maps.adni import load_adni_map
    from crossscale.maps.io import load_enigma_map

    dropped: list[str] = []
    if key.startswith("bigbrain_gradient_"):
        from crossscale.atlas import ATLASES
        from crossscale.maps.io import load_bigbrain_map

        name = next(k for k, v in ATLASES.items() if v.bigbrain == key)
        y = load_bigbrain_map(name)
    elif key.startswith("adni2_"):
        from crossscale.atlas import current_atlas

        _, group, _, timepoint = key.split("_", 3)
        atlas = current_atlas()  # dk-subcortex: the 14 subcortical regions too
        y = load_adni_map(group.upper(), timepoint, subcortex=bool(atlas and atlas.has_subcortex))
    else:
        try:
            y = load_enigma_map(key)
        except InputDataError:
            from crossscale.atlas import to_canonical
            from crossscale.datasets import fetch

            raw = pd.read_csv(fetch(key))
            values = pd.to_numeric(raw["d_icv"], errors="coerce")
            y = pd.Series(
                values.to_numpy(), index=pd.Index(to_canonical(raw["Structure"]), name="region")
            )
            dropped = list(y.index[y.isna()])
            y = y.dropna()
            logger.warning("%s: %d region(s) without a value dropped: %s", key, len(dropped), dropped)
    y.name = key
    y.attrs["dropped_regions"] = dropped
    return y
