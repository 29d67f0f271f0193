from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError, RegionMismatchError
from crossscale.atlas import DK_REGIONS
from crossscale.datasets import fetch
from crossscale.maps import (
    read_aparc_stats,
    read_aparcstats2table,
    read_covariates,
    read_enigma_table,
    read_freesurfer_subjects,
    read_long_table,
    read_subject_table,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "freesurfer"


def test_aparcstats2table_both_hemispheres():
    t = read_aparcstats2table(DATA / "lh.aparc.thickness.txt", DATA / "rh.aparc.thickness.txt")
    assert t.shape == (3, 68) and list(t.columns) == list(DK_REGIONS)
    assert t.index.name == "subject" and list(t.index) == ["sub-01", "sub-02", "sub-03"]
    assert t.attrs["measure"] == "thickness" and t.attrs["units"] == "mm"
    raw = pd.read_csv(DATA / "rh.aparc.thickness.txt", sep="\t", index_col=0)
    assert t.loc["sub-02", "R_insula"] == pytest.approx(raw.loc["sub-02", "rh_insula_thickness"])
    # the lh table's mean-thickness column equals the mean of its 34 regions: columns not shifted
    lh = pd.read_csv(DATA / "lh.aparc.thickness.txt", sep="\t", index_col=0)
    left = t.loc[:, t.columns.str.startswith("L_")]
    np.testing.assert_allclose(left.mean(axis=1), lh["lh_MeanThickness_thickness"], atol=1e-5)


def test_read_subject_table_finds_the_other_hemisphere():
    t = read_subject_table(DATA / "lh.aparc.thickness.txt")
    assert t.shape == (3, 68)
    # both hemispheres hold the values of their own file, subject by subject
    for hemi, side in (("lh", "L"), ("rh", "R")):
        raw = pd.read_csv(DATA / f"{hemi}.aparc.thickness.txt", sep="\t", index_col=0)
        for region in ("insula", "bankssts", "precuneus"):
            np.testing.assert_array_equal(
                t[f"{side}_{region}"].to_numpy(), raw[f"{hemi}_{region}_thickness"].to_numpy()
            )


def test_aparcstats2table_rejects_other_files(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("subject\tlh_bankssts_thickness\ns1\t2.5\n")
    with pytest.raises(InputDataError, match="does not look like aparcstats2table"):
        read_aparcstats2table(p)


def test_aparc_stats_file():
    st = read_aparc_stats(DATA / "subjects" / "bert" / "stats" / "lh.aparc.stats")
    assert st.subject == "bert" and st.hemi == "lh"
    assert st.table.shape == (34, 9)
    assert list(st.table.columns[:4]) == ["NumVert", "SurfArea", "GrayVol", "ThickAvg"]
    assert st.measures["eTIV"] == (pytest.approx(1512140.826591), "mm^3")
    assert st.measures["MeanThickness"][1] == "mm"
    # the '# Measure Cortex, MeanThickness' line is the mean of the ThickAvg column in the fixture
    assert st.measures["MeanThickness"][0] == pytest.approx(st.table["ThickAvg"].mean(), abs=1e-4)


@pytest.mark.parametrize(
    ("measure", "column", "units"),
    [("thickness", "ThickAvg", "mm"), ("area", "SurfArea", "mm^2"), ("volume", "GrayVol", "mm^3")],
)
def test_subjects_dir(measure, column, units):
    t = read_freesurfer_subjects(DATA / "subjects", measure=measure)
    assert list(t.index) == ["bert", "ernie"] and list(t.columns) == list(DK_REGIONS)
    assert t.attrs["units"] == units
    st = read_aparc_stats(DATA / "subjects" / "ernie" / "stats" / "rh.aparc.stats")
    assert t.loc["ernie", "R_bankssts"] == st.table.loc["bankssts", column]
    assert t.attrs["global_measures"]["bert"]["eTIV"] == pytest.approx(1512140.826591)


def test_subjects_dir_missing_stats(tmp_path):
    (tmp_path / "s1" / "stats").mkdir(parents=True)
    src = DATA / "subjects" / "bert" / "stats" / "lh.aparc.stats"
    (tmp_path / "s1" / "stats" / "lh.aparc.stats").write_text(src.read_text())
    with pytest.raises(InputDataError, match=r"s1/stats/rh.aparc.stats"):
        read_freesurfer_subjects(tmp_path)


def test_stats_file_with_bad_row(tmp_path):
    src = (DATA / "subjects" / "bert" / "stats" / "lh.aparc.stats").read_text()
    p = tmp_path / "lh.aparc.stats"
    p.write_text(src.replace("insula  ", "insula  12 "))
    with pytest.raises(InputDataError, match="has 11 fields"):
        read_aparc_stats(p)


def test_enigma_real_site():
    t = read_enigma_table(fetch("enigma_xdata_metr2_cortthick"))
    assert t.shape == (20, 68) and list(t.columns) == list(DK_REGIONS)
    assert t.attrs == {"measure": "thickness", "units": "mm", "source": t.attrs["source"]}
    assert 1.0 < t.to_numpy().min() and t.to_numpy().max() < 5.0
    area = read_enigma_table(fetch("enigma_xdata_metr3_cortsurf"))
    assert area.attrs["measure"] == "area" and area.attrs["units"] == "mm^2"
    cov = read_covariates(fetch("enigma_xdata_cov"))
    assert list(cov.index) == list(t.index)
    assert (cov["Dx"].value_counts() == 10).all()


def test_enigma_non_numeric_and_duplicates(tmp_path):
    src = pd.read_csv(fetch("enigma_xdata_metr2_cortthick"))
    bad = src.copy().astype(object)
    bad.loc[3, "L_cuneus_thickavg"] = "2.1mm"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputDataError, match=r"subject 'sub-PX012', column 'L_cuneus_thickavg'"):
        read_enigma_table(tmp_path / "bad.csv")
    dup = pd.concat([src, src.iloc[[2]]])
    dup.to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(InputDataError, match="more than once: 'sub-PX008'"):
        read_enigma_table(tmp_path / "dup.csv")


def test_enigma_blank_cell_is_missing(tmp_path):
    src = pd.read_csv(fetch("enigma_xdata_metr2_cortthick"))
    src.loc[0, "R_insula_thickavg"] = np.nan
    src.to_csv(tmp_path / "na.csv", index=False)
    t = read_enigma_table(tmp_path / "na.csv")
    assert np.isnan(t.loc["sub-PX003", "R_insula"]) and t.notna().sum().sum() == 20 * 68 - 1


def test_misspelled_region_column_is_an_error(tmp_path):
    src = pd.read_csv(fetch("enigma_xdata_metr2_cortthick"))
    src = src.rename(columns={"L_bankssts_thickavg": "L_banksts_thickavg"})
    src.to_csv(tmp_path / "typo.csv", index=False)
    with pytest.raises(RegionMismatchError, match="did you mean 'L_bankssts'"):
        read_enigma_table(tmp_path / "typo.csv")


def test_long_table_roundtrip(tmp_path):
    wide = read_enigma_table(fetch("enigma_xdata_metr2_cortthick"))
    long = wide.stack().rename("value").reset_index()
    long.to_csv(tmp_path / "long.csv", index=False)
    back = read_long_table(tmp_path / "long.csv", units="mm")
    pd.testing.assert_frame_equal(back, wide.loc[back.index], check_names=False)
    assert back.attrs["units"] == "mm"
    assert read_subject_table(tmp_path / "long.csv").shape == (20, 68)
    long = pd.concat([long, long.iloc[[5]]])
    long.to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(
        InputDataError, match=r"more than once: 'sub-PX003/L_fusiform'.*rows 7, 1362"
    ):
        read_long_table(tmp_path / "dup.csv")
