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

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.atlas.names import DK_LABELS, DK_REGIONS
from crossscale.datasets import fetch, registry
from crossscale.maps.checks import check_map_values

GROUPS = ("AD", "LMCI", "EMCI", "CON")
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


def load_adni_map(group: str = "AD", timepoint: str | int = "baseline") -> pd.Series:
    """ADNI2 regional volume t-map (controls minus patients) on the 68 cortical regions.

    Parameters
    ----------
    group : {"AD", "LMCI", "EMCI", "CON"}
        Patient group (CON: controls at follow-up against baseline controls, as distributed).
    timepoint : "baseline" or int
        ``"baseline"`` or a follow-up index 2-5 (EMCI also 6).

    Returns
    -------
    atrophy : pandas.Series, shape (68,)
        Welch t, positive = atrophy in patients; index ``region`` in ENIGMA order.

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
    out.attrs = {
        "units": "Welch t (controls - patients); positive = atrophy",
        "source": key,
        "description": f"ADNI2 FreeSurfer regional volume, {g} vs controls, timepoint {t}",
    }
    return check_map_values(out, what=f"The ADNI2 map {key}")
