"""Regional maps of any atlas drawn on the fsaverage5 cortical surface.

Each region is painted on the vertices the atlas gives it (:meth:`crossscale.atlas.Atlas.vertex_labels`):
Desikan-Killiany by default, Schaefer, Glasser or your own ``.annot`` pair with ``atlas=``.
Subcortical regions have no surface: they are drawn as a small grid (structure x hemisphere)
beside the four views, in the same colours.

The surface is drawn with matplotlib alone: the mesh triangles are projected orthographically
along the x axis (lateral and medial views), triangles facing away from the viewer are dropped,
the rest are sorted by depth and painted far to near (painter's algorithm) with one call to the
renderer's triangle filler per view, with Lambert shading from a light near the viewer. A figure
of four views takes about 0.1 s to build and 0.3 s more to write as a 110-dpi PNG on a 2-core CPU
(``benchmarks/bench_plotting.py``), against seconds per view for nilearn's ``plot_surf``.

Views are true camera views, never mirror images: the left lateral view looks at the left
hemisphere from the left (-x), so anterior points to the left of the panel; the left medial view
looks from +x (anterior to the right); the right lateral view looks from +x (anterior to the
right); the right medial view looks from -x (anterior to the left). This is the convention of
nilearn, the ENIGMA Toolbox and FreeSurfer's viewers, so the panels compare directly with
published figures.

References
----------
.. [1] Desikan R.S. et al. (2006). An automated labeling system for subdividing the human
   cerebral cortex on MRI scans into gyral based regions of interest. NeuroImage 31, 968-980.
.. [2] Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, Unpack

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import get_atlas, resolve_atlas
from crossscale.plotting._brain_draw import (
    ROW_LABEL_CHARS,
    ROW_LABEL_PT,
    VIEWS,
    _check_surface,
    _draw_row,
    _norm,
    _panel_layout,
    _text_width_in,
    _wrap,
)
from crossscale.plotting._surface import MEDIAL_WALL_COLOR, MISSING_COLOR

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

__all__ = [
    "VIEWS",
    "MISSING_COLOR",
    "MEDIAL_WALL_COLOR",
    "DIVERGING_CMAPS",
    "plot_brain_map",
    "plot_brain_maps",
]
#: matplotlib colour maps centred on zero by default (``symmetric=None``).
DIVERGING_CMAPS = frozenset(
    name + suffix
    for name in ("RdBu", "coolwarm", "bwr", "seismic", "PiYG", "PRGn", "BrBG", "PuOr",
                 "RdGy", "RdYlBu", "RdYlGn", "Spectral", "vlag", "icefire")
    for suffix in ("", "_r")
)  # fmt: skip


def _atlas_of(values: pd.Series | pd.DataFrame, atlas: str | Atlas | None) -> Atlas:
    """`atlas`, else the one named in ``values.attrs["atlas"]``, the one in use, or inferred."""
    if atlas is None and values.attrs.get("atlas"):
        try:
            return get_atlas(values.attrs["atlas"])
        except (ParameterError, InputDataError):
            pass
    return resolve_atlas(atlas, values.index)


def _as_region_values(
    values: pd.Series, what: str = "values", atlas: Atlas | None = None
) -> np.ndarray:
    """Values of the atlas's regions in atlas order, NaN where absent."""
    if not isinstance(values, pd.Series):
        raise InputDataError(
            f"'{what}' must be a pandas Series indexed by region names, got "
            f"{type(values).__name__}. Wrap your array: pd.Series(x, index=atlas.regions)."
        )
    atlas = get_atlas(atlas) if atlas is not None else _atlas_of(values, None)
    canon = atlas.match(values.index, what=f"The '{what}'")
    numeric = pd.to_numeric(pd.Series(values.to_numpy()), errors="coerce").to_numpy(dtype=float)
    bad = [
        str(r)
        for r, raw, v in zip(values.index, values, numeric, strict=True)
        if np.isnan(v) and pd.notna(raw)
    ]
    if bad:
        raise InputDataError(
            f"'{what}' has non-numeric values for {len(bad)} region(s): {', '.join(bad[:5])}. "
            "Convert them to numbers, or drop those rows (they are then drawn grey)."
        )
    out = np.full(atlas.n_regions, np.nan)
    out[atlas.index(canon)] = numeric
    return out


class MapStyle(TypedDict, total=False):
    """Drawing options that :func:`plot_brain_map` passes on to :func:`plot_brain_maps`."""

    cmap: str | Colormap
    symmetric: bool | None
    vmin: float | None
    vmax: float | None
    surface: str
    shading: bool
    atlas: str | Atlas | None


def plot_brain_map(
    values: pd.Series,
    *,
    title: str | None = None,
    colorbar_label: str | None = None,
    **style: Unpack[MapStyle],
) -> Figure:
    """Draw a regional map on fsaverage5: lateral and medial views of both hemispheres.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        One value per region, indexed by region names of the atlas in any supported convention
        (DK: ``L_bankssts``, ``lh_bankssts_thickness``, ``ctx-lh-bankssts`` ...). Any subset of
        the regions; regions without a value (or with NaN) are drawn grey; subcortical regions
        in a grid beside the views (axes labelled ``subcortex``).
    title : str, optional
        Figure title; defaults to ``values.name`` when that is set.
    colorbar_label : str, optional
        Label of the colour bar; defaults to ``values.attrs["units"]`` when that is set.
    **style
        Drawing options (below), as in :func:`plot_brain_maps`.
    cmap : str or matplotlib Colormap
        Colour map; a diverging one (default ``RdBu_r``) for signed maps.
    symmetric : bool, optional
        Centre the colour range on zero (``-max|v|`` to ``+max|v|``), so that the neutral colour
        of a diverging map means zero. By default symmetric when neither `vmin` nor `vmax` is
        given and either the colour map is diverging (``RdBu_r``, ``coolwarm`` ...; see
        ``DIVERGING_CMAPS``) or the values take both signs.
    vmin, vmax : float, optional
        Limits of the colour range (values outside saturate). Default: the data range.
    surface : {"infl", "pial", "white"}
        fsaverage5 surface to draw; the inflated surface shows regions inside sulci.
    shading : bool
        Lambert shading (and a sulcal texture on grey areas). With ``shading=False`` every
        triangle has exactly its region's colour, as used by the tests.
    atlas : str, Atlas or None
        The parcellation whose vertices are painted (default: ``values.attrs["atlas"]``, the
        atlas in use, else inferred from the names; Schaefer names need it).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Four surface axes (labels ``Left lateral``, ``Left medial``, ``Right lateral``,
        ``Right medial``), each holding one ``SurfaceTriangles`` artist (attributes
        ``triangles``, shape (n, 3, 2), and ``facecolors``, shape (n, 4), in drawing order), and
        a colour-bar axes (label ``colorbar``). Created without pyplot (Agg canvas); save it with
        ``figure.savefig``.

    Raises
    ------
    RegionMismatchError
        Index entries that are not regions of the atlas.
    InputDataError
        Non-numeric values.
    ParameterError
        Unknown surface, or vmin > vmax.

    References
    ----------
    .. [1] Desikan R.S. et al. (2006). NeuroImage 31, 968-980.
    .. [2] Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781.
    """
    if not isinstance(values, pd.Series):
        raise InputDataError(
            f"'values' must be a pandas Series indexed by region names, got "
            f"{type(values).__name__}. Wrap an array in the atlas order: "
            "pd.Series(x, index=crossscale.atlas.get_atlas(name).regions)."
        )
    style["atlas"] = _atlas_of(values, style.get("atlas"))
    _as_region_values(values, "values", style["atlas"])  # errors name 'values', not the frame
    if title is None and values.name is not None:
        title = str(values.name)
    if colorbar_label is None:
        colorbar_label = values.attrs.get("units")
    frame = values.to_frame(name=title or "values")
    return plot_brain_maps(
        frame, title=title, colorbar_label=colorbar_label, row_labels=False, **style
    )


def plot_brain_maps(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    cmap: str | Colormap = "RdBu_r",
    symmetric: bool | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str | None = None,
    shared_scale: bool = False,
    surface: str = "infl",
    shading: bool = True,
    row_labels: bool = True,
    atlas: str | Atlas | None = None,
) -> Figure:
    """Draw several regional maps, one row of four surface views per column of `frame`.

    Useful for latent programs (columns ``z0`` ... ``z{k}``) or for maps of several groups.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_regions, n_maps)
        Index: region names of the atlas (any subset; missing or NaN = grey); one column per
        map, the column name labels the row.
    title : str, optional
        Figure title.
    cmap, symmetric, vmin, vmax, colorbar_label
        As in :func:`plot_brain_map`; applied to every row.
    shared_scale : bool
        One colour range over all maps (comparable rows) instead of one range per row.
    surface, shading
        As in :func:`plot_brain_map`.
    row_labels : bool
        Write each column name to the left of its row.
    atlas : str, Atlas or None
        As in :func:`plot_brain_map` (default: ``frame.attrs["atlas"]``, the atlas in use, or
        inferred from the names).

    Returns
    -------
    figure : matplotlib.figure.Figure
        ``4 * n_maps`` surface axes and ``n_maps`` colour bars.

    Raises
    ------
    RegionMismatchError, InputDataError, ParameterError
        As in :func:`plot_brain_map`; InputDataError also for a frame without columns.
    """
    from matplotlib import colormaps
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    if not isinstance(frame, pd.DataFrame):
        raise InputDataError(
            f"'frame' must be a pandas DataFrame with one column per map, got {type(frame).__name__}."
        )
    if frame.shape[1] == 0:
        raise InputDataError("'frame' has no columns; pass at least one map to draw.")
    _check_surface(surface)
    atlas = _atlas_of(frame, atlas)
    cmap_obj = cmap if isinstance(cmap, Colormap) else colormaps[cmap]
    data = np.column_stack(
        [_as_region_values(frame[c], f"frame[{c!r}]", atlas) for c in frame.columns]
    )
    sub = atlas.has_subcortex and bool(np.isfinite(data[~atlas.is_cortex]).any())
    label_width = max(_text_width_in(_wrap(c, ROW_LABEL_CHARS), ROW_LABEL_PT) for c in frame.columns)
    layout = _panel_layout(frame.shape[1], titled=bool(title), row_labels=row_labels, subcortex=sub,
                           label_width=label_width)  # fmt: skip
    fig = Figure(figsize=(layout["width"], layout["height"]))
    scale = {"symmetric": symmetric, "vmin": vmin, "vmax": vmax}
    scale["diverging"] = cmap_obj.name in DIVERGING_CMAPS
    shared = _norm(data, **scale) if shared_scale else None
    for row, col in enumerate(frame.columns):
        norm = shared or _norm(data[:, row], **scale)
        _draw_row(
            fig,
            row,
            layout,
            data[:, row],
            cmap=cmap_obj,
            norm=norm,
            surface=surface,
            shading=shading,
            colorbar_label=colorbar_label,
            row_label=str(col) if row_labels else None,
            atlas=atlas,
        )
    if title:
        fig.suptitle(title, y=1 - 0.08 / layout["height"], va="top", fontsize=11)
    return fig
