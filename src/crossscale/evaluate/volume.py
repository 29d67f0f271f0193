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

logger = logging.getLogger(__name__)

KNOWN_PAIRS = (("Slc17a6", "Slc17a7"), ("Cldn5", "Aqp4"))
#: Octave bands of wavelength (stain px) of the texture metric.
POWER_BANDS_PX = ((2, 4), (4, 8), (8, 16), (16, 32), (32, 64))


def radial_power_spectrum(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of 2-D images (mean over leading axes).

    Each image has its mean removed and is tapered by a 2-D Hann window before the FFT.

    Parameters
    ----------
    img : numpy.ndarray, shape (..., H, W)
        Images (any intensity units); the spectrum is averaged over the leading axes.

    Returns
    -------
    freq : numpy.ndarray, shape (n,)
        Radial frequency (cycles per pixel), bin centres from ``1 / min(H, W)`` to 0.5.
    power : numpy.ndarray, shape (n,)
        Mean power |FFT|^2 / (H W) in each radial bin.
    """
    a = np.asarray(img, np.float64).reshape((-1,) + img.shape[-2:])
    h, w = a.shape[-2:]
    taper = np.outer(np.hanning(h), np.hanning(w))
    a = (a - a.mean(axis=(-2, -1), keepdims=True)) * taper
    p = (np.abs(np.fft.fft2(a)) ** 2).mean(0) / (h * w)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    rad = np.sqrt(fy**2 + fx**2)
    step = 1.0 / min(h, w)
    edges = np.arange(step / 2, 0.5 + step, step)
    idx = np.digitize(rad.ravel(), edges)
    n = len(edges)
    sums = np.bincount(idx, p.ravel(), minlength=n + 1)[1:n]
    cnt = np.bincount(idx, minlength=n + 1)[1:n]
    with np.errstate(invalid="ignore"):
        return (edges[:-1] + edges[1:]) / 2, sums / np.maximum(cnt, 1)


def band_power(freq: np.ndarray, power: np.ndarray,
               bands: tuple[tuple[int, int], ...] = POWER_BANDS_PX) -> dict[str, float]:  # fmt: skip
    """Mean power in octave bands of wavelength ``[lo, hi)`` px (frequency ``(1/hi, 1/lo]``).

    Returns
    -------
    power : dict
        ``"<lo>-<hi>px"`` -> mean power of the radial bins in the band (NaN if none).
    """
    out = {}
    for lo, hi in bands:
        sel = (freq > 1.0 / hi) & (freq <= 1.0 / lo)
        out[f"{lo}-{hi}px"] = float(power[sel].mean()) if sel.any() else float("nan")
    return out


def image_scores(real: np.ndarray, gen: np.ndarray, stains: tuple[str, ...]) -> dict[str, float]:
    """PSNR and SSIM per stain (averaged over planes).

    Parameters
    ----------
    real, gen : numpy.ndarray, shape (n_stains, n_planes, H, W)
        Images in [-1, 1].
    stains : tuple of str
        Names of the stains, in the order of the first axis (e.g. ``("dapi", "polyt")``).

    Returns
    -------
    scores : dict
        ``psnr_<stain>`` (dB) and ``ssim_<stain>``.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    out: dict[str, float] = {}
    for s, name in enumerate(stains):
        ps, ss = [], []
        for p in range(real.shape[1]):
            a, b = real[s, p].astype(np.float64), np.clip(gen[s, p], -1, 1).astype(np.float64)
            ps.append(peak_signal_noise_ratio(a, b, data_range=2.0))
            ss.append(structural_similarity(a, b, data_range=2.0))
        out[f"psnr_{name}"] = float(np.mean(ps))
        out[f"ssim_{name}"] = float(np.mean(ss))
    return out


def density_correlation(polyt: np.ndarray, density: np.ndarray, ratio: int, block: int = 12) -> float:
    """Pearson r of PolyT intensity with transcript density in blocks of `block` gene bins.

    Parameters
    ----------
    polyt : numpy.ndarray, shape (n_planes, H, W)
        PolyT image at stain resolution.
    density : numpy.ndarray, shape (n_planes, H / ratio, W / ratio)
        Transcripts per gene bin.
    ratio : int
        Stain pixels per gene bin.
    block : int
        Gene bins per block side (12 x 1.738 µm = 20.9 µm by default).

    Returns
    -------
    r : float
        Mean over planes.
    """
    rs = []
    for p in range(polyt.shape[0]):
        hb, wb = density.shape[1] // block, density.shape[2] // block
        if hb * wb < 3:
            return float("nan")
        d = density[p, : hb * block, : wb * block].reshape(hb, block, wb, block).sum((1, 3))
        k = block * ratio
        i = polyt[p, : hb * k, : wb * k].reshape(hb, k, wb, k).mean((1, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            rs.append(float(np.corrcoef(d.ravel(), i.ravel())[0, 1]))
    return float(np.mean(rs))


def segment_nuclei(dapi: np.ndarray, pixel_um: float, *, min_area_um2: float = 8.0,
                   max_area_um2: float = 400.0, background_um: float = 25.0) -> dict[str, Any]:
    """Classical nucleus segmentation of DAPI planes, with each nucleus's half-maximum area.

    Detection: Gaussian smoothing (SD 1 px), Otsu threshold [2]_, connected components; objects
    whose area above the threshold lies outside ``[min_area_um2, max_area_um2]`` are dropped
    (these are the counted nuclei). Size: the area of the connected region around each nucleus's
    peak that lies above half its height over the local background (a morphological opening of
    the smoothed plane with a square of side `background_um`) -- the full-width-at-half-maximum
    area. A global threshold alone would make the size of an isolated nucleus depend on what
    else the image holds (a bright cell layer elsewhere raises it and shrinks every nucleus) and
    on its contrast, so real and generated images of different layouts would not be measured
    alike.

    Parameters
    ----------
    dapi : numpy.ndarray, shape (n_planes, H, W)
        DAPI in [-1, 1].
    pixel_um : float
        Pixel size (µm).
    min_area_um2, max_area_um2 : float
        Objects outside this area range (debris; merged clusters of a dense cell layer) are
        discarded.
    background_um : float
        Side of the opening that estimates the local background (µm; a few nucleus diameters).

    Returns
    -------
    nuclei : dict
        ``count_per_plane`` (mean), ``median_area_um2`` (half-maximum areas), ``areas_um2``
        (all planes).
    """
    from scipy import ndimage as ndi
    from skimage.filters import gaussian, threshold_otsu
    from skimage.measure import label, regionprops

    side = max(3, int(round(background_um / pixel_um)) | 1)
    areas, counts = [], []
    for p in range(dapi.shape[0]):
        img = gaussian(dapi[p].astype(np.float64), sigma=1.0)
        if np.ptp(img) < 1e-6:
            counts.append(0)
            continue
        lab = label(img > threshold_otsu(img))
        bg = ndi.grey_opening(img, size=(side, side))
        a = []
        for r in regionprops(lab):
            if not min_area_um2 <= r.area * pixel_um**2 <= max_area_um2:
                continue
            (y0, x0, y1, x1), h, w = r.bbox, r.bbox[2] - r.bbox[0], r.bbox[3] - r.bbox[1]
            y0, x0 = max(y0 - h, 0), max(x0 - w, 0)
            y1, x1 = min(y1 + h, img.shape[0]), min(x1 + w, img.shape[1])
            sub = img[y0:y1, x0:x1]
            peak = np.unravel_index(np.argmax(np.where(lab[y0:y1, x0:x1] == r.label, sub, -np.inf)), sub.shape)
            base = bg[y0 + peak[0], x0 + peak[1]]
            half = label(sub > base + 0.5 * (sub[peak] - base))
            a.append(float((half == half[peak]).sum()) * pixel_um**2)
        areas.append(np.asarray(a, float))
        counts.append(len(a))
    allareas = np.concatenate(areas) if areas else np.zeros(0)
    return {"count_per_plane": float(np.mean(counts)),
            "median_area_um2": float(np.median(allareas)) if len(allareas) else float("nan"),
            "areas_um2": allareas}  # fmt: skip


def seam_score(img: np.ndarray, borders: dict[str, list[int]]) -> float:
    """Mean |difference| across patch borders / the same at patch midlines (1.0 = no seams).

    Parameters
    ----------
    img : numpy.ndarray, shape (..., H, W)
        The assembled canvas.
    borders : dict
        ``{"y": rows, "x": cols}``: index ``b`` means a border between pixels ``b - 1`` and ``b``.

    Returns
    -------
    score : float
        Ratio of the mean absolute neighbour difference across borders to the same at the
        midpoints between consecutive borders (matched offsets inside patches).
    """
    num, den = [], []
    for axis, key in ((-2, "y"), (-1, "x")):
        bs = sorted(borders.get(key, []))
        if not bs:
            continue
        n = img.shape[axis]
        edges = [0, *bs, n]
        mids = [(a + b) // 2 for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a >= 2]
        diff = np.abs(np.diff(img, axis=axis))  # diff[k] = x[k + 1] - x[k]
        num.append(np.take(diff, [b - 1 for b in bs], axis=axis).mean())
        den.append(np.take(diff, [m - 1 for m in mids if m >= 1], axis=axis).mean())
    if not num:
        return float("nan")
    return float(np.mean(num) / np.mean(den))


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
        Fitted diffusion model (its ``history_.train_cols`` gives the training columns; the
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
    start = int(model.history_.train_cols[1])
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
