"""Ablation of the volume model's texture: one change at a time from the default, on a validation strip.

Every variant trains on the columns left of a 40% hold-out (``holdout_fraction=0.4``) and is scored
on the validation strip between that and the test region of ``bench_volume.py`` (stain columns
344-430 of the Vizgen crop, cropped to whole patch cores): no choice is tuned on the test region.
Samples come from the boundary-aware scheme (DDIM, the model's steps). Each run appends its row to
``results/volume_ablation.csv`` (with commit, command, load average and train time) and rewrites
``results/volume_ablation.md`` whole from that file.

Variants that change only how samples are drawn (:data:`SAMPLER_KEYS`, e.g. the number of DDIM
steps) reuse the trained model of the same training configuration from ``--model-cache`` (trained
and saved there on first use), so they cost a generation, not a training; their row records the
training time of that cached model and ``reused_model=True``.

Diagnostic columns: ``dapi_sd_ratio`` / ``polyT_sd_ratio`` (SD of the generated stain over the
real one's) and ``residual_sd_ratio_<stain>`` (SD of sample minus regression mean over that of
real minus regression mean; residual models only).

Usage: ``python benchmarks/bench_volume_ablation.py --variants base,min_snr5 --max-iter 1000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

#: One change each from the default model (VolumeDiffusion() with the smoke preset).
VARIANTS: dict[str, dict] = {
    "base": {},
    "min_snr5": {"min_snr_gamma": 5.0},
    "time_dim32": {"time_dim": 32},
    "noise_offset0.1": {"noise_offset": 0.1},
    "noise_offset0.3": {"noise_offset": 0.3},
    "window64_batch2": {"window": 64, "batch_size": 2},
    "fine_capacity_16": {"channels": (16, 16, 32)},
    "epsilon": {"prediction_type": "epsilon"},
    "no_ema": {"ema_decay": None},
    "plain_diffusion": {"objective": "diffusion"},
    "steps20": {"num_inference_steps": 20},
    "steps50": {"num_inference_steps": 50},
    "steps5": {"num_inference_steps": 5},
    "eta0.5": {"eta": 0.5},
    "eta1": {"eta": 1.0},
    "contrast0.9": {"contrast": 0.9},
    "contrast0.8": {"contrast": 0.8},
    "contrast0.7": {"contrast": 0.7},
    "x0_prediction": {"prediction_type": "sample"},
    "regression_iter2000": {"regression_iter": 2000},
}

#: Parameters that change only the sampler: such variants reuse the trained model.
SAMPLER_KEYS = ("num_inference_steps", "eta", "contrast")
#: Source files that define a trained model (with VolumeDiffusion.fit and PRESETS: the cache key
#: of --model-cache).
TRAIN_CODE = ("models/volume/module.py", "train/plan.py")


def _commit() -> str:
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="base")
    ap.add_argument("--max-iter", type=int, default=None, help="diffusion steps (default: the preset's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model-cache", default=str(Path(tempfile.gettempdir()) / "crossscale_volume_ablation"),
                    help="folder of trained models reused by sampler-only variants")
    ap.add_argument("--results", default=str(RESULTS), help="folder of volume_ablation.csv / .md")
    args = ap.parse_args()
    commit = _commit()
    results = Path(args.results)
    csv, md = results / "volume_ablation.csv", results / "volume_ablation.md"

    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.models.volume import VolumeDiffusion
    from crossscale.models.volume.estimator import PRESETS
    from crossscale.models.volume.fitted import holdout_start
    from crossscale.spatial import load_vizgen_mini

    sample = load_vizgen_mini(bin_px=16, downsample=8)
    w = sample.stains.shape[3]
    test_start = holdout_start(w, 0.25, sample.ratio)
    cmd = "python " + " ".join(["benchmarks/bench_volume_ablation.py", *sys.argv[1:]])
    src = Path(__file__).parent.parent / "src" / "crossscale"
    code = hashlib.sha256(b"".join((src / f).read_bytes() for f in TRAIN_CODE)
                          + inspect.getsource(VolumeDiffusion.fit).encode() + repr(PRESETS).encode()).hexdigest()  # fmt: skip
    for name in args.variants.split(","):
        change = VARIANTS[name]
        load0 = os.getloadavg()
        train_change = {k: v for k, v in change.items() if k not in SAMPLER_KEYS}
        key = hashlib.sha256(repr((sorted(train_change.items()), args.max_iter, args.seed, code)).encode()).hexdigest()[:16]
        cached = Path(args.model_cache) / key
        if (cached / "model").exists():
            model = VolumeDiffusion.load(cached / "model", device="cpu")
            cpu_train = float(json.loads((cached / "train_cpu_s.json").read_text()))
            reused = True
        else:
            cpu0 = time.process_time()
            model = VolumeDiffusion(max_iter=args.max_iter, holdout_fraction=0.4, random_state=args.seed,
                                    device="cpu", **train_change).fit(sample)  # fmt: skip
            cpu_train = time.process_time() - cpu0
            model.save(cached / "model")
            (cached / "train_cpu_s.json").write_text(json.dumps(cpu_train))
            reused = False
        model.set_sampler(**{k: v for k, v in change.items() if k in SAMPLER_KEYS})
        val_cols = test_start - model.train_cols_[1]
        ev = evaluate_volume(model, sample, tempfile.mkdtemp(prefix="ablation_"), schemes=("boundary",),
                             regression=None, seed=args.seed, max_cols=val_cols)  # fmt: skip
        m = ev.metrics
        diag = _diagnostics(ev.images, tuple(model.stains_))
        row = {"variant": name, "change": repr(change) if change else "(default)",
               "max_iter": model.params_["max_iter"], "regression_iter": model.params_["regression_iter"],
               "num_inference_steps": model.params_["num_inference_steps"], "eta": model.params_["eta"],
               "contrast": model.params_["contrast"],
               "reused_model": reused, **diag,
               **{f"real_{k}": m.loc["real", k] for k in ("polyt_density_r", "nuclei_per_plane",
                                                          "nucleus_median_area_um2")},
               **m.loc["boundary"].drop("seconds").to_dict(),
               "mean_image_psnr_dapi": m.loc["mean image", "psnr_dapi"],
               "mean_image_psnr_polyT": m.loc["mean image", "psnr_polyT"],
               "train_wall_s": model.fit_time_s_, "train_cpu_s": cpu_train,
               "load_1min_start": load0[0], "load_1min_end": os.getloadavg()[0],
               "region_cols": str(ev.info["region_stain_px"]["cols"]), "commit": commit, "command": cmd,
               "utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")}  # fmt: skip
        results.mkdir(parents=True, exist_ok=True)
        old = pd.read_csv(csv) if csv.exists() else pd.DataFrame()
        pd.concat([old, pd.DataFrame([row])], ignore_index=True).to_csv(csv, index=False)
        print(name, {k: row[k] for k in row if k.startswith(("dapi_power", "psnr", "nuclei", "nucleus"))})
        _write_md(pd.read_csv(csv), md)


def _diagnostics(images: dict, stains: tuple[str, ...]) -> dict[str, float]:
    """SD of generated over real stains, and of the residual around the regression mean.

    With a regression mean, also the DAPI band power (over the real image's) of the regression
    mean alone (``regression_dapi_power_*``), of the generated residual (``gen_residual_*``) and
    of the real residual (``real_residual_*``) around it.
    """
    from crossscale.evaluate.volume_metrics import band_power, radial_power_spectrum

    real, gen = images["real"], images["boundary"]
    out = {f"{s}_sd_ratio": float(gen[i].std() / real[i].std()) for i, s in enumerate(stains)}
    if "regression" in images:
        reg = images["regression"]
        out |= {f"residual_sd_ratio_{s}": float((gen[i] - reg[i]).std() / (real[i] - reg[i]).std())
                for i, s in enumerate(stains)}  # fmt: skip
        d = stains.index("dapi") if "dapi" in stains else 0
        freq, p_real = radial_power_spectrum(real[d])
        ref = band_power(freq, p_real)
        for name, img in (("regression_dapi_power", reg[d]), ("gen_residual_dapi_power", gen[d] - reg[d]),
                          ("real_residual_dapi_power", real[d] - reg[d])):  # fmt: skip
            out |= {f"{name}_{k}": v / ref[k] for k, v in band_power(freq, radial_power_spectrum(img)[1]).items()}
    return out


def _write_md(df, md: Path) -> None:  # noqa: ANN001
    extra = [c for c in ("num_inference_steps", "eta", "contrast", "reused_model") if c in df.columns]
    diag = [c for c in df.columns if c.endswith("_sd_ratio") or c.startswith("residual_sd_ratio_")]
    # the per-band DAPI power of the regression mean and the residuals stay in the CSV
    show = ["variant", "change", "max_iter", *extra, "polyt_density_r", "psnr_dapi", "ssim_dapi", "psnr_polyT",
            "ssim_polyT", "nuclei_per_plane", "nucleus_median_area_um2", "seam_score",
            *[c for c in df.columns if c.startswith("dapi_power_")], *diag, "train_cpu_s", "train_wall_s",
            "load_1min_start", "commit", "utc"]  # fmt: skip
    lines = ["| " + " | ".join(show) + " |", "|" + "---|" * len(show)]
    for _, r in df[show].iterrows():
        lines.append("| " + " | ".join(("" if v != v else f"{v:.3f}") if isinstance(v, float) else str(v)
                                       for v in r) + " |")  # fmt: skip
    real = df.iloc[-1]
    text = [
        "# crossscale volume: texture ablation (one change at a time)",
        "",
        "Written whole by `benchmarks/bench_volume_ablation.py` from `volume_ablation.csv` (one row per "
        "run; each row records its commit, command, time and load). Every variant trains on the columns "
        "left of a 40% hold-out and is scored on the validation strip "
        f"(stain columns {real['region_cols']}), never on the test region of `volume.md`. Samples: "
        "boundary-aware scheme, DDIM with the model's steps, seed 0. `dapi_power_<lo>-<hi>px`: DAPI "
        "power in that wavelength band over the real images' (1.0 = real texture). Sampler-only variants "
        "(DDIM steps, eta, contrast) reuse the trained model of their training configuration "
        "(`reused_model`). `*_sd_ratio`: SD of the generated stain over the real one's; "
        "`residual_sd_ratio_*`: SD of (sample - regression mean) over that of (real - regression mean). "
        "The CSV also holds the DAPI band power of the regression mean alone and of the generated and "
        "real residuals around it (`regression_dapi_power_*`, `gen_residual_dapi_power_*`, "
        "`real_residual_dapi_power_*`).",
        "",
        f"Real images on this strip: PolyT-density r {real['real_polyt_density_r']:.3f}, nuclei per plane "
        f"{real['real_nuclei_per_plane']:.1f}, median nucleus area {real['real_nucleus_median_area_um2']:.1f} um2; "
        f"mean image PSNR DAPI / PolyT {real['mean_image_psnr_dapi']:.2f} / {real['mean_image_psnr_polyT']:.2f} dB.",
        "",
        "Commands: " + "; ".join(f"`{c}`" for c in dict.fromkeys(df["command"])),
        "",
        *lines,
        "",
    ]
    md.write_text("\n".join(text))


if __name__ == "__main__":
    main()
