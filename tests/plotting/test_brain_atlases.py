"""Brain figures of other atlases: their parcels on fsaverage5, subcortex beside the views."""

import numpy as np
import pandas as pd

from crossscale.atlas import get_atlas
from crossscale.plotting import plot_brain_map


def test_figure_paints_the_atlas_parcels():
    atlas = get_atlas("schaefer100")
    values = pd.Series(np.arange(100.0), index=atlas.regions)
    fig = plot_brain_map(values, atlas=atlas, shading=False, cmap="viridis", symmetric=False)
    colours = np.vstack([ax.artists[0].facecolors[:, :3] for ax in fig.axes[:4]])
    # the four views show every one of the 100 parcels in its own colour, plus the medial wall
    assert len(np.unique(colours.round(6), axis=0)) == 101
    assert not any(ax.get_label() == "subcortex" for ax in fig.axes)


def test_subcortex_drawn_beside_the_views():
    atlas = get_atlas("dk-subcortex")
    values = pd.Series(0.0, index=atlas.regions)
    values["L_hippocampus"], values["R_thalamus"] = 5.0, -5.0
    fig = plot_brain_map(values, atlas=atlas, shading=False, cmap="RdBu_r")
    (ax,) = [a for a in fig.axes if a.get_label() == "subcortex"]
    rgb = ax.get_images()[0].get_array()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["accumbens", "amygdala", "caudate", "hippocampus", "pallidum", "putamen", "thalamus"]
    red, blue = rgb[labels.index("hippocampus"), 0], rgb[labels.index("thalamus"), 1]
    assert red[0] > red[2] + 0.2 and blue[2] > blue[0] + 0.2  # RdBu_r: +5 red, -5 blue
    white = rgb[labels.index("caudate"), 0]
    assert np.allclose(white, white[0], atol=0.05)  # 0 is the neutral middle colour
