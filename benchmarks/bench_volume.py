"""Benchmark of `crossscale volume`: train, evaluate on the held-out quarter, scale run.

Writes benchmarks/results/volume.md (commit, command, parameters, every metric of the issue's
point 5 for the diffusion model and each baseline, training time, patches/s, and a scale run on a
tiled canvas with patches/s, peak memory and the extrapolated time to 1e12 voxels).

CPU smoke budget by default (one torch thread, smoke model); pass --preset default on a GPU. The
default model can be one trained by `crossscale volume train` (--default-model, with the
/usr/bin/time log of that run as --train-time-log), so that its training time is the CLI's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "volume.md"


def _commit() -> str:
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def _md(df) -> str:  # noqa: ANN001
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, *row in df.itertuples(name=None):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join(lines)


def _time_log(path: str | None) -> dict:
    """Wall, CPU and peak RSS from a `/usr/bin/time -v` log; load averages from an `uptime` file."""
    if not path:
        return {}
    text = Path(path).read_text()
    out: dict = {"log": path}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Command being timed:"):
            out["command"] = line.split(":", 1)[1].strip().strip('"')
        elif line.startswith("User time (seconds):"):
            out["user_s"] = float(line.split(":")[1])
        elif line.startswith("System time (seconds):"):
            out["sys_s"] = float(line.split(":")[1])
        elif line.startswith("Elapsed (wall clock) time"):
            parts = [float(v) for v in line.rsplit(" ", 1)[1].split(":")]
            out["wall_s"] = sum(v * 60**k for k, v in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            out["max_rss_mb"] = int(line.split(":")[1]) / 1024
        elif line.startswith("Exit status:"):
            out["exit_status"] = int(line.split(":")[1])
    load = Path(path).with_suffix(".load")
    if load.exists():
        out["load_average"] = [ln.split("load average:")[1].strip() for ln in load.read_text().splitlines()
                               if "load average:" in ln]  # fmt: skip
    return out


def _aims(m, row: str) -> list[tuple[str, bool, str]]:  # noqa: ANN001
    """The 'Done when' checks of issue 20 for one row of the metrics table."""
    real, b, mean = m.loc["real"], m.loc[row], m.loc["mean image"]
    bands = [c for c in m.columns if c.startswith("dapi_power_")]
    psnr = [c for c in m.columns if c.startswith("psnr_")]
    ssim = [c for c in m.columns if c.startswith("ssim_")]
    out = [
        ("PolyT-density r within 0.1 of the real images'", abs(b["polyt_density_r"] - real["polyt_density_r"]) <= 0.1,
         f"{b['polyt_density_r']:.3f} vs {real['polyt_density_r']:.3f}"),
        ("PSNR (both stains) above the mean image", all(b[c] > mean[c] for c in psnr),
         ", ".join(f"{c} {b[c]:.2f} vs {mean[c]:.2f}" for c in psnr)),
        ("SSIM (both stains) above the mean image", all(b[c] > mean[c] for c in ssim),
         ", ".join(f"{c} {b[c]:.3f} vs {mean[c]:.3f}" for c in ssim)),
        ("nuclei per plane within 25% of the real", abs(b["nuclei_per_plane"] / real["nuclei_per_plane"] - 1) <= 0.25,
         f"{b['nuclei_per_plane']:.1f} vs {real['nuclei_per_plane']:.1f}"),
        ("median nucleus area within 25% of the real",
         abs(b["nucleus_median_area_um2"] / real["nucleus_median_area_um2"] - 1) <= 0.25,
         f"{b['nucleus_median_area_um2']:.1f} vs {real['nucleus_median_area_um2']:.1f} um2"),
        ("DAPI power within 25% of the real in every band", all(abs(b[c] - 1) <= 0.25 for c in bands),
         ", ".join(f"{c[len('dapi_power_'):]} {b[c]:.2f}" for c in bands)),
        ("seam score within 10% of 1.0", abs(b["seam_score"] - 1) <= 0.1, f"{b['seam_score']:.3f}"),
    ]  # fmt: skip
    if "independent" in m.index and row == "boundary":
        out.append(("seam score below independent tiles", b["seam_score"] < m.loc["independent", "seam_score"],
                    f"{b['seam_score']:.3f} vs {m.loc['independent', 'seam_score']:.3f}"))  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="smoke")
    ap.add_argument("--max-iter", type=int, default=None, help="default: the preset's")
    ap.add_argument("--steps", type=int, default=None,
                    help="DDIM steps of the samples (default: each model's own num_inference_steps)")
    ap.add_argument("--eta", type=float, default=None, help="DDIM eta of the samples (default: each model's own)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--default-model", default=None,
                    help="a 'crossscale volume train' folder of the default model (else trained here)")
    ap.add_argument("--train-time-log", default=None,
                    help="/usr/bin/time -v log of that training (a .load file beside it: uptime before/after)")
    ap.add_argument("--plain-model", default=None, help="a trained plain-diffusion folder (else trained here)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain-diffusion row (reported as not run)")
    ap.add_argument("--max-rows", type=int, default=None, help="only the first rows of the held-out region")
    ap.add_argument("--scale-sizes", default="512x512,1024x1024")
    ap.add_argument("--scale-steps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figures", default=str(OUT.parent / "volume_figures"))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    commit = _commit()  # at the start: the code that runs is the code of this commit
    load_start = os.getloadavg()

    import torch

    torch.set_num_threads(args.threads)
    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.evaluate.volume_metrics import POWER_BANDS_PX
    from crossscale.models.volume import VolumeDiffusion
    from crossscale.spatial import load_vizgen_mini, teramind_overlap

    t0 = time.perf_counter()
    sample = load_vizgen_mini(bin_px=16, downsample=8)
    t_load = time.perf_counter() - t0
    kw = dict(preset=args.preset, max_iter=args.max_iter, random_state=args.seed, device=args.device)
    work = Path(tempfile.mkdtemp(prefix="bench_volume_"))
    if args.default_model:
        model_dir = Path(args.default_model)
        res = VolumeDiffusion.load(model_dir / "model", device=args.device)
    else:
        model_dir = work / "model"
        res = VolumeDiffusion(**kw).fit(sample)
        res.save(model_dir / "model")
    if args.no_plain:
        plain = None
    elif args.plain_model:
        plain = VolumeDiffusion.load(Path(args.plain_model) / "model", device=args.device)
    else:
        plain = VolumeDiffusion(objective="diffusion", **kw).fit(sample)
        plain.save(work / "plain" / "model")
    for m_ in (res, plain):  # sampler settings: they need no retraining
        if m_ is not None:
            m_.set_sampler(num_inference_steps=args.steps, eta=args.eta)
    steps = int(res.params_["num_inference_steps"])
    train_time = _time_log(args.train_time_log)
    t0 = time.perf_counter()
    ev = evaluate_volume(res, sample, work / "eval", seed=args.seed, max_rows=args.max_rows)
    t_eval = time.perf_counter() - t0
    ev_plain = None if plain is None else evaluate_volume(plain, sample, work / "eval_plain", schemes=("boundary",),
                                                          seed=args.seed, max_rows=args.max_rows)  # fmt: skip
    ov = teramind_overlap(sample.genes)

    scale_rows = []
    for size in args.scale_sizes.split(","):
        out = work / f"scale_{size}"
        p = subprocess.run([sys.executable, "-c", "from crossscale.cli.main import run; run()", "volume",
                            "generate", "--model", str(model_dir), "--out", str(out), "--size", size,
                            "--steps", str(args.scale_steps), "--threads", str(args.threads),
                            "--device", args.device], capture_output=True, text=True)  # fmt: skip
        if p.returncode:
            raise SystemExit(p.stderr[-2000:])
        r = json.loads((out / "run.json").read_text())["results"]
        scale_rows.append({"canvas (c, z, y, x)": "x".join(map(str, r["shape"])),
                           "voxels": r["voxels"], "patches/step": r["n_patches_per_step"],
                           "DDIM steps run": r["n_steps"], "seconds": r["seconds"],
                           "patches/s": r["patches_per_s"], "voxels/s (all steps)": r["voxels_per_s"],
                           "RSS before generation (MB)": r["rss_before_generation_mb"],
                           "peak RSS during generation (MB)": r["peak_rss_during_generation_mb"],
                           f"EXTRAPOLATED h to 1e12 voxels ({steps} steps)":
                               r["extrapolated_hours_to_1e12_voxels"] * steps / r["n_steps"]})  # fmt: skip

    import pandas as pd

    m = ev.metrics.copy()
    if ev_plain is not None:
        pm = ev_plain.metrics.loc[["boundary"]].rename(index={"boundary": "plain diffusion (boundary)"})
        m = pd.concat([m, pm])
    gen_seconds = {k: v for k, v in m["seconds"].items() if v == v}
    n_patch = (ev.info["region_stain_px"]["rows"][1] // ev.info["core"]) * (
        (ev.info["region_stain_px"]["cols"][1] - ev.info["region_stain_px"]["cols"][0]) // ev.info["core"])
    n_steps = {k: steps for k in gen_seconds} | (
        {"plain diffusion (boundary)": int(plain.params_["num_inference_steps"])} if plain is not None else {})
    pps = {k: n_patch * n_steps[k] / v for k, v in gen_seconds.items()
           if k in ("boundary", "independent", "overlap", "plain diffusion (boundary)")}  # fmt: skip
    m = m.drop(columns=["seconds"])
    aims = {row: _aims(m, row) for row in ("boundary", "plain diffusion (boundary)", "regression") if row in m.index}

    figs = Path(args.figures)
    figs.mkdir(parents=True, exist_ok=True)
    # every figure records the commit and the command that made it (PNG "Description" text)
    stamp = {"Description": f"crossscale commit {commit}; command python "
                            + " ".join(["benchmarks/bench_volume.py", *sys.argv[1:]])}  # fmt: skip
    from crossscale.plotting.volume import (
        plot_attention_matrix,
        plot_crops,
        plot_nucleus_areas,
        plot_power_spectra,
    )

    imgs = {"real": ev.images["real"], "residual (boundary)": ev.images["boundary"],
            "regression mean": ev.images["regression"]}
    if ev_plain is not None:
        imgs["plain diffusion"] = ev_plain.images["boundary"]
    crop = (slice(0, 128), slice(0, 128))
    plot_crops(imgs, list(res.stains_), crop=crop, px_per_inch=100).savefig(figs / "crops_z0.png", dpi=100, metadata=stamp)
    diff = {k: v - ev.images["regression"] for k, v in imgs.items() if k != "regression mean"}
    plot_crops(diff, list(res.stains_), crop=crop, cmap="RdBu_r", px_per_inch=100).savefig(
        figs / "difference_to_regression_mean_z0.png", dpi=100, metadata=stamp)
    areas = dict(ev.info["nucleus_areas_um2"])
    spec = dict(ev.info["dapi_power_spectrum"])
    if ev_plain is not None:
        areas["plain diffusion"] = ev_plain.info["nucleus_areas_um2"]["boundary"]
        spec["plain diffusion"] = ev_plain.info["dapi_power_spectrum"]["boundary"]
    shown = [k for k in ("real", "boundary", "plain diffusion", "regression") if k in areas]
    plot_nucleus_areas({k: areas[k] for k in shown}).savefig(figs / "nucleus_areas.png", dpi=100, metadata=stamp)
    plot_power_spectra(spec["freq_cycles_per_px"], {k: spec[k] for k in shown},
                       pixel_um=ev.info["pixel_um"], bands=POWER_BANDS_PX).savefig(figs / "dapi_power_spectra.png", dpi=100, metadata=stamp)
    known = [g for pair in ("Slc17a6", "Slc17a7", "Cldn5", "Aqp4") for g in [pair] if g in res.genes_]
    plot_attention_matrix(ev.attention_matrix, list(res.genes_), highlight=known).savefig(
        figs / "gene_gene_attention.png", dpi=100, metadata=stamp)

    params = res.params_
    cmd = "python " + " ".join(["benchmarks/bench_volume.py", *sys.argv[1:]])
    tt = train_time
    train_line = (f"Default training (`{tt.get('command')}`, no options but --out): wall {tt['wall_s']:.0f} s, "
                  f"CPU {tt['user_s'] + tt['sys_s']:.0f} s (user {tt['user_s']:.0f} + sys {tt['sys_s']:.0f}), "
                  f"peak RSS {tt['max_rss_mb']:.0f} MB, load average (1, 5, 15 min) before / after: "
                  f"{' / '.join(tt.get('load_average', []))}; exit status {tt.get('exit_status')}. "
                  f"fit() time recorded in the checkpoint: {res.fit_time_s_:.0f} s."
                  if tt else f"Default model trained in this run: fit() {res.fit_time_s_:.0f} s (wall).")  # fmt: skip
    text = [
        "# crossscale volume: gene-conditioned tissue generation (Tera-MIND style)",
        "",
        f"Commit `{commit}`; command `{cmd}`; machine {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.threads} torch thread(s) for evaluation, device {args.device}; load average at the start "
        f"{load_start[0]:.1f} / {load_start[1]:.1f} / {load_start[2]:.1f} and at the end "
        + "{load_end}" + " (the 2-core machine is shared with other jobs). No GPU was lent to this task: "
        "**all times are CPU times; the GPU rows are not run.**",
        "",
        f"Data: GiottoData Vizgen MERSCOPE crop, {len(sample.genes.genes)} genes x 2 planes, gene bins of "
        f"16 image px ({sample.genes.grid.step:.3f} um), stains downsampled 8x ({sample.stains.grid.step:.3f} um/px), "
        f"{sample.genes.dropped['n_blank_transcripts']} blank-control transcripts of "
        f"{len(sample.genes.dropped['blank_genes'])} blanks dropped. Tera-MIND panel overlap: "
        f"{int(ov['63885'].sum())} genes in panel 63885, {int(ov['60988'].sum())} in 60988, "
        f"{int((ov['63885'] & ov['60988']).sum())} in both, {len(ov)} in either. Load {t_load:.1f} s.",
        "",
        f"Default model (residual diffusion on a regression mean, CorrDiff): preset `{params['preset']}` "
        f"({', '.join(f'{k}={v}' for k, v in params.items())}); "
        f"{sum(p.numel() for p in res.module_.parameters()):,} diffusion + "
        f"{sum(p.numel() for p in res.regression_module_.parameters()):,} regression parameters; "
        f"final diffusion loss {res.history_.loss[-50:].mean():.4f}.",
        "",
        train_line,
        "",
        (f"Plain diffusion (objective='diffusion', same preset, {plain.params_['prediction_type']}, "
         f"{plain.params_['max_iter']} iterations): fit {plain.fit_time_s_:.0f} s." if plain is not None else
         "Plain diffusion: **not run** in this benchmark run (--no-plain)."),
        "",
        f"## Held-out region (stain px rows {ev.info['region_stain_px']['rows']}, cols "
        f"{ev.info['region_stain_px']['cols']}; x {ev.info['region_um']['x'][0]:.1f}-"
        f"{ev.info['region_um']['x'][1]:.1f} um): never trained on, no choice tuned on it",
        "",
        f"Patch core {ev.info['core']} px, halo {ev.info['halo']} px, window {ev.info['window']} px; "
        f"DDIM {steps} steps; seed {args.seed}. Evaluation wall time {t_eval:.1f} s. Rows: "
        "`boundary`/`independent`/`overlap` = samples of the default residual model by each scheme; "
        "`regression` = the default model's regression mean alone (Hann-blended); `plain diffusion "
        "(boundary)` = the plain-diffusion option; `mean image` = training mean per stain and plane. "
        "`dapi_power_<lo>-<hi>px` = DAPI power in that wavelength band over the real images'. "
        "`nucleus_median_area_um2` = median half-maximum area of the detected nuclei (area above half "
        "the nucleus's height over the local background; `segment_nuclei`). Up to 8a698b2 it was the "
        "area above a per-image Otsu threshold, which moved with the image's layout (real images: 69 "
        "um2 on the training columns, 44 on this region; now 49 and 55).",
        "",
        _md(m),
        "",
        "Generation speed on the held-out region (patch evaluations per second over all steps): "
        + ", ".join(f"{k} {v:.2f}" for k, v in pps.items()) + ".",
        "",
        "## Aims of issue 20 (diffusion samples, not the regression mean)",
        "",
    ]
    for row, checks in aims.items():
        text += [f"**{row}**", ""]
        text += [f"- {name}: {'reached' if ok else '**NOT reached**'} ({detail})" for name, ok, detail in checks]
        text.append("")
    text += [
        "## Gene-gene attention (default model)",
        "",
        _md(ev.attention),
        "",
        f"Spearman r of attention with co-expression over all gene pairs: "
        f"{ev.info['spearman_attention_vs_coexpression']:.3f}.",
        "",
        "## Scale run with the default model (gene field tiled periodically: replicated conditioning, not new data)",
        "",
        _md(pd.DataFrame(scale_rows).set_index("canvas (c, z, y, x)")),
        "",
        f"Each canvas ran {args.scale_steps} DDIM step(s) (plus the regression mean, computed once per "
        f"canvas and not in `seconds`). The 1e12-voxel times are **linear extrapolations** of the measured "
        f"voxels/s to {steps} steps, not measurements. RSS is of the whole generating process (torch, "
        "the model and the loaded crop included); the peak during generation is the kernel's high-water "
        "mark after a reset at the start of generation (/proc/self/clear_refs).",
        "",
        "## GPU (`--preset default --device cuda`)",
        "",
        "Not run: no GPU was lent to this task. Recipe (one script within the device time): "
        "`python benchmarks/bench_volume.py --preset default --device cuda --threads 8 "
        "--scale-sizes 2048x2048,4096x4096 --out benchmarks/results/volume_gpu.md --figures "
        "benchmarks/results/volume_gpu_figures`.",
        "",
        f"Figures (real vs generated crops at full resolution, difference to the regression mean, nucleus "
        f"areas, DAPI power spectra, gene-gene attention with the known-pair genes in red): `{figs.relative_to(Path(__file__).parent.parent) if figs.is_relative_to(Path(__file__).parent.parent) else figs}/`.",
        "",
    ]
    load_end = os.getloadavg()
    body = "\n".join(text).replace("{load_end}", f"{load_end[0]:.1f} / {load_end[1]:.1f} / {load_end[2]:.1f}")
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(body)
    print(body)


if __name__ == "__main__":
    main()
