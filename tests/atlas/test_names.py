import pandas as pd
import pytest

from crossscale import InputDataError, RegionMismatchError
from crossscale.atlas.names import DK_REGIONS, canonical_region, to_canonical
from crossscale.atlas.validate import validate_regional_map


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("L_bankssts", "L_bankssts"),
        ("lh_bankssts_thickness", "L_bankssts"),
        ("rh_insula_area", "R_insula"),
        ("ctx-lh-bankssts", "L_bankssts"),
        ("L_bankssts_thickavg", "L_bankssts"),
        ("Bankssts_R", "R_bankssts"),
        ("rh.precuneus", "R_precuneus"),
        ("L_Thalamus_Proper", None),
        ("Left-Hippocampus", None),
    ],
)
def test_canonical_region(raw, expected):
    assert canonical_region(raw) == expected


def test_order_is_enigma():
    assert len(DK_REGIONS) == 68
    assert DK_REGIONS[0] == "L_bankssts" and DK_REGIONS[33] == "L_insula"
    assert DK_REGIONS[34] == "R_bankssts" and DK_REGIONS[-1] == "R_insula"


def test_unknown_region_suggests_close_name():
    with pytest.raises(RegionMismatchError, match=r"'L_banksts' \(did you mean 'L_bankssts'\?\)"):
        to_canonical(["L_banksts", "L_insula"], what="The 'map'")


def test_duplicate_region_names_both_spellings():
    with pytest.raises(
        RegionMismatchError, match="'L_bankssts' and 'lh_bankssts_thickness' are both L_bankssts"
    ):
        to_canonical(["L_bankssts", "lh_bankssts_thickness"])


def _full_map(values=None):
    values = list(range(68)) if values is None else values
    return pd.Series(values, index=list(DK_REGIONS), dtype=float)


def test_validate_rejects_nan_and_names_region():
    m = _full_map()
    m["R_insula"] = float("nan")
    with pytest.raises(InputDataError, match="missing or non-numeric value: 'R_insula'"):
        validate_regional_map(m)


def test_validate_rejects_constant_map():
    with pytest.raises(InputDataError, match="constant"):
        validate_regional_map(_full_map([1.0] * 68))


def test_validate_rejects_too_few_regions():
    with pytest.raises(InputDataError, match="only 3 region"):
        validate_regional_map(_full_map().iloc[:3])


def test_validate_requires_listed_regions():
    with pytest.raises(RegionMismatchError, match="lacks 1 of the 68 regions needed: 'L_bankssts'"):
        validate_regional_map(_full_map().iloc[1:], regions=pd.Index(DK_REGIONS))


def test_validate_reorders_to_atlas_order():
    m = _full_map()[::-1]
    out = validate_regional_map(m)
    assert list(out.index) == list(DK_REGIONS)
    assert out["L_bankssts"] == 0.0
