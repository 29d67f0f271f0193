"""Image metrics of generated tissue against real stains.

PSNR/SSIM, PolyT-density r, nuclei, seams and the DAPI power spectrum, used by
:func:`crossscale.evaluate.volume.evaluate_volume`.

References
----------
.. [1] Wang Z. et al. (2004). Image quality assessment: from error visibility to structural
   similarity. IEEE Trans Image Process 13, 600-612 (SSIM).
.. [2] Otsu N. (1979). A threshold selection method from gray-level histograms. IEEE Trans Syst
   Man Cybern 9, 62-66.
.. [3] van der Schaaf A., van Hateren J. H. (1996). Modelling the power spectra of natural
   images. Vision Res 36, 2759-2770 (radially averaged power spectra).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crossscale._errors import ParameterError

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
        Side of the opening that estimates the local background (µm); at least the diameter of a
        disk of `max_area_um2`.

    Returns
    -------
    nuclei : dict
        ``count_per_plane`` (mean), ``median_area_um2`` (half-maximum areas), ``areas_um2``
        (all planes).

    Raises
    ------
    ParameterError
        If `background_um` is narrower than the largest nucleus kept.
    """
    from scipy import ndimage as ndi
    from skimage.filters import gaussian, threshold_otsu
    from skimage.measure import label, regionprops

    widest = 2 * np.sqrt(max_area_um2 / np.pi)
    if background_um < widest:
        raise ParameterError(
            f"background_um ({background_um}) must be at least {widest:.1f} um, the diameter of the "
            f"largest nucleus kept (max_area_um2 = {max_area_um2}); a narrower opening takes a "
            "nucleus for its own background. Raise background_um or lower max_area_um2."
        )
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
