import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgb

from crossscale import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas import DK_REGIONS
from crossscale.plotting import plot_brain_map, plot_brain_maps
from crossscale.plotting.brain import MEDIAL_WALL_COLOR, MISSING_COLOR, VIEWS

VIEW_NAMES = [v[0] for v in VIEWS]


def _views(fig):
    axes = {ax.get_label(): ax for ax in fig.axes}
    return {name: axes[name] for name in VIEW_NAMES}


def _faces(ax):
    (artist,) = [a for a in ax.get_children() if hasattr(a, "triangles")]
    return artist, np.asarray(artist.get_facecolors())[:, :3]


def _colorbar_norm(fig):
    """Normalize of the colour bar (its axis spans vmin..vmax)."""
    from matplotlib.colors import Normalize

    (cax,) = [ax for ax in fig.axes if ax.get_label() == "colorbar"]
    return Normalize(*cax.get_ylim())


def _has_color(colors, rgb, tol=1e-6):
    return np.all(np.abs(colors - np.asarray(rgb)) < tol, axis=1)


def test_four_views_and_a_colorbar(ad_map):
    fig = plot_brain_map(ad_map)
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == [*VIEW_NAMES, "colorbar"]
    for ax in _views(fig).values():
        coll, colors = _faces(ax)
        # about half of the 20,480 faces of a hemisphere face the viewer (faces on region
        # boundaries are cut into six render triangles)
        assert 8000 < len(colors) < 25000
        assert ax.get_aspect() == 1.0
    assert fig._suptitle.get_text() == ad_map.name


def test_face_colours_follow_region_values_and_orientation():
    values = pd.Series({"L_precuneus": -1.0, "L_entorhinal": 2.0})
    fig = plot_brain_map(values, shading=False)
    cmap = colormaps["RdBu_r"]
    # a diverging colour map is centred on zero by default: range -2..2
    lo, hi = -2.0, 2.0
    prec_rgb = cmap((-1.0 - lo) / (hi - lo))[:3]
    ento_rgb = cmap((2.0 - lo) / (hi - lo))[:3]
    views = _views(fig)

    coll, colors = _faces(views["Left medial"])
    prec = _has_color(colors, prec_rgb)
    ento = _has_color(colors, ento_rgb)
    grey = _has_color(colors, MISSING_COLOR)
    wall = _has_color(colors, MEDIAL_WALL_COLOR)
    assert prec.sum() > 100 and ento.sum() > 20 and grey.sum() > 1000 and wall.sum() > 500
    assert np.all(prec | ento | grey | wall)  # every triangle has exactly one of these colours
    # orientation: in the left medial view (seen from +x) anterior is to the right and superior
    # up, so the entorhinal cortex (anterior, inferior) lies right of and below the precuneus
    centres = coll.triangles.mean(axis=1)
    assert centres[ento, 0].mean() > centres[prec, 0].mean() + 30
    assert centres[ento, 1].mean() < centres[prec, 1].mean() - 20

    # the right hemisphere has no values: only grey and medial wall
    for name in ("Right lateral", "Right medial"):
        _, colors = _faces(views[name])
        assert np.all(_has_color(colors, MISSING_COLOR) | _has_color(colors, MEDIAL_WALL_COLOR))


def test_every_region_coloured_by_its_value(ad_map):
    values = ad_map.drop("L_superiortemporal")
    fig = plot_brain_map(values, shading=False, cmap="viridis")
    norm = _colorbar_norm(fig)
    assert norm.vmin == pytest.approx(values.min()) and norm.vmax == pytest.approx(values.max())
    region_rgb = colormaps["viridis"](norm(values.to_numpy()))[:, :3]
    _, colors = _faces(_views(fig)["Left lateral"])
    grey = _has_color(colors, MISSING_COLOR)
    assert grey.sum() > 100  # superior temporal gyrus is on the lateral surface
    # every non-grey triangle has the colour of one region's value
    d = np.abs(colors[:, None, :] - region_rgb[None, :, :]).max(axis=2)
    assert np.all((d.min(axis=1) < 1e-6) | grey | _has_color(colors, MEDIAL_WALL_COLOR))
    # and the most atrophied left region of the lateral surface is drawn
    top = colormaps["viridis"](norm(values["L_inferiortemporal"]))[:3]
    assert _has_color(colors, top).sum() > 50


def test_shading_scales_colours(ad_map):
    flat = _faces(_views(plot_brain_map(ad_map, shading=False))["Left lateral"])[1]
    shaded = _faces(_views(plot_brain_map(ad_map, shading=True))["Left lateral"])[1]
    assert flat.shape == shaded.shape
    ratio = shaded.sum(axis=1) / flat.sum(axis=1)
    assert np.all(ratio <= 1 + 1e-9) and np.all(ratio > 0.3)
    assert ratio.std() > 0.01


def test_colour_range_options(ad_map):
    signed = ad_map - ad_map.mean()
    norm = _colorbar_norm(plot_brain_map(signed, cmap="viridis"))
    assert norm.vmin == pytest.approx(-norm.vmax)  # both signs: centred on zero
    norm = _colorbar_norm(plot_brain_map(ad_map, vmin=0, vmax=5))
    assert (norm.vmin, norm.vmax) == (0, 5)
    norm = _colorbar_norm(plot_brain_map(ad_map, symmetric=False))
    assert norm.vmin == pytest.approx(ad_map.min())
    with pytest.raises(ParameterError, match="vmin"):
        plot_brain_map(ad_map, vmin=3, vmax=1, symmetric=False)


def test_other_region_conventions_and_errors(ad_map):
    raw = pd.Series(1.0, index=[f"lh_{r[2:]}_thickness" for r in DK_REGIONS[:34]])
    fig = plot_brain_map(raw, shading=False, symmetric=False)
    assert len(fig.axes) == 5
    with pytest.raises(InputDataError, match="'values' has non-numeric values"):
        plot_brain_map(pd.Series(["a", 1.0], index=["L_insula", "R_insula"]))
    with pytest.raises(RegionMismatchError, match="L_banksts"):
        plot_brain_map(pd.Series([1.0, 2.0], index=["L_banksts", "L_insula"]))
    with pytest.raises(InputDataError, match="pandas Series"):
        plot_brain_map(ad_map.to_numpy())
    with pytest.raises(ParameterError, match="surface"):
        plot_brain_map(ad_map, surface="sphere")


def test_grid_of_maps(ad_map):
    frame = pd.DataFrame({"z0": ad_map, "z1": -ad_map, "z2": np.nan})
    fig = plot_brain_maps(frame, title="Latent programs")
    labels = [ax.get_label() for ax in fig.axes]
    assert labels.count("colorbar") == 3
    assert sum(label in VIEW_NAMES for label in labels) == 12
    texts = [t.get_text() for t in fig.texts]
    assert {"z0", "z1", "z2"} <= set(texts)


def test_all_missing_draws_grey():
    fig = plot_brain_map(pd.Series(np.nan, index=DK_REGIONS), shading=False)
    _, colors = _faces(_views(fig)["Left lateral"])
    assert np.all(_has_color(colors, MISSING_COLOR) | _has_color(colors, MEDIAL_WALL_COLOR))
    assert to_rgb(MISSING_COLOR) != to_rgb(MEDIAL_WALL_COLOR)


@pytest.mark.slow
def test_plotting_does_not_use_pyplot():
    code = (
        "import sys, pandas as pd\n"
        "import crossscale.report\n"
        "from crossscale.plotting import plot_brain_map\n"
        "print('matplotlib' in sys.modules)\n"  # imported lazily, on first plot
        "fig = plot_brain_map(pd.Series({'L_insula': 1.0}))\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_saves_in_common_formats(fmt):
    import io

    fig = plot_brain_map(pd.Series({"L_insula": 1.0, "R_insula": -1.0}))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=40)
    assert buf.getbuffer().nbytes > 1000


def test_row_and_colour_bar_labels_are_whole_and_readable(ad_map):
    """Figure 1 of the report: long row labels ("GraphVAE in-sample") stay inside the figure."""
    frame = pd.DataFrame({"observed": ad_map, "GraphVAE (reference) in-sample": ad_map,
                          "LORO CV": -ad_map})  # fmt: skip
    fig = plot_brain_maps(frame, shared_scale=True,
                          colorbar_label="Welch t (AD vs CN), atrophy positive")  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width = fig.bbox.width
    for text in fig.texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= width, text.get_text()  # not clipped at either edge
    labels = [t.get_text().replace("\n", " ") for t in fig.texts]
    assert "GraphVAE (reference) in-sample" in labels
    caxes = [ax for ax in fig.axes if ax.get_label() == "colorbar"]
    for cax in caxes:
        label = cax.yaxis.label
        assert label.get_fontsize() >= 9 and label.get_text().replace("\n", " ") == (
            "Welch t (AD vs CN), atrophy positive"
        )
        box = label.get_window_extent(renderer)
        assert box.x1 <= width  # the colour-bar label is inside the figure
