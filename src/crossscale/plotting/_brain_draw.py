"""Drawing helpers of :mod:`crossscale.plotting.brain`: colour scaling, panel layout, rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.atlas.atlases import Atlas
from crossscale.plotting._surface import MEDIAL_WALL_COLOR, MISSING_COLOR, _draw_view

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

#: The four views: (panel title, hemisphere, x coordinate of the camera direction).
VIEWS: tuple[tuple[str, str, float], ...] = (
    ("Left lateral", "L", -1.0),
    ("Left medial", "L", 1.0),
    ("Right lateral", "R", 1.0),
    ("Right medial", "R", -1.0),
)


def _norm(
    data: np.ndarray,
    *,
    symmetric: bool | None,
    vmin: float | None,
    vmax: float | None,
    diverging: bool = False,
) -> Normalize:
    from matplotlib.colors import Normalize

    finite = data[np.isfinite(data)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    if symmetric is None:
        symmetric = vmin is None and vmax is None and (diverging or lo < 0 < hi)
    if symmetric:
        bound = max(abs(v) for v in (vmin, vmax, lo, hi) if v is not None)
        if vmin is not None or vmax is not None:
            bound = max(abs(v) for v in (vmin, vmax) if v is not None)
        lo, hi = -bound, bound
    else:
        lo = lo if vmin is None else float(vmin)
        hi = hi if vmax is None else float(vmax)
    if hi < lo:
        raise ParameterError(f"vmin ({lo}) must not exceed vmax ({hi}).")
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    return Normalize(vmin=lo, vmax=hi)


def _region_colors(data: np.ndarray, cmap: Colormap, norm: Normalize) -> np.ndarray:
    """RGB colour of each region plus the medial wall (last row)."""
    rgb = np.empty((len(data) + 1, 3))
    finite = np.isfinite(data)
    rgb[:-1][finite] = cmap(norm(data[finite]))[:, :3]
    rgb[:-1][~finite] = MISSING_COLOR
    rgb[-1] = MEDIAL_WALL_COLOR
    return rgb


#: Characters per line of a row label (longer labels wrap) and of a colour-bar label.
ROW_LABEL_CHARS, COLORBAR_LABEL_CHARS = 14, 24
#: Font sizes (pt) of row labels, colour-bar labels and colour-bar ticks.
ROW_LABEL_PT, COLORBAR_LABEL_PT, COLORBAR_TICK_PT = 9.5, 9.0, 8.0


def _wrap(text: str, width: int) -> str:
    import textwrap

    lines = textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines) or str(text)


def _text_width_in(text: str, points: float) -> float:
    """Width (inches) of the longest line of `text` at `points` (about 0.6 em per character)."""
    return max((len(line) for line in str(text).splitlines()), default=0) * 0.6 * points / 72


def _panel_layout(
    n_rows: int, *, titled: bool, row_labels: bool, subcortex: bool = False,
    label_width: float = 0.0,
) -> dict[str, Any]:  # fmt: skip
    panel_w, panel_h = 2.3, 1.6
    top = 0.35 if titled else 0.05
    view_titles = 0.22
    # the row labels' column: as wide as the longest (wrapped) label, never clipped
    left = max(1.2, label_width + 0.3) if row_labels else 0.05
    cbar = 1.25
    sub = 1.5 if subcortex else 0.0
    width = left + 4 * panel_w + cbar + sub
    height = top + n_rows * (panel_h + view_titles) + 0.1
    return {
        "panel_w": panel_w,
        "panel_h": panel_h,
        "top": top,
        "view_titles": view_titles,
        "left": left,
        "cbar": cbar,
        "sub": sub,
        "width": width,
        "height": height,
    }


def _draw_row(
    fig: Figure,
    row: int,
    layout: dict[str, Any],
    data: np.ndarray,
    *,
    cmap: Colormap,
    norm: Normalize,
    surface: str,
    shading: bool,
    colorbar_label: str | None,
    row_label: str | None,
    atlas: Atlas | None = None,
) -> list[Axes]:
    from matplotlib.cm import ScalarMappable

    W, H = layout["width"], layout["height"]
    pw, ph = layout["panel_w"], layout["panel_h"]
    row_h = ph + layout["view_titles"]
    y0 = H - layout["top"] - (row + 1) * row_h
    region_rgb = _region_colors(data, cmap, norm)
    axes = []
    for i, (name, hemi, direction_x) in enumerate(VIEWS):
        ax = fig.add_axes(((layout["left"] + i * pw) / W, y0 / H, pw / W, ph / H))
        _draw_view(ax, hemi, direction_x, region_rgb, surface=surface, shading=shading,
                   atlas=None if atlas is None or atlas.name == "dk" else atlas)  # fmt: skip
        if row == 0:
            ax.set_title(name, fontsize=8.5, pad=2)
        ax.set_label(name)
        axes.append(ax)
    cax = fig.add_axes(
        ((layout["left"] + 4 * pw + 0.15) / W, (y0 + 0.15 * ph) / H, 0.12 / W, 0.75 * ph / H)
    )
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    cb.ax.tick_params(labelsize=COLORBAR_TICK_PT)
    cax.set_label("colorbar")
    if colorbar_label:
        cb.set_label(_wrap(colorbar_label, COLORBAR_LABEL_CHARS), fontsize=COLORBAR_LABEL_PT)
    if layout["sub"] and atlas is not None and atlas.has_subcortex:
        _draw_subcortex(fig, layout, y0, data, atlas, cmap, norm)
    if row_label:
        fig.text(
            (layout["left"] - 0.1) / W,
            (y0 + 0.5 * ph) / H,
            _wrap(row_label, ROW_LABEL_CHARS),
            ha="right",
            va="center",
            fontsize=ROW_LABEL_PT,
        )
    return axes


def _draw_subcortex(
    fig: Figure, layout: dict[str, Any], y0: float, data: np.ndarray, atlas: Atlas,
    cmap: Colormap, norm: Normalize,
) -> None:  # fmt: skip
    """Subcortical regions (no surface) as a small grid beside the views: rows structures, L / R."""
    W, H = layout["width"], layout["height"]
    ph = layout["panel_h"]
    idx = np.flatnonzero(~atlas.is_cortex)
    names = [atlas.regions[i].split("_", 1)[-1] for i in idx]
    structures = list(dict.fromkeys(names))
    grid = np.full((len(structures), 2), np.nan)
    for i, name in zip(idx, names, strict=True):
        grid[structures.index(name), 0 if atlas.hemisphere[i] == "L" else 1] = data[i]
    rgb = np.empty((*grid.shape, 3))
    finite = np.isfinite(grid)
    rgb[finite] = cmap(norm(grid[finite]))[:, :3]
    rgb[~finite] = MISSING_COLOR
    x0 = layout["left"] + 4 * layout["panel_w"] + layout["cbar"] + 0.75
    ax = fig.add_axes((x0 / W, (y0 + 0.1 * ph) / H, 0.45 / W, 0.8 * ph / H))
    ax.imshow(rgb, aspect="auto", interpolation="nearest")
    ax.set_xticks([0, 1], ["L", "R"], fontsize=7)
    ax.set_yticks(range(len(structures)), structures, fontsize=6.5)
    ax.tick_params(length=0, pad=1)
    ax.set_title("subcortex", fontsize=7.5, pad=2)
    ax.set_label("subcortex")


def _check_surface(surface: str) -> None:
    if surface not in ("infl", "pial", "white"):
        raise ParameterError(
            f"surface must be 'infl' (inflated, default), 'pial' or 'white', got {surface!r}."
        )
