import numpy as np
import pandas as pd
import pytest
from PIL import Image

from crossscale import InputDataError
from crossscale.spatial import (
    Grid,
    ImageSizeError,
    bin_transcripts,
    load_stains,
    load_vizgen_mini,
    read_transcripts,
    teramind_overlap,
)

# Seven transcripts placed by hand on a 2 x 3 grid of 2 um bins starting at (10, 20) um.
HAND = pd.DataFrame(
    {
        "global_x": [10.1, 11.9, 12.0, 15.99, 10.5, 13.0, 30.0, 10.2],
        "global_y": [20.1, 21.9, 20.0, 23.5, 22.0, 20.5, 20.0, 20.2],
        "gene": ["A", "A", "B", "A", "B", "Blank-1", "A", "A"],
        "global_z": [0, 0, 0, 1, 1, 0, 0, 1],
    }
)


def _hand_count():
    # (gene, plane, row, col): row = floor((y-20)/2), col = floor((x-10)/2)
    want = np.zeros((2, 2, 2, 3), np.int32)
    want[0, 0, 0, 0] = 2  # A at (10.1, 20.1) and (11.9, 21.9)
    want[1, 0, 0, 1] = 1  # B at (12.0, 20.0): column boundary belongs to the next bin
    want[0, 1, 1, 2] = 1  # A at (15.99, 23.5)
    want[1, 1, 1, 0] = 1  # B at (10.5, 22.0)
    want[0, 1, 0, 0] = 1  # A at (10.2, 20.2) in plane 1
    return want


def test_binning_matches_hand_count(tmp_path):
    grid = Grid(10.0, 20.0, 2.0, (2, 3))
    f = bin_transcripts(HAND, grid)
    assert f.genes == ("A", "B") and f.planes == (0, 1)
    np.testing.assert_array_equal(f.counts, _hand_count())
    assert f.dropped["blank_genes"] == ["Blank-1"] and f.dropped["n_blank_transcripts"] == 1
    assert f.dropped["n_outside"] == 1  # x = 30 um
    # log1p then per-gene max scaling, recorded
    np.testing.assert_allclose(f.scale, np.log1p([2, 1]), rtol=1e-6)
    np.testing.assert_allclose(f.values()[0, 0, 0, 0], 1.0, rtol=1e-6)
    # the zarr-backed, streamed path gives the same counts
    csv = tmp_path / "t.csv.gz"
    HAND.to_csv(csv, index=False)
    fz = bin_transcripts(csv, grid, store=tmp_path / "g.zarr", chunk_rows=3, block=2)
    assert type(fz.counts).__module__.startswith("zarr")
    np.testing.assert_array_equal(np.asarray(fz.counts[:]), _hand_count())
    np.testing.assert_allclose(fz.scale, f.scale)


def test_missing_columns_is_a_clear_error(tmp_path):
    bad = HAND.rename(columns={"global_z": "z"})
    with pytest.raises(InputDataError, match="lacks the column.*global_z"):
        bin_transcripts(bad, Grid(10.0, 20.0, 2.0, (2, 3)))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputDataError, match="global_z"):
        read_transcripts(tmp_path / "bad.csv")


def test_image_size_must_match_extent(tmp_path):
    Image.fromarray(np.full((40, 50), 255, np.uint8)).save(tmp_path / "a.png")
    ok = load_stains({"dapi": [tmp_path / "a.png"]}, Grid(0, 0, 0.5, (40, 50)), downsample=10)
    assert ok.shape == (1, 1, 4, 5) and np.allclose(ok.data, 1.0)
    with pytest.raises(ImageSizeError, match="implies 60 x 40 px"):
        load_stains({"dapi": [tmp_path / "a.png"]}, Grid(0, 0, 0.5, (40, 60)))


@pytest.mark.slow
def test_vizgen_mini_real_data():
    s = load_vizgen_mini(bin_px=16, downsample=8)
    assert s.genes.shape == (450, 2, 258, 287) and s.stains.shape == (2, 2, 516, 574)
    assert len(s.genes.dropped["blank_genes"]) == 109
    # PolyT follows transcript density (SOURCES.md: r = 0.82 / 0.86 in 20 um bins)
    d = s.genes.density()
    polyt = np.asarray(s.stains.data)[1]
    for p in range(2):
        dd = d[p][:252, :276].reshape(21, 12, 23, 12).sum((1, 3))
        ii = polyt[p][:504, :552].reshape(21, 24, 23, 24).mean((1, 3))
        assert np.corrcoef(dd.ravel(), ii.ravel())[0, 1] > 0.75
    ov = teramind_overlap(s.genes)
    assert ov["63885"].sum() == 68 and {"Slc17a6", "Slc17a7", "Cldn5", "Aqp4"} <= set(ov.index)


def test_tiled_field_repeats_lazily():
    from crossscale.spatial import tile_field

    grid = Grid(10.0, 20.0, 2.0, (2, 3))
    f = bin_transcripts(HAND, grid)
    t = tile_field(f, (5, 7))
    want = np.tile(_hand_count(), (1, 1, 3, 3))[:, :, :5, :7]
    np.testing.assert_array_equal(np.asarray(t.counts), want)
    for rs, cs in [(slice(1, 4), slice(2, 7)), (slice(3, 5), slice(0, 2))]:
        np.testing.assert_array_equal(t.counts[:, :, rs, cs], want[:, :, rs, cs])
        np.testing.assert_allclose(
            t.values(rs, cs), np.log1p(want[:, :, rs, cs]) / f.scale[:, None, None, None], rtol=1e-6
        )
    assert t.dropped["tiled_from"] == [2, 3]
