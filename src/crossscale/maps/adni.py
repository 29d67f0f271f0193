"""ADNI2 group-level regional atrophy maps (Raj-Lab-UCSF/Aggregation-Network-Diffusion).

Each ``{AD,LMCI,EMCI,CON}_vol_{baseline,2..6}.mat`` file holds an 86 x 3 array ``[h, p, t]`` of
FreeSurfer regional volume statistics; column 3 is a Welch t of controls minus patients, so a
positive t means smaller volume (atrophy) in patients. Baseline AD: 161 controls vs 86 patients.

The rows are **not** in ``FSRegionList.mat`` order. They are: 16 subcortical regions (left, then
right), 34 right cortical, 34 left cortical (each in Desikan-Killiany order), then left and right
cerebellum cortex. This order was established by matching the values to a second copy of the
same statistics in ``FSRegionList.mat`` order (see ``../shared/data/SOURCES.md``); read in
``FSRegionList.mat`` order the map is scrambled (inferior temporal cortex would look spared).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.atlas.names import DK_LABELS, DK_REGIONS, canonical_subcortical
from crossscale.datasets import fetch, registry
from crossscale.maps.checks import check_map_values

GROUPS = ("AD", "LMCI", "EMCI", "CON")
#: Patient groups of the disease trajectory (early MCI, late MCI, AD), in order of severity.
ADNI_GROUPS: tuple[str, ...] = ("EMCI", "LMCI", "AD")
ADNI_TIMEPOINTS: tuple[str, ...] = ("baseline", "2", "3", "4", "5", "6")
_SUBCORTICAL = (
    "L_Thalamus_Proper", "Caudate_L", "Putamen_L", "Pallidum_L", "Hippocampus_L", "Amygdala_L",
    "Accumbens_area_L", "VentralDC_L", "Thalamus_Proper_R", "Caudate_R", "Putamen_R",
    "Pallidum_R", "Hippocampus_R", "Amygdala_R", "Accumbens_area_R", "VentralDC_R",
)  # fmt: skip

#: Row order of the ``*_vol_*.mat`` files, in ``RegionNames`` spelling (86 rows).
VOL_FILE_ROW_ORDER: tuple[str, ...] = (
    _SUBCORTICAL
    + tuple(f"{lab[0].upper()}{lab[1:]}_R" for lab in DK_LABELS)
    + tuple(f"{lab[0].upper()}{lab[1:]}_L" for lab in DK_LABELS)
    + ("L_Cerebellum_Cortex", "Cerebellum_Cortex_R")
)

_CORTEX_ROWS = {f"R_{lab}": 16 + i for i, lab in enumerate(DK_LABELS)} | {
    f"L_{lab}": 50 + i for i, lab in enumerate(DK_LABELS)
}


def load_adni_map(
    group: str = "AD", timepoint: str | int = "baseline", *, subcortex: bool = False
) -> pd.Series:
    """ADNI2 regional volume t-map (controls minus patients) on the 68 cortical regions.

    Parameters
    ----------
    group : {"AD", "LMCI", "EMCI", "CON"}
        Patient group (CON: controls at follow-up against baseline controls, as distributed).
    timepoint : "baseline" or int
        ``"baseline"`` or a follow-up index 2-5 (EMCI also 6).
    subcortex : bool
        Also the 14 subcortical regions of the ``dk-subcortex`` atlas (accumbens, amygdala,
        caudate, hippocampus, pallidum, putamen, thalamus; the ventral diencephalon and the
        cerebellum of the file are left out).

    Returns
    -------
    atrophy : pandas.Series, shape (68,) or (82,)
        Welch t, positive = atrophy in patients; index ``region`` in ENIGMA order (subcortical
        regions after the cortex, as ``crossscale.atlas.get_atlas("dk-subcortex")``).

    Raises
    ------
    ParameterError
        Unknown group or timepoint.

    References
    ----------
    .. [1] Alzheimer's Disease Neuroimaging Initiative (ADNI2), adni.loni.usc.edu.
    .. [2] Raj A., Kuceyeski A., Weiner M. (2012). A network diffusion model of disease
       progression in dementia. Neuron 73, 1204-1215.
    """
    import scipy.io as sio

    g = str(group).upper()
    t = str(timepoint).lower()
    key = f"adni2_{g.lower()}_vol_{t}"
    if g not in GROUPS or key not in registry():
        avail = sorted(k.removeprefix("adni2_") for k in registry() if k.startswith("adni2_"))
        raise ParameterError(
            f"No ADNI2 map for group={group!r}, timepoint={timepoint!r}. Available: "
            f"{', '.join(avail)} (group_vol_timepoint)."
        )
    mat = sio.loadmat(str(fetch(key)))
    arrays = [v for k, v in mat.items() if not k.startswith("__")]
    stats = np.asarray(arrays[0], dtype=float)
    if stats.shape != (86, 3):  # pragma: no cover - checksum-verified file
        raise ParameterError(f"Unexpected array shape {stats.shape} in {key}.")
    values = stats[[_CORTEX_ROWS[r] for r in DK_REGIONS], 2]
    out = pd.Series(values, index=pd.Index(DK_REGIONS, name="region"), name=f"ADNI2 {g} atrophy")
    if subcortex:
        sub = {canonical_subcortical(n): i for i, n in enumerate(_SUBCORTICAL)}
        from crossscale.atlas.names import SUBCORTEX_REGIONS

        extra = pd.Series(stats[[sub[r] for r in SUBCORTEX_REGIONS], 2], index=SUBCORTEX_REGIONS)
        out = pd.concat([out, extra]).rename_axis("region").rename(out.name)
    out.attrs = {
        "units": "Welch t (controls - patients); positive = atrophy",
        "source": key,
        "description": f"ADNI2 FreeSurfer regional volume, {g} vs controls, timepoint {t}",
    }
    return check_map_values(out, what=f"The ADNI2 map {key}")


def load_adni_trajectory(
    groups: Sequence[str] = ADNI_GROUPS, timepoints: Sequence[str | int] | None = None
) -> pd.DataFrame:
    """ADNI2 group atrophy maps as rows, scaled to a maximum of 1.

    Each map (a Welch t of controls minus patients, positive = atrophy) is divided by the largest
    t over all requested maps, so values are at most 1 and keep their relative sizes; negative
    values (larger volume in patients, mostly noise) are kept.

    Parameters
    ----------
    groups : sequence of str
        Patient groups (default EMCI, LMCI, AD).
    timepoints : sequence of str or int, or None
        Timepoints to load; None (default) loads every timepoint the data have for each group:
        baseline and follow-ups 2-5 for AD and LMCI, baseline and 2-6 for EMCI (16 maps; the
        distribution has no sixth AD or LMCI file).

    Returns
    -------
    maps : pandas.DataFrame, shape (n_maps, 68)
        MultiIndex ``(group, timepoint)``; ``attrs["scale"]`` holds the divisor.
    """
    reg = registry()
    rows, keys = [], []
    for g in groups:
        tps = timepoints
        if tps is None:
            tps = [t for t in ADNI_TIMEPOINTS if f"adni2_{g.lower()}_vol_{t}" in reg]
        for t in tps:
            rows.append(load_adni_map(g, t))
            keys.append((g, str(t)))
    df = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(keys, names=["group", "timepoint"]))
    scale = float(df.to_numpy().max())
    out = df / scale
    out.columns.name = "region"
    out.attrs = {"units": "Welch t / max t", "scale": scale}
    return out
