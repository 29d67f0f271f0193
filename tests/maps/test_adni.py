import numpy as np
import pytest

from crossscale import ParameterError
from crossscale.maps import load_adni_map
from crossscale.maps.adni import VOL_FILE_ROW_ORDER, load_adni_trajectory


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
    # the values are the Welch t column (the third) of the file's rows, by region name
    import scipy.io as sio

    from crossscale.datasets import fetch

    mat = sio.loadmat(str(fetch("adni2_emci_vol_6")))
    (stats,) = [v for k, v in mat.items() if not k.startswith("__")]
    for region, row in (("R_bankssts", "Bankssts_R"), ("L_bankssts", "Bankssts_L"),
                        ("L_entorhinal", "Entorhinal_L"), ("R_insula", "Insula_R")):  # fmt: skip
        assert emci[region] == stats[VOL_FILE_ROW_ORDER.index(row), 2]
    assert emci["L_entorhinal"] != stats[VOL_FILE_ROW_ORDER.index("Entorhinal_R"), 2]


def test_unknown_timepoint():
    with pytest.raises(ParameterError, match="Available: .*ad_vol_baseline"):
        load_adni_map("AD", 9)


def test_adni_trajectory_is_scaled():
    maps = load_adni_trajectory(groups=("AD",), timepoints=("baseline", 2))
    assert maps.shape == (2, 68)
    assert maps.to_numpy().max() == pytest.approx(1.0)
    assert maps.attrs["scale"] > 1  # divided by the largest Welch t
    base = maps.loc[("AD", "baseline")]
    # Alzheimer's atrophy is medial temporal first: both entorhinal cortices rank in the top 10%
    # of the 68 regions (a random pair would with probability < 1%), and the temporal lobe is
    # on average more than twice as atrophic as the rest of the cortex
    top = base.quantile(0.9)
    assert base["L_entorhinal"] >= top and base["R_entorhinal"] >= top
    temporal = base.index.str.contains("temporal|entorhinal|parahippocampal|fusiform")
    assert base[temporal].mean() > 2 * base[~temporal].mean()
    # primary visual cortex is among the least affected
    assert base[["L_pericalcarine", "R_pericalcarine"]].max() < base.median()


def test_adni_trajectory_has_every_timepoint():
    maps = load_adni_trajectory()
    # baseline + 2-5 for AD and LMCI, baseline + 2-6 for EMCI (no sixth AD/LMCI file)
    assert maps.shape == (16, 68)
    assert ("EMCI", "6") in maps.index and ("AD", "6") not in maps.index
    assert maps.index.get_level_values("group").value_counts().to_dict() == {
        "EMCI": 6, "LMCI": 5, "AD": 5
    }  # fmt: skip
