"""Expression for any atlas: built-in panels, and your own (abagen) matrix checked and reported."""

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas import get_atlas
from crossscale.transcriptomics import (
    check_expression,
    load_default_expression,
    load_expression,
    read_expression,
)


def test_dk_default_is_unchanged():
    X, report = load_expression("dk")
    X0, sel = load_default_expression()
    pd.testing.assert_frame_equal(X, X0)
    assert report.panel == "l1000" and X.shape == (68, 889)
    assert len(report.dropped_genes["not a column of the AHBA matrix"]) == len(sel.missing) == 89


@pytest.mark.parametrize(
    ("atlas", "shape", "empty"),
    [("dk-subcortex", (82, 889), 0), ("schaefer100", (100, 810), 0), ("schaefer200", (191, 430), 9),
     ("schaefer400", (351, 282), 49), ("glasser360", (297, 268), 63)],
)  # fmt: skip
def test_builtin_expression_per_atlas(atlas, shape, empty):
    X, report = load_expression(atlas)
    assert X.shape == shape
    assert list(X.index) == [r for r in get_atlas(atlas).regions if r in X.index]  # atlas order
    assert not X.isna().any().any()
    dropped = report.dropped_regions
    assert len(dropped.get("empty parcel: no value (no AHBA sample in it)", [])) == empty
    if atlas.startswith(("schaefer", "glasser")):
        assert report.panel == "stable"
        (reason,) = [k for k in dropped if k.startswith("not a region")]
        assert "subcortical" in reason and len(dropped[reason]) == 14
    else:
        assert report.panel == "l1000" and set(X.index[-14:]) == set(get_atlas(atlas).subcortex_regions)


def test_l1000_is_not_available_for_schaefer():
    with pytest.raises(ParameterError, match="L1000 landmark gene panel is not available .*only 26 "):
        load_expression("schaefer100", "l1000")


def _matrix(atlas, n_genes=30, seed=0):
    rng = np.random.default_rng(seed)
    regions = get_atlas(atlas).regions
    return pd.DataFrame(rng.random((len(regions), n_genes)), index=regions,
                        columns=[f"G{i}" for i in range(n_genes)])  # fmt: skip


def test_your_matrix_with_abagen_integer_labels(tmp_path):
    X = _matrix("schaefer100")
    X["G7"] = 0.5  # a constant gene
    X.iloc[[3, 60]] = np.nan  # two empty parcels
    X.loc[X.index[10], "G5"] = np.nan  # a gene missing in one parcel
    out = X.set_axis(pd.Index(range(1, 101), name="label"))
    out.to_csv(tmp_path / "abagen.csv")
    got, report = read_expression(tmp_path / "abagen.csv", "schaefer100")
    assert got.shape == (98, 28)
    assert report.dropped_regions == {
        "empty parcel: no value (no AHBA sample in it)": [X.index[3], X.index[60]]
    }
    assert report.dropped_genes == {"NaN in some of the kept regions": ["G5"],
                                    "constant across the kept regions": ["G7"]}  # fmt: skip
    np.testing.assert_array_equal(got.loc[X.index[0]].to_numpy(), X.drop(columns=["G5", "G7"]).iloc[0])


def test_your_matrix_with_names_in_another_spelling(tmp_path):
    X = _matrix("glasser360")
    X.index = [f"{r}_ROI" for r in X.index]  # L_V1_ROI
    X = pd.concat([X, pd.DataFrame(0.3, index=["Lthal", "brainstem"], columns=X.columns)])
    X.rename_axis("Region").to_csv(tmp_path / "m.tsv", sep="\t")
    got, report = read_expression(tmp_path / "m.tsv", "glasser360")
    assert got.index[0] == "L_V1" and len(got) == 360
    assert list(report.dropped_regions.values()) == [["Lthal", "brainstem"]]


def test_expression_atlas_mismatch_errors(tmp_path):
    X = _matrix("dk")
    with pytest.raises(RegionMismatchError, match="look like Desikan-Killiany names: pass --atlas dk"):
        check_expression(X, "schaefer100")
    bad = X.rename(index={"L_bankssts": "L_banksts"})
    with pytest.raises(RegionMismatchError, match=r"'L_banksts' \(did you mean 'L_bankssts'\?\)"):
        check_expression(bad, "dk")
    labels = X.set_axis(pd.Index(range(1, 69)))
    with pytest.raises(RegionMismatchError, match=r"outside 1..68 .*: '69'"):
        check_expression(labels.set_axis(pd.Index(range(2, 70))), "dk")
    with pytest.raises(InputDataError, match="2 usable gene"):
        check_expression(X.iloc[:, :2], "dk")
    text = X.astype(object)
    text.iloc[0, 4] = "n/a?"
    with pytest.raises(InputDataError, match="values that are not numbers: 'G4'"):
        check_expression(text, "dk")
    with pytest.raises(RegionMismatchError, match="more than once"):
        check_expression(pd.concat([X, X.iloc[[0]].rename(index={"L_bankssts": "lh_bankssts"})]), "dk")
    with pytest.raises(ParameterError, match="your own parcellation"):
        from crossscale.atlas.atlases import Atlas
        from crossscale.atlas.names import RegionNames

        own = Atlas("own", RegionNames(["L_a", "R_a"], str.lower, title="own"), hemisphere="LR",
                    cortex=[True, True], labels=lambda h: np.zeros(10242, int))  # fmt: skip
        load_expression(own)
