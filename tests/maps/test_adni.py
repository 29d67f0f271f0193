import numpy as np
import pytest

from crossscale import ParameterError
from crossscale.maps import load_adni_map
from crossscale.maps.adni import VOL_FILE_ROW_ORDER


def test_row_order_has_86_unique_regions():
    assert len(VOL_FILE_ROW_ORDER) == 86 and len(set(VOL_FILE_ROW_ORDER)) == 86


def test_ad_map_has_expected_alzheimer_pattern(ad_map):
    assert ad_map.shape == (68,) and ad_map.index.name == "region"
    top = set(ad_map.sort_values(ascending=False).index[:12])
    for region in [
        "L_entorhinal",
        "R_entorhinal",
        "L_inferiortemporal",
        "R_inferiortemporal",
        "L_middletemporal",
        "R_middletemporal",
    ]:
        assert region in top, region
    # primary sensorimotor and visual cortex are relatively spared
    assert ad_map["L_precentral"] < ad_map.median()
    assert ad_map["L_pericalcarine"] < ad_map.median()
    assert ad_map.mean() > 0  # atrophy is positive


def test_other_groups_load_and_correlate(ad_map):
    lmci = load_adni_map("LMCI", "baseline")
    emci = load_adni_map("emci", 6)
    assert np.corrcoef(ad_map, lmci)[0, 1] > 0.5
    assert emci.shape == (68,)


def test_unknown_timepoint():
    with pytest.raises(ParameterError, match="Available: .*ad_vol_baseline"):
        load_adni_map("AD", 9)
