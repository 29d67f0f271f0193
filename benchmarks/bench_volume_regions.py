"""How much do the tissue metrics of one model move from region to region?

``volume.md`` scores the default model on one held-out region (144 stain px wide). This script
scores one trained model on regions of the same shape inside its own training columns (in-sample:
what the model can reproduce where it has seen the data) and on the held-out region, with the
boundary-aware samples and the regression mean, so that the spread of each metric across regions
(especially the DAPI power bands, whose widest band holds only two radial frequency bins of a
144-px-wide region) can be read beside the aims of issue 20. Nothing is chosen here: no
parameter, no region, no sampler setting.

Writes ``results/volume_regions.md`` whole (commit, command, parameters, the model's own run.json
commit).

Usage: ``python benchmarks/bench_volume_regions.py --model DIR [--starts 0,142,286]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "volume_regions.md"
METRICS = ("dapi_power_2-4px", "dapi_power_4-8px", "dapi_power_8-16px", "dapi_power_16-32px",
           "dapi_power_32-64px", "nuclei_per_plane", "nucleus_median_area_um2", "polyt_density_r")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="a 'crossscale volume train' folder")
    ap.add_argument("--starts", default="0,142,286",
                    help="first stain column of each in-sample region (inside the training columns)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_volume import _commit

    commit, t0, load0 = _commit(), time.perf_counter(), os.getloadavg()

    import pandas as pd

    from crossscale._files import atomic_write_text
    from crossscale._format import markdown_table
    from crossscale._threads import torch_threads
    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.pipeline.volume import _load, _sample, train_parameters

    model_dir = Path(args.model)
    cfg = train_parameters(model_dir)
    diff, reg = _load(model_dir, "cpu")
    sample = _sample(cfg["bin_px"], cfg["downsample"])
    train_end = int(diff.train_cols_[1])
    core = int(diff.params_["window"]) // 2
    width = (sample.stains.shape[-1] - train_end) // core * core  # as evaluate_volume's region
    starts = [int(s) for s in args.starts.split(",")]
    bad = [s for s in starts if s < 0 or s + width > train_end]
    if bad:
        sys.exit(f"--starts {bad}: a region [s, s + {width}) must lie inside the training "
                 f"columns [0, {train_end}).")  # fmt: skip
    rows = []
    regions = [(f"in-sample [{s}, {s + width})", s, width) for s in starts]
    regions.append((f"held-out [{train_end}, {train_end + width})", train_end, None))
    for name, start, max_cols in regions:
        diff.train_cols_ = (0, start)  # evaluate_volume scores the columns right of this
        with torch_threads(args.threads), tempfile.TemporaryDirectory() as wd:
            ev = evaluate_volume(diff, sample, Path(wd) / "g", regression=reg,
                                 schemes=("boundary",), seed=args.seed, max_cols=max_cols)  # fmt: skip
        diff.train_cols_ = (0, train_end)
        for method in ("real", "boundary", "regression"):
            rows.append({"region": name, "method": method,
                         **{m: float(ev.metrics.loc[method, m]) for m in METRICS}})  # fmt: skip
        print(name, "done", flush=True)
    df = pd.DataFrame(rows)
    record = json.loads((model_dir / "run.json").read_text())
    lines = [
        "# crossscale volume: the tissue metrics of one model across regions",
        "",
        f"Commit `{commit}`; command `python benchmarks/bench_volume_regions.py "
        f"{' '.join(sys.argv[1:])}`; parameters {vars(args)}; model `{model_dir}` trained by "
        f"`{record.get('command')}` at commit `{record.get('commit')}` (training columns "
        f"[0, {train_end}), {record.get('parameters')}); {args.threads} torch thread(s), CPU; "
        f"load average {load0[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end; "
        f"{(time.perf_counter() - t0) / 60:.1f} min. Written whole by this script.",
        "",
        "Regions of the held-out region's shape (all rows, "
        f"{width} stain px wide): in-sample ones inside the training columns and the held-out one "
        "(`volume.md`'s test region). Boundary-aware samples (DDIM with the model's steps, seed "
        f"{args.seed}) and the regression mean. `dapi_power_<lo>-<hi>px` = DAPI power in that "
        "band over the real images' of the same region (issue 20's aim: within 25%, 0.75-1.25); "
        "the other columns as in `volume.md`. Nothing here was used to choose anything.",
        "",
        markdown_table(df, float_format="{:.3f}"),
        "",
        "## Spread of the boundary samples' ratios over the in-sample regions",
        "",
    ]
    ins = df[(df.method == "boundary") & df.region.str.startswith("in-sample")]
    held = df[(df.method == "boundary") & df.region.str.startswith("held-out")].iloc[0]
    spread = pd.DataFrame([{"metric": m, "in-sample min": ins[m].min(), "in-sample max": ins[m].max(),
                            "held-out": held[m]} for m in METRICS if m.startswith("dapi_power")])  # fmt: skip
    lines += [markdown_table(spread, float_format="{:.3f}"), ""]
    print(f"wrote {atomic_write_text(args.out, chr(10).join(lines))}")


if __name__ == "__main__":
    main()
