"""Patch layout of a generated canvas and its position-seeded initial noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

NOISE_TILE = 16


def position_noise(seed: int, n_c: int, n_p: int, rows: slice, cols: slice, step: int | None = None) -> np.ndarray:
    """Standard normal noise of a canvas window that depends only on (seed, position[, step]).

    The canvas is cut into fixed tiles of :data:`NOISE_TILE` pixels, each drawn from its own
    generator seeded with ``(seed, tile_row, tile_col)`` (the initial noise), or with
    ``(seed, tile_row, tile_col, step)`` for the noise a stochastic sampler adds at `step`.

    Returns
    -------
    noise : numpy.ndarray, shape (n_c, n_p, rows, cols), float32
    """
    t = NOISE_TILE
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    out = np.empty((n_c, n_p, r1 - r0, c1 - c0), np.float32)
    for ty in range(r0 // t, (r1 - 1) // t + 1):
        for tx in range(c0 // t, (c1 - 1) // t + 1):
            key = [seed, ty, tx] if step is None else [seed, ty, tx, step]
            tile = np.random.default_rng(key).standard_normal((n_c, n_p, t, t), np.float32)
            ya, yb = max(r0, ty * t), min(r1, (ty + 1) * t)
            xa, xb = max(c0, tx * t), min(c1, (tx + 1) * t)
            out[:, :, ya - r0 : yb - r0, xa - c0 : xb - c0] = tile[:, :, ya - ty * t : yb - ty * t,
                                                                    xa - tx * t : xb - tx * t]  # fmt: skip
    return out


@dataclass(frozen=True)
class _Layout:
    scheme: str
    h: int
    w: int
    core: int
    win: int
    halo: int

    @property
    def grid(self) -> tuple[int, int]:
        return self.h // self.core, self.w // self.core

    def window(self, i: int, j: int) -> tuple[int, int]:
        """Top-left corner of patch (i, j)'s window, clamped inside the canvas."""
        if self.scheme == "independent":
            return i * self.core, j * self.core
        return (int(np.clip(i * self.core - self.halo, 0, self.h - self.win)),
                int(np.clip(j * self.core - self.halo, 0, self.w - self.win)))  # fmt: skip

    def borders(self) -> dict[str, list[int]]:
        ny, nx = self.grid
        if self.scheme == "overlap":  # where a window starts or ends contributing
            ys = sorted({v for i in range(ny) for v in (self.window(i, 0)[0], self.window(i, 0)[0] + self.win)} - {0, self.h})
            xs = sorted({v for j in range(nx) for v in (self.window(0, j)[1], self.window(0, j)[1] + self.win)} - {0, self.w})
            return {"y": ys, "x": xs}
        return {"y": [i * self.core for i in range(1, ny)], "x": [j * self.core for j in range(1, nx)]}


def hann_window(win: int) -> np.ndarray:
    """Separable Hann weights of a ``win x win`` window, positive everywhere.

    ``w[y, x] = h(y) h(x)`` with ``h(k) = sin^2(pi (k + 0.5) / win)``: highest at the centre,
    smallest at the edges (never 0, so a pixel covered by a single window keeps its value).
    Weighted averaging of overlapping windows with these weights removes the seams of window
    edges (as MONAI's ``SlidingWindowInferer`` with ``mode="gaussian"``).

    Returns
    -------
    weights : numpy.ndarray, shape (win, win), float64
    """
    h = np.sin(np.pi * (np.arange(win) + 0.5) / win) ** 2
    return np.outer(h, h)


def _blend_tile(windows: Any, layout: _Layout, i: int, j: int) -> np.ndarray:
    """Core tile (i, j) as the Hann-weighted mean of every window of `windows` that overlaps it.

    `windows` has shape (ny, nx, n_c, n_p, win, win): window (a, b) placed at
    ``layout.window(a, b)``.
    """
    c, win = layout.core, layout.win
    ny, nx = layout.grid
    wts = hann_window(win)
    acc = np.zeros(tuple(windows.shape[2:4]) + (c, c), np.float64)
    den = np.zeros((c, c), np.float64)
    reach = win // c + 1
    for a in range(max(0, i - reach), min(ny, i + reach + 1)):
        for b in range(max(0, j - reach), min(nx, j + reach + 1)):
            y0, x0 = layout.window(a, b)
            ya, yb = max(i * c, y0), min((i + 1) * c, y0 + win)  # the part of the tile it covers
            xa, xb = max(j * c, x0), min((j + 1) * c, x0 + win)
            if ya >= yb or xa >= xb:
                continue
            wy, wx = slice(ya - y0, yb - y0), slice(xa - x0, xb - x0)
            ty, tx = slice(ya - i * c, yb - i * c), slice(xa - j * c, xb - j * c)
            acc[:, :, ty, tx] += wts[wy, wx] * np.asarray(windows[a, b, :, :, wy, wx])
            den[ty, tx] += wts[wy, wx]
    return (acc / den).astype(np.float32)


def _canvas_tile(final: Any, layout: _Layout, i: int, j: int) -> np.ndarray:
    """Core tile (i, j) of the final canvas (Hann-weighted mean of overlapping windows for 'overlap')."""
    c = layout.core
    if layout.scheme != "overlap":
        return np.asarray(final[:, :, i * c : (i + 1) * c, j * c : (j + 1) * c])
    return _blend_tile(final, layout, i, j)
