"""Reading tables of group maps in the three layouts, and what is refused."""

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError
from crossscale.atlas import DK_REGIONS
from crossscale.atlas.names import RegionMismatchError
from crossscale.maps.groups import read_group_maps, sign_warnings

FS = [f"ctx-{'lh' if r[0] == 'L' else 'rh'}-{r[2:]}" for r in DK_REGIONS]


def test_wide_table_with_stage_and_time(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 68)) + 1
    t = pd.DataFrame(v, columns=FS)
    t.insert(0, "Stage", ["EMCI", "LMCI", "AD"])
    t.insert(1, "n_cases", [80, 60, 40])
    t.insert(2, "time", [0, 0, 0])
    t.to_csv(tmp_path / "w.csv", index=False)
    g = read_group_maps(tmp_path / "w.csv")
    assert g.layout == "wide" and list(g.maps.columns) == list(DK_REGIONS)
    assert list(g.maps.index) == ["EMCI/0", "LMCI/0", "AD/0"]
    assert list(g.stages) == ["EMCI", "LMCI", "AD"] and (g.times == 0).all()
    np.testing.assert_allclose(g.maps.to_numpy(), v)


def test_long_table_and_regions_as_rows(tmp_path):
    rng = np.random.default_rng(1)
    vals = rng.normal(size=136)
    long = pd.DataFrame({"map": np.repeat(["tau CN", "tau AD"], 68), "region": DK_REGIONS * 2,
                         "value": vals})  # fmt: skip
    long.sample(frac=1, random_state=0).to_csv(tmp_path / "l.csv", index=False)
    g = read_group_maps(tmp_path / "l.csv")
    assert g.layout == "long" and sorted(g.maps.index) == ["tau AD", "tau CN"]
    assert g.maps.loc["tau AD", DK_REGIONS[5]] == pytest.approx(vals[68 + 5])
    rows = pd.DataFrame({"Structure": FS, "tau": vals[:68], "amyloid": vals[68:]})
    rows.to_csv(tmp_path / "r.csv", index=False)
    g = read_group_maps(tmp_path / "r.csv")
    assert g.layout == "regions as rows" and list(g.maps.index) == ["tau", "amyloid"]
    assert g.maps.loc["amyloid", DK_REGIONS[0]] == pytest.approx(vals[68])
    # the same map/region twice in a long table: refused, naming it
    pd.concat([long, long.iloc[:1]]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputDataError, match="more than once.*tau CN/L_bankssts"):
        read_group_maps(tmp_path / "d.csv")


def test_subject_visits_are_not_group_maps(tmp_path):
    rng = np.random.default_rng(2)
    t = pd.DataFrame(rng.normal(size=(4, 68)), columns=DK_REGIONS)
    t.insert(0, "subject", ["s1", "s1", "s2", "s2"])
    t.insert(1, "time", [0, 2, 0, 2])
    t.to_csv(tmp_path / "v.csv", index=False)
    with pytest.raises(InputDataError, match="subject-level visits.*spread fit"):
        read_group_maps(tmp_path / "v.csv")
    t.iloc[:2].to_csv(tmp_path / "one.csv", index=False)
    g = read_group_maps(tmp_path / "one.csv")
    assert len(g.maps) == 2 and any("one subject" in w for w in g.warnings)


def test_misspelled_region_columns_are_named(tmp_path):
    t = pd.DataFrame(np.ones((2, 68)), columns=["L_banksts"] + list(DK_REGIONS[1:]))
    t.insert(0, "map", ["a", "b"])
    t.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(RegionMismatchError, match="L_banksts.*did you mean 'L_bankssts'"):
        read_group_maps(tmp_path / "m.csv")


def test_sign_warning_for_mostly_negative_maps():
    rng = np.random.default_rng(3)
    maps = pd.DataFrame([rng.normal(1, 0.3, 68), rng.normal(-1, 0.3, 68)], index=["tau", "thick"])
    (w,) = sign_warnings(maps)
    assert "1 of 2" in w and "thick" in w and "--flip-sign" in w
    assert sign_warnings(maps.iloc[:1]) == []


def test_an_enigma_summary_table_needs_its_value_column():
    """Regions as rows with se, CI, n and p columns: refused unless the map column is named."""
    from crossscale.datasets import fetch

    path = fetch("enigma_scz_case_controls_thickness")
    with pytest.raises(InputDataError, match="look like statistics.*--columns"):
        read_group_maps(path)
    g = read_group_maps(path, columns=["d_icv"])
    assert g.layout == "regions as rows" and list(g.maps.index) == ["d_icv"]
    assert g.maps.loc["d_icv", "L_bankssts"] == pytest.approx(-0.352)
    assert sign_warnings(g.maps)  # thinner in patients: negative d, flagged
    with pytest.raises(InputDataError, match="no numeric column"):
        read_group_maps(path, columns=["d"])
