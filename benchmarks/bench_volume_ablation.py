"""Ablation of the volume model's texture: one change at a time from the default, on a validation strip.

Every variant trains on the columns left of a 40% hold-out (``holdout_fraction=0.4``) and is scored
on the validation strip between that and the test region of ``bench_volume.py`` (stain columns
344-430 of the Vizgen crop, cropped to whole patch cores): no choice is tuned on the test region.
Samples come from the boundary-aware scheme (DDIM, the model's steps). Each run appends its row to
``results/volume_ablation.csv`` (with commit, command, load average and train time) and rewrites
``results/volume_ablation.md`` whole from that file.

Usage: ``python benchmarks/bench_volume_ablation.py --variants base,min_snr5 --max-iter 1000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
CSV = RESULTS / "volume_ablation.csv"
MD = RESULTS / "volume_ablation.md"

#: One change each from the default model (VolumeDiffusion() with the smoke preset).
VARIANTS: dict[str, dict] = {
    "base": {},
    "min_snr5": {"min_snr_gamma": 5.0},
    "time_dim32": {"time_dim": 32},
    "noise_offset0.1": {"noise_offset": 0.1},
    "fine_capacity_16": {"channels": (16, 16, 32)},
    "epsilon": {"prediction_type": "epsilon"},
    "no_ema": {"ema_decay": None},
    "plain_diffusion": {"objective": "diffusion"},
}


def _commit() -> str:
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="base")
    ap.add_argument("--max-iter", type=int, default=None, help="diffusion steps (default: the preset's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    commit = _commit()

    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.models.volume import VolumeDiffusion
    from crossscale.models.volume.estimator import holdout_start
    from crossscale.spatial import load_vizgen_mini

    sample = load_vizgen_mini(bin_px=16, downsample=8)
    w = sample.stains.shape[3]
    test_start = holdout_start(w, 0.25, sample.ratio)
    cmd = "python " + " ".join(["benchmarks/bench_volume_ablation.py", *sys.argv[1:]])
    for name in args.variants.split(","):
        change = VARIANTS[name]
        load0 = os.getloadavg()
        cpu0 = time.process_time()
        model = VolumeDiffusion(max_iter=args.max_iter, holdout_fraction=0.4, random_state=args.seed,
                                device="cpu", **change).fit(sample)  # fmt: skip
        cpu_train = time.process_time() - cpu0
        val_cols = test_start - model.history_.train_cols[1]
        ev = evaluate_volume(model, sample, tempfile.mkdtemp(prefix="ablation_"), schemes=("boundary",),
                             regression=None, seed=args.seed, max_cols=val_cols)  # fmt: skip
        m = ev.metrics
        row = {"variant": name, "change": repr(change) if change else "(default)",
               "max_iter": model.params_["max_iter"], "regression_iter": model.params_["regression_iter"],
               **{f"real_{k}": m.loc["real", k] for k in ("polyt_density_r", "nuclei_per_plane",
                                                          "nucleus_median_area_um2")},
               **m.loc["boundary"].drop("seconds").to_dict(),
               "mean_image_psnr_dapi": m.loc["mean image", "psnr_dapi"],
               "mean_image_psnr_polyT": m.loc["mean image", "psnr_polyT"],
               "train_wall_s": model.fit_time_s_, "train_cpu_s": cpu_train,
               "load_1min_start": load0[0], "load_1min_end": os.getloadavg()[0],
               "region_cols": str(ev.info["region_stain_px"]["cols"]), "commit": commit, "command": cmd,
               "utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")}  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        old = pd.read_csv(CSV) if CSV.exists() else pd.DataFrame()
        pd.concat([old, pd.DataFrame([row])], ignore_index=True).to_csv(CSV, index=False)
        print(name, {k: row[k] for k in row if k.startswith(("dapi_power", "psnr", "nuclei", "nucleus"))})
        _write_md(pd.read_csv(CSV))


def _write_md(df) -> None:  # noqa: ANN001
    show = ["variant", "change", "max_iter", "polyt_density_r", "psnr_dapi", "ssim_dapi", "psnr_polyT",
            "ssim_polyT", "nuclei_per_plane", "nucleus_median_area_um2", "seam_score",
            *[c for c in df.columns if c.startswith("dapi_power_")], "train_cpu_s", "train_wall_s",
            "load_1min_start", "commit", "utc"]  # fmt: skip
    lines = ["| " + " | ".join(show) + " |", "|" + "---|" * len(show)]
    for _, r in df[show].iterrows():
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + " |")
    real = df.iloc[-1]
    text = [
        "# crossscale volume: texture ablation (one change at a time)",
        "",
        "Written whole by `benchmarks/bench_volume_ablation.py` from `volume_ablation.csv` (one row per "
        "run; each row records its commit, command, time and load). Every variant trains on the columns "
        "left of a 40% hold-out and is scored on the validation strip "
        f"(stain columns {real['region_cols']}), never on the test region of `volume.md`. Samples: "
        "boundary-aware scheme, DDIM with the model's steps, seed 0. `dapi_power_<lo>-<hi>px`: DAPI "
        "power in that wavelength band over the real images' (1.0 = real texture).",
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
    MD.write_text("\n".join(text))


if __name__ == "__main__":
    main()
