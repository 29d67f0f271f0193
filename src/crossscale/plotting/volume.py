"""Figures for generated tissue: real vs generated crops, seam maps, gene-gene attention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_attention_matrix", "plot_crops", "plot_nucleus_areas", "plot_power_spectra",
           "plot_seam_maps"]


def _figure(w: float, h: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


def plot_crops(images: Mapping[str, np.ndarray], stains: Sequence[str], *, plane: int = 0,
               crop: tuple[slice, slice] | None = None, cmap: str = "gray",
               vrange: tuple[float, float] = (-1.0, 1.0), px_per_inch: float | None = None) -> Figure:  # fmt: skip
    """Side-by-side crops: one column per method, one row per stain.

    With `px_per_inch` set, each panel is sized so that one image pixel is one figure pixel at
    that resolution (full resolution when the figure is saved at ``dpi = px_per_inch``).

    Parameters
    ----------
    images : mapping of str to numpy.ndarray, shape (n_stains, n_planes, H, W)
        Images in [-1, 1], e.g. ``{"real": ..., "boundary": ...}``.
    stains : sequence of str
        Stain names (rows).
    plane : int
        Imaging plane shown.
    crop : (slice, slice), optional
        Rows and columns shown (default all).
    cmap : str
        Matplotlib colour map of the panels.
    vrange : (float, float)
        Intensity range mapped onto the colour map.
    px_per_inch : float, optional
        Panel size such that one image pixel is one figure pixel at this dpi (default: a fixed
        panel size).
    """
    names = list(images)
    rs, cs = crop or (slice(None), slice(None))
    if px_per_inch:
        hh, ww = next(iter(images.values()))[0, plane][rs, cs].shape
        fig = _figure(len(names) * (ww / px_per_inch + 0.15) + 0.5, len(stains) * (hh / px_per_inch + 0.35))
    else:
        fig = _figure(2.0 * len(names) + 0.5, 2.2 * len(stains))
    axes = fig.subplots(len(stains), len(names), squeeze=False)
    for j, name in enumerate(names):
        for i, s in enumerate(stains):
            ax = axes[i, j]
            ax.imshow(images[name][i, plane][rs, cs], cmap=cmap, vmin=vrange[0], vmax=vrange[1],
                      interpolation="nearest")  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{s} z{plane}", fontsize=9)
    return fig


def plot_seam_maps(images: Mapping[str, np.ndarray], borders: Mapping[str, Mapping[str, list[int]]],
                   scores: Mapping[str, float] | None = None) -> Figure:  # fmt: skip
    """Gradient magnitude |dI/dy| + |dI/dx| (mean over stains, planes) with patch borders drawn."""
    names = list(images)
    fig = _figure(2.2 * len(names) + 0.5, 2.6)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        img = images[name]
        g = np.zeros(img.shape[-2:])
        g[1:, :] += np.abs(np.diff(img, axis=-2)).mean(axis=(0, 1))
        g[:, 1:] += np.abs(np.diff(img, axis=-1)).mean(axis=(0, 1))
        ax.imshow(g, cmap="magma", vmin=0, vmax=np.percentile(g, 99) + 1e-9, interpolation="nearest")
        for y in borders.get(name, {}).get("y", []):
            ax.axhline(y - 0.5, color="cyan", lw=0.3, alpha=0.6)
        for x in borders.get(name, {}).get("x", []):
            ax.axvline(x - 0.5, color="cyan", lw=0.3, alpha=0.6)
        score = (scores or {}).get(name)
        ax.set_title(f"{name}" + (f"\nseam {score:.2f}" if score is not None and np.isfinite(score) else ""),
                     fontsize=9)  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_attention_matrix(att: np.ndarray, genes: Sequence[str], *, highlight: Sequence[str] = (),
                          max_genes: int = 40) -> Figure:  # fmt: skip
    """The (symmetrised) gene-gene attention of the genes with the largest attention mass.

    `highlight` genes are always included.
    """
    s = (att + att.T) / 2
    np.fill_diagonal(s, np.nan)
    mass = np.nansum(s, 1)
    idx = [genes.index(g) for g in highlight if g in genes]
    for i in np.argsort(-mass):
        if len(idx) >= max_genes:
            break
        if i not in idx:
            idx.append(int(i))
    sub = s[np.ix_(idx, idx)]
    fig = _figure(7.0, 6.2)
    ax = fig.subplots()
    im = ax.imshow(sub, cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(len(idx)), [genes[i] for i in idx], rotation=90, fontsize=6)
    ax.set_yticks(range(len(idx)), [genes[i] for i in idx], fontsize=6)
    for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        if t.get_text() in highlight:
            t.set_color("red")
    fig.colorbar(im, ax=ax, shrink=0.8, label="mean attention (symmetrised)")
    return fig


def plot_nucleus_areas(areas: Mapping[str, Sequence[float]], *, bins: int = 30) -> Figure:
    """Histograms of segmented nucleus areas (µm²), one outline per method."""
    fig = _figure(5.0, 3.2)
    ax = fig.subplots()
    allv = np.concatenate([np.asarray(v, float) for v in areas.values() if len(v)] or [np.zeros(1)])
    edges = np.linspace(0, max(float(np.percentile(allv, 99)), 1.0), bins + 1)
    for name, v in areas.items():
        if len(v):
            ax.hist(np.asarray(v, float), bins=edges, histtype="step", lw=2 if name == "real" else 1,
                    density=True, label=f"{name} (n={len(v)}, median {np.median(v):.0f})")  # fmt: skip
    ax.set_xlabel("nucleus area (µm²)")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return fig


def plot_power_spectra(freq: Sequence[float], spectra: Mapping[str, Sequence[float]], *,
                       pixel_um: float | None = None,
                       bands: Sequence[tuple[int, int]] = ()) -> Figure:  # fmt: skip
    """Radially averaged power spectra (log-log), one line per method; band edges dashed."""
    fig = _figure(5.0, 3.4)
    ax = fig.subplots()
    f = np.asarray(freq, float)
    for name, p in spectra.items():
        p = np.asarray(p, float)
        if np.all(p <= 0):
            continue
        ax.loglog(f, p, lw=2 if name == "real" else 1, color="k" if name == "real" else None, label=name)
    for _lo, hi in bands:
        ax.axvline(1.0 / hi, color="grey", ls=":", lw=0.6)
    ax.set_xlabel("frequency (cycles / px)" + (f"; 1 px = {pixel_um:.2f} µm" if pixel_um else ""))
    ax.set_ylabel("power")
    ax.legend(fontsize=7)
    return fig
