"""Evaluation of generated tissue on a held-out region: image metrics, biology, seams, attention.

Metrics (all on the held-out region the model never saw):

* PSNR and SSIM against the real stains (scikit-image; data range 2 for [-1, 1] images);
* Pearson r of PolyT intensity with transcript density in ~20 µm blocks (the real images give
  r = 0.82-0.86 on this crop);
* nucleus count and size from a classical segmentation of DAPI (Gaussian smoothing, Otsu
  threshold, connected components; size as each nucleus's area above half its height over the
  local background), generated vs real;
* a seam score: mean absolute difference across patch borders divided by the same at matched
  offsets inside patches (1.0 = invisible seams);
* texture: the radially averaged power spectrum of DAPI in octave bands of wavelength, generated
  over real (1.0 = the real texture at that scale);
* gene-gene attention of known pairs compared with their co-expression and with random pairs.

References
----------
.. [1] Wang Z. et al. (2004). Image quality assessment: from error visibility to structural
   similarity. IEEE Trans Image Process 13, 600-612 (SSIM).
.. [2] Otsu N. (1979). A threshold selection method from gray-level histograms. IEEE Trans Syst
   Man Cybern 9, 62-66.
.. [3] Wu Y. et al. (2025). Tera-MIND. arXiv:2503.01220.
.. [4] van der Schaaf A., van Hateren J. H. (1996). Modelling the power spectra of natural
   images. Vision Res 36, 2759-2770 (radially averaged power spectra).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.evaluate.volume_metrics import (
    band_power,
    density_correlation,
    image_scores,
    radial_power_spectrum,
    seam_score,
    segment_nuclei,
)

logger = logging.getLogger(__name__)

KNOWN_PAIRS = (("Slc17a6", "Slc17a7"), ("Cldn5", "Aqp4"))


def attention_matrix(model: Any, genes: Any, *, max_windows: int = 64, seed: int = 0) -> np.ndarray:
    """Mean gene-gene attention weights over windows of `genes` (n_genes x n_genes)."""
    import torch

    genes = model.prepare_genes(genes)
    r, win = model.ratio_, int(model.params_["window"])
    gw = win // r
    rng = np.random.default_rng(seed)
    hh, ww = genes.shape[2] - gw, genes.shape[3] - gw
    ys = rng.integers(0, hh + 1, max_windows)
    xs = rng.integers(0, ww + 1, max_windows)
    acc = None
    for b in range(0, max_windows, 16):
        g = np.stack([genes.values(slice(y, y + gw), slice(x, x + gw))
                      for y, x in zip(ys[b : b + 16], xs[b : b + 16], strict=True)])  # fmt: skip
        with torch.no_grad():
            a = model.module_.attention.weights(torch.from_numpy(g).to(model.device_)).sum(0).cpu().numpy()
        acc = a if acc is None else acc + a
    return acc / max_windows


def attention_pairs(att: np.ndarray, genes: Any, *, pairs: tuple[tuple[str, str], ...] = KNOWN_PAIRS,
                    n_random: int = 1000, seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Known gene pairs' attention and co-expression, as values and percentiles among all pairs.

    Parameters
    ----------
    att : numpy.ndarray, shape (n_genes, n_genes)
        Mean attention (rows: query gene); symmetrised here as ``(A + A.T) / 2``.
    genes : GeneField
        The field (in the model's gene order) for co-expression: Pearson r of log1p counts over
        bins.
    pairs : tuple of (str, str)
        Known pairs; pairs with a gene absent from the panel are reported as missing.
    n_random : int
        Random gene pairs for the reference rows (mean and sd).
    seed : int
        Seed of the random gene pairs.

    Returns
    -------
    table : pandas.DataFrame
        Index ``pair``; columns ``attention``, ``attention_pct``, ``coexpression``,
        ``coexpression_pct``. Two final rows give the random pairs' mean and sd.
    """
    names = list(genes.genes)
    n = len(names)
    s = (att + att.T) / 2
    x = np.log1p(np.asarray(genes.counts, np.float32).reshape(n, -1))
    x = x - x.mean(1, keepdims=True)
    sd = np.sqrt((x**2).sum(1))
    sd[sd == 0] = np.inf
    co = (x @ x.T) / np.outer(sd, sd)
    iu = np.triu_indices(n, 1)
    all_att, all_co = s[iu], co[iu]
    rows = []
    idx = {g: i for i, g in enumerate(names)}
    for a, b in pairs:
        if a not in idx or b not in idx:
            rows.append({"pair": f"{a}-{b}", "attention": np.nan, "attention_pct": np.nan,
                         "coexpression": np.nan, "coexpression_pct": np.nan})  # fmt: skip
            continue
        i, j = idx[a], idx[b]
        rows.append({"pair": f"{a}-{b}", "attention": s[i, j],
                     "attention_pct": 100 * float((all_att < s[i, j]).mean()),
                     "coexpression": co[i, j],
                     "coexpression_pct": 100 * float((all_co < co[i, j]).mean())})  # fmt: skip
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(all_att), n_random)
    rows.append({"pair": f"random pairs (n={n_random}), mean", "attention": all_att[k].mean(),
                 "attention_pct": 50.0, "coexpression": all_co[k].mean(), "coexpression_pct": 50.0})  # fmt: skip
    rows.append({"pair": f"random pairs (n={n_random}), sd", "attention": all_att[k].std(),
                 "attention_pct": np.nan, "coexpression": all_co[k].std(), "coexpression_pct": np.nan})  # fmt: skip
    from scipy.stats import spearmanr

    df = pd.DataFrame(rows).set_index("pair")
    df.attrs["spearman_attention_vs_coexpression"] = float(spearmanr(all_att, all_co)[0])
    return df


@dataclass(frozen=True)
class VolumeEvaluation:
    """Everything ``crossscale volume evaluate`` reports.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per method (real, boundary, independent, overlap, regression, mean image);
        columns PSNR/SSIM per stain, ``polyt_density_r``, nucleus count and median area,
        ``seam_score``, ``dapi_power_<lo>-<hi>px`` (DAPI power in that wavelength band over the
        real images'), ``seconds``.
    attention : pandas.DataFrame
        See :func:`attention_pairs`.
    attention_matrix : numpy.ndarray, shape (n_genes, n_genes)
    images : dict of str to numpy.ndarray
        Held-out canvases per method, (n_stains, n_planes, H, W).
    borders : dict
        Patch borders per method.
    info : dict
        Region, sizes, seeds, timings.
    """

    metrics: pd.DataFrame
    attention: pd.DataFrame
    attention_matrix: np.ndarray
    images: dict[str, np.ndarray]
    borders: dict[str, dict[str, list[int]]]
    info: dict[str, Any] = field(default_factory=dict)


def evaluate_volume(
    model: Any,
    sample: Any,
    workdir: str | os.PathLike[str],
    *,
    regression: Any = None,
    schemes: tuple[str, ...] = ("boundary", "independent", "overlap"),
    seed: int = 0,
    max_rows: int | None = None,
    max_cols: int | None = None,
    batch_size: int = 16,
) -> VolumeEvaluation:
    """Generate the held-out region with each scheme and score it against the real stains.

    Parameters
    ----------
    model : VolumeDiffusion
        Fitted diffusion model (its ``train_cols_`` gives the training columns; the
        held-out region starts where they end).
    sample : SpatialSample
        The same data the model was trained on.
    workdir : path-like
        Folder for the generated OME-Zarrs (one per scheme).
    regression : VolumeDiffusion, optional
        A fitted regression baseline (same backbone). Default: the residual model's own
        regression net (its conditional mean, the row ``regression``); skipped for a plain
        diffusion model.
    schemes : tuple of str
        Generation schemes to compare.
    seed : int
        Noise seed.
    max_rows : int, optional
        Use only the first `max_rows` stain rows of the held-out region (quick runs).
    max_cols : int, optional
        Use only the first `max_cols` stain columns right of the training region (e.g. a
        validation strip of a model trained with a larger `holdout_fraction`, so that choices are
        never tuned on the test region).
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    evaluation : VolumeEvaluation
    """
    from crossscale.models.volume import generate, predict_canvas

    workdir = Path(workdir)
    r = model.ratio_
    win = int(model.params_["window"])
    core = win // 2
    _, _, h, w = sample.stains.shape
    start = int(model.train_cols_[1])
    width = (min(w - start, max_cols) if max_cols else w - start) // core * core
    height = (min(h, max_rows) if max_rows else h) // core * core
    if width < win or height < win:
        raise ParameterError(
            f"The held-out region ({h} x {w - start} stain px) is smaller than one window ({win})."
        )
    rows, cols = slice(0, height), slice(start, start + width)
    g = sample.genes.crop(slice(0, height // r), slice(start // r, (start + width) // r))
    real = np.asarray(sample.stains.data[:, :, rows, cols], np.float32)
    density = g.density()
    stains = tuple(sample.stains.stains)
    pix = float(sample.stains.grid.step)
    images: dict[str, np.ndarray] = {"real": real}
    borders: dict[str, dict[str, list[int]]] = {}
    seconds: dict[str, float] = {}
    grid = {"y": list(range(core, height, core)), "x": list(range(core, width, core))}
    borders["real"] = grid
    for scheme in schemes:
        t0 = time.perf_counter()
        res = generate(model, g, workdir / f"{scheme}.ome.zarr", scheme=scheme, seed=seed,
                       overwrite=True, batch_size=batch_size)  # fmt: skip
        seconds[scheme] = time.perf_counter() - t0
        images[scheme] = res.read()
        borders[scheme] = res.borders
    if regression is None and model.params_["objective"] == "residual":
        regression = model
    if regression is not None:
        t0 = time.perf_counter()
        images["regression"] = predict_canvas(regression, g, batch_size=batch_size)
        seconds["regression"] = time.perf_counter() - t0
        borders["regression"] = grid
    images["mean image"] = np.broadcast_to(model.stain_mean_[:, :, None, None], real.shape).copy()
    borders["mean image"] = grid
    rows_out = []
    areas: dict[str, list[float]] = {}
    spectra: dict[str, list[float]] = {}
    dapi_i = stains.index("dapi") if "dapi" in stains else 0
    freq, real_pow = radial_power_spectrum(real[dapi_i])
    real_bands = band_power(freq, real_pow)
    polyt_i = stains.index("polyT") if "polyT" in stains else len(stains) - 1
    for name, img in images.items():
        row: dict[str, Any] = {"method": name}
        row |= image_scores(real, img, stains) if name != "real" else {}
        row["polyt_density_r"] = density_correlation(img[polyt_i], density, r)
        nuc = segment_nuclei(img[dapi_i], pix) if name != "mean image" else {
            "count_per_plane": 0.0, "median_area_um2": float("nan")}  # fmt: skip
        row["nuclei_per_plane"] = nuc["count_per_plane"]
        row["nucleus_median_area_um2"] = nuc["median_area_um2"]
        areas[name] = [float(a) for a in nuc.get("areas_um2", [])]
        _, pw = radial_power_spectrum(img[dapi_i])
        spectra[name] = [float(v) for v in pw]
        for band, v in band_power(freq, pw).items():
            row[f"dapi_power_{band}"] = v / real_bands[band] if name != "mean image" else float("nan")
        row["seam_score"] = seam_score(img, borders[name]) if name != "mean image" else float("nan")
        row["seconds"] = seconds.get(name, float("nan"))
        rows_out.append(row)
    metrics = pd.DataFrame(rows_out).set_index("method")
    att = attention_matrix(model, g, seed=seed)
    pairs = attention_pairs(att, model.prepare_genes(sample.genes), seed=seed)
    info = {"region_stain_px": {"rows": [0, height], "cols": [start, start + width]},
            "region_um": {"x": [sample.stains.grid.x0 + start * pix,
                                sample.stains.grid.x0 + (start + width) * pix],
                          "y": [sample.stains.grid.y0, sample.stains.grid.y0 + height * pix]},
            "core": core, "halo": (win - core) // 2, "window": win, "seed": seed,
            "pixel_um": pix, "spearman_attention_vs_coexpression":
                pairs.attrs["spearman_attention_vs_coexpression"],
            "dapi_power_spectrum": {"freq_cycles_per_px": [float(f) for f in freq], **spectra},
            "nucleus_areas_um2": areas}  # fmt: skip
    return VolumeEvaluation(metrics, pairs, att, images, borders, info)
