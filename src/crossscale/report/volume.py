"""The ``crossscale volume evaluate`` report: real vs generated tissue, seams, attention."""

from __future__ import annotations

from typing import Any

from crossscale.report.html import Report, escape


def build_volume_report(evaluation: Any, *, model_info: dict[str, Any], genes: list[str],
                        scale: dict[str, Any] | None = None) -> Report:  # fmt: skip
    """Assemble the evaluation report.

    Parameters
    ----------
    evaluation : crossscale.evaluate.volume.VolumeEvaluation
        Scores of every scheme and baseline.
    model_info : dict
        Parameters and training time of the model (from its checkpoint).
    genes : list of str
        The model's gene panel (attention axis labels).
    scale : dict, optional
        A scale run (``patches_per_s``, ``peak_rss_mb``, ``extrapolated_hours_1e12``, shape).

    Returns
    -------
    Report
    """
    from crossscale.evaluate.volume_metrics import POWER_BANDS_PX
    from crossscale.plotting.volume import (
        plot_attention_matrix,
        plot_crops,
        plot_nucleus_areas,
        plot_power_spectra,
        plot_seam_maps,
    )

    ev = evaluation
    m = ev.metrics
    rep = Report("crossscale volume evaluate",
                 subtitle="gene-conditioned tissue generation on the held-out region")  # fmt: skip
    rep.add_heading("Summary", 2)
    real_r = m.loc["real", "polyt_density_r"]
    lines = []
    if "boundary" in m.index:
        b = m.loc["boundary"]
        lines.append(f"Seam score (1.0 = invisible): boundary-aware {b['seam_score']:.3f}"
                     + "".join(f", {k} {m.loc[k, 'seam_score']:.3f}" for k in ("independent", "overlap")
                               if k in m.index) + ".")  # fmt: skip
        lines.append(f"PolyT-transcript density r: real {real_r:.3f}, generated {b['polyt_density_r']:.3f}.")
        for col in [c for c in m.columns if c.startswith(("psnr_", "ssim_"))]:
            lines.append(f"{escape(col)}: boundary {b[col]:.3f} vs mean image {m.loc['mean image', col]:.3f}"
                         + (f", regression {m.loc['regression', col]:.3f}" if "regression" in m.index else "")
                         + ".")  # fmt: skip
    rep.add_paragraph("<br>".join(lines))
    rep.add_note(
        "The seam score compares neighbour differences across patch borders with those inside "
        "patches; on images without structure (an untrained model's noise) it is close to 1.0 for "
        "every scheme, so it discriminates between schemes only once the model makes tissue.",
        "info")  # fmt: skip
    rep.add_note(
        "The held-out region (rightmost part of the crop) was never used for training. The CPU "
        "smoke model is small (tens of thousands of parameters): compare it with the real "
        "images and the regression mean, not with published models.", "warning")  # fmt: skip
    rep.add_key_values({"region (um)": f"x {ev.info['region_um']['x'][0]:.1f}-{ev.info['region_um']['x'][1]:.1f}, "
                                       f"y {ev.info['region_um']['y'][0]:.1f}-{ev.info['region_um']['y'][1]:.1f}",
                        "patch core / halo / window (px)": f"{ev.info['core']} / {ev.info['halo']} / {ev.info['window']}",
                        "stain pixel (um)": ev.info["pixel_um"], "seed": ev.info["seed"],
                        "training time (s)": model_info.get("fit_time_s", model_info.get("train_seconds")),
                        "model": ", ".join(f"{k}={v}" for k, v in model_info.get("parameters", {}).items())})  # fmt: skip
    rep.add_heading("Metrics", 2)
    rep.add_table(m, caption="Held-out metrics per method (real = the real stains themselves).")
    rep.add_heading("Real vs generated", 2)
    shown = {k: v for k, v in ev.images.items() if k != "mean image"}
    h, w = next(iter(shown.values())).shape[-2:]
    crop = (slice(0, min(h, 128)), slice(0, min(w, 128)))
    stains = list(model_info.get("stains", ["dapi", "polyT"]))
    for z in range(next(iter(shown.values())).shape[1]):
        rep.add_figure(plot_crops(shown, stains, plane=z, crop=crop, px_per_inch=100), dpi=100,
                       caption=f"Plane z{z} of the held-out region at full resolution (one stain "
                               "pixel per figure pixel, 128 x 128 px): real stains and each method "
                               "side by side, both stains.")  # fmt: skip
    if "regression" in ev.images:
        mean = ev.images["regression"]
        diff = {k: v - mean for k, v in shown.items() if k != "regression"}
        rep.add_figure(plot_crops(diff, stains, plane=0, crop=crop, cmap="RdBu_r",
                                  vrange=(-1.0, 1.0), px_per_inch=100), dpi=100,
                       caption="Difference to the regression mean (plane z0): what the diffusion "
                               "model adds to the conditional mean, next to the real residual.")  # fmt: skip
    rep.add_heading("Nuclei and texture", 2)
    if ev.info.get("nucleus_areas_um2"):
        rep.add_figure(plot_nucleus_areas({k: v for k, v in ev.info["nucleus_areas_um2"].items()
                                           if k != "mean image"}),
                       caption="Half-maximum areas of the nuclei detected in DAPI (Gaussian, Otsu, "
                               "8-400 um^2), both planes.")  # fmt: skip
    spec = ev.info.get("dapi_power_spectrum")
    if spec:
        rep.add_figure(plot_power_spectra(spec["freq_cycles_per_px"],
                                          {k: v for k, v in spec.items()
                                           if k not in ("freq_cycles_per_px", "mean image")},
                                          pixel_um=ev.info["pixel_um"], bands=POWER_BANDS_PX),
                       caption="Radially averaged power spectrum of DAPI (Hann-tapered, both "
                               "planes). Dotted lines: the wavelength bands of the dapi_power_* "
                               "columns (power over the real images').")  # fmt: skip
    rep.add_heading("Seams", 2)
    seams = {k: v for k, v in ev.images.items() if k != "mean image"}
    rep.add_figure(plot_seam_maps({k: v[:, :, crop[0]] for k, v in seams.items()}, ev.borders,
                                  m["seam_score"].to_dict()),
                   caption="Gradient magnitude with the patch borders of each scheme (cyan). "
                           "Seam score: mean |difference| across borders / at patch midlines.")  # fmt: skip
    rep.add_heading("Gene-gene attention", 2)
    rep.add_table(ev.attention, caption="Known pairs: symmetrised attention and co-expression "
                  "(Pearson r of log1p counts over bins), with percentiles among all gene pairs.")  # fmt: skip
    rep.add_paragraph(f"Spearman correlation of attention with co-expression over all pairs: "
                      f"{ev.info['spearman_attention_vs_coexpression']:.3f}.")  # fmt: skip
    hl = [g for p in ("Slc17a6", "Slc17a7", "Cldn5", "Aqp4") for g in [p] if g in genes]
    rep.add_figure(plot_attention_matrix(ev.attention_matrix, genes, highlight=hl),
                   caption="Mean gene-gene attention (genes with the largest attention mass; known "
                           "pair genes in red).")  # fmt: skip
    if scale:
        rep.add_heading("Scale run", 2)
        rep.add_note("The scale run tiles the real gene field periodically: replicated conditioning, "
                     "not new data.", "info")  # fmt: skip
        rep.add_key_values(scale)
    rep.add_heading("Methods", 2)
    rep.add_paragraph(
        "Gene fields: MERFISH transcripts binned to 16 image pixels (1.74 um), log1p, divided by "
        "each gene's maximum; blanks dropped. Stains: DAPI and PolyT of both planes, block-mean "
        "downsampled, scaled to [-1, 1], then standardised per stain (training-region mean and SD). "
        "Model: gene-gene self-attention over gene tokens, a gene "
        "feature pyramid concatenated at every level of an anisotropic 3D UNet (in-plane "
        "down-sampling only). Default objective (CorrDiff, Mardani 2024): a regression UNet "
        "predicts the conditional mean of the stains, a diffusion UNet the residual divided by "
        "its per-stain SD, trained as a DDPM with v-prediction and an EMA of the weights (MONAI "
        "scheduler), sampled with DDIM (eta 0, no clipping) on the scheduler's own timestep grid "
        "[Wu 2025; Ho 2020; Song 2021; Salimans 2022]; the regression mean is Hann-averaged over "
        "overlapping windows. "
        "Boundary-aware generation: every patch "
        "sees a halo of its neighbours' current state at every step, all patches in lock-step, "
        "position-seeded initial noise. Baselines: independent tiles, overlap-averaged windows, a "
        "regression net with the same backbone, and the training mean image. Nuclei: Gaussian "
        "(sigma 1 px), Otsu threshold, connected components of 8-400 um^2; each nucleus's size is "
        "its area above half its height over the local background (opening of 25 um).")
    rep.add_html("<ol class=references><li>Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain "
                 "simulation via spatial mRNA-guided diffusion. arXiv:2503.01220.</li>"
                 "<li>Ho J., Jain A., Abbeel P. (2020). Denoising diffusion probabilistic models. "
                 "NeurIPS.</li><li>Song J., Meng C., Ermon S. (2021). Denoising diffusion implicit "
                 "models. ICLR.</li><li>Mardani M. et al. (2024). Residual corrective diffusion modeling "
                 "for km-scale atmospheric downscaling. arXiv:2309.15214.</li><li>Salimans T., Ho J. "
                 "(2022). Progressive distillation for fast sampling of diffusion models. ICLR.</li>"
                 "<li>Vizgen (2021). MERFISH Mouse Brain Receptor Map.</li></ol>")  # fmt: skip
    return rep
