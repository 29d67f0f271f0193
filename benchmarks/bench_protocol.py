"""Inductive vs transductive cross-validation, the same for every model, on the ADNI2 AD map.

Inductive: every preprocessing step (gene standardisation, principal axes, graph propagation,
penalties) is learned from each fold's training regions. Transductive: the expression of all
regions is known to every fold; only the map values of held-out regions are hidden.

Writes benchmarks/results/protocol.md and protocol.csv.

Run: CROSSSCALE_MIRROR=../shared/data .venv/bin/python benchmarks/bench_protocol.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from crossscale._progress import set_progress_enabled
from crossscale.atlas import RegionGraph
from crossscale.evaluate import evaluate_models
from crossscale.maps import load_adni_map
from crossscale.models.baselines import default_baselines
from crossscale.models.graphvae import GraphVAE
from crossscale.transcriptomics import load_default_expression

OUT = Path(__file__).parent / "results"
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip


def main() -> None:
    set_progress_enabled(False)
    X, _ = load_default_expression()
    y = load_adni_map("AD", "baseline")
    g = RegionGraph.from_surface()
    models = {
        "GraphVAE (default)": GraphVAE(random_state=0),
        "GraphVAE (reference)": GraphVAE.reference(random_state=0),
    } | default_baselines()
    frames = []
    for protocol in ("inductive", "transductive"):
        ev = evaluate_models(X, y, g, models, protocol=protocol)
        m = ev.metrics[["in_sample_r2", "loro_r2", "loro_r", "spatial_r2", "spatial_r"]].copy()
        m.insert(0, "protocol", protocol)
        frames.append(m)
        print(protocol, m.round(3).to_string(), flush=True)
    table = pd.concat(frames).reset_index()
    OUT.mkdir(exist_ok=True)
    table.assign(commit=COMMIT).to_csv(OUT / "protocol.csv", index=False, float_format="%.4f")
    wide = table.pivot(index="model", columns="protocol", values=["loro_r2", "spatial_r2"])
    wide = wide.loc[list(models)]
    lines = [
        "# Cross-validation protocol: inductive vs transductive (ADNI2 AD map, seed 0)",
        "",
        f"- commit: `{COMMIT}`; command: `python benchmarks/bench_protocol.py {' '.join(sys.argv[1:])}`",
        "- inductive (the default of `crossscale fit` and `evaluate_models`): gene standardisation, "
        "principal axes, graph propagation and penalties learned on each fold's training regions",
        "- transductive: expression of every region known to every fold (map values of held-out "
        "regions hidden), for every model alike",
        "",
        "| model | LORO R² inductive | LORO R² transductive | spatial R² inductive | spatial R² transductive |",
        "|---|---|---|---|---|",
    ]
    for name, row in wide.iterrows():
        lines.append(
            f"| {name} | {row[('loro_r2', 'inductive')]:.3f} | {row[('loro_r2', 'transductive')]:.3f} | "
            f"{row[('spatial_r2', 'inductive')]:.3f} | {row[('spatial_r2', 'transductive')]:.3f} |"
        )
    (OUT / "protocol.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
