"""The held-out region with the sampler's contrast chosen on the validation strip.

``contrast`` scales each sample's deviation from the training mean image (a calibration of the
amplitude of an over-confident model, see ``VolumeDiffusion``). It is chosen on the validation
strip by ``bench_volume_ablation.py`` (``volume_ablation.md``); this script applies the chosen
values to the default model of ``bench_volume.py`` on the test region (never tuned on) and writes
``results/volume_contrast.md`` whole: the boundary-aware samples at each contrast, with the same
metrics and aims as ``volume.md``.

Usage: ``python benchmarks/bench_volume_contrast.py --default-model DIR --contrasts 1.0,0.8``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "volume_contrast.md"


def _commit() -> str:
    return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                          text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--default-model", required=True, help="a 'crossscale volume train' folder")
    ap.add_argument("--contrasts", default="1.0,0.8")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows", type=int, default=None, help="only the first rows (quick checks)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    commit = _commit()
    load0 = os.getloadavg()

    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_volume import _aims, _md

    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.models.volume import VolumeDiffusion
    from crossscale.spatial import load_vizgen_mini

    sample = load_vizgen_mini(bin_px=16, downsample=8)
    rows, info, t = [], None, {}
    base = None
    for c in (float(v) for v in args.contrasts.split(",")):
        model = VolumeDiffusion.load(Path(args.default_model) / "model", device="cpu").set_sampler(contrast=c)
        t0 = time.perf_counter()
        ev = evaluate_volume(model, sample, tempfile.mkdtemp(prefix="contrast_"), schemes=("boundary",),
                             seed=args.seed, max_rows=args.max_rows)  # fmt: skip
        t[c] = time.perf_counter() - t0
        m = ev.metrics.drop(columns=["seconds"])
        if base is None:
            base = m.loc[["real", "regression", "mean image"]]
            info = ev.info
        rows.append(m.loc[["boundary"]].rename(index={"boundary": f"boundary, contrast {c:g}"}))
    table = pd.concat([base.loc[["real"]], *rows, base.loc[["regression", "mean image"]]])
    cmd = "python " + " ".join(["benchmarks/bench_volume_contrast.py", *sys.argv[1:]])
    text = [
        "# crossscale volume: held-out region with the contrast chosen on the validation strip",
        "",
        f"Commit `{commit}`; command `{cmd}`; {args.threads} torch thread(s), CPU; load average at the "
        f"start {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f}, at the end "
        + " / ".join(f"{v:.1f}" for v in os.getloadavg()) + ". Written whole by "
        "`benchmarks/bench_volume_contrast.py`.",
        "",
        f"Model: `{args.default_model}` (the default model of `volume.md`, trained by `crossscale volume "
        "train` with no options). `contrast` (sampler-only, no retraining) scales each sample's deviation "
        "from the training mean image; its value was chosen on the validation strip "
        "(`volume_ablation.md`), never on this region.",
        "",
        f"Held-out region: stain px rows {info['region_stain_px']['rows']}, cols "
        f"{info['region_stain_px']['cols']}; boundary-aware scheme, DDIM "
        f"{model.params_['num_inference_steps']} steps, seed {args.seed}. Generation + scoring "
        + ", ".join(f"{k:g}: {v:.0f} s" for k, v in t.items()) + ".",
        "",
        _md(table),
        "",
        "## Aims of issue 20 per contrast",
        "",
    ]
    for row in [r.index[0] for r in rows]:
        text += [f"**{row}**", ""]
        text += [f"- {name}: {'reached' if ok else '**NOT reached**'} ({detail})"
                 for name, ok, detail in _aims(table, row)]  # fmt: skip
        text.append("")
    Path(args.out).write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
