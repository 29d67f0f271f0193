"""What identity spins did to p-values: 1,000 Hungarian spins of DK before and after issue 23.

Before, 4 of 1,000 Hungarian spins of the 68 DK regions (seed 0) mapped every region to itself:
their "null" map is the observed map, so a refit on it scores like the real fit and counts
against it. Now random rotations that give the identity are redrawn. This runs
``_spin_p_child.py`` (AD map, GraphVAE / PLS-1 / ridge, kfold-10 CV r, seed 0) with the code of a
base commit (git archive) and of this tree, and writes benchmarks/results/identity_spins.md.

Run: CROSSSCALE_MIRROR=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_identity_spins.py --base 9fe4ce7
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "results"
COMMIT = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                        check=False, cwd=ROOT).stdout.strip()  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="9fe4ce7")
    ap.add_argument("--n-perm", type=int, default=1000)
    args = ap.parse_args()
    script = str(Path(__file__).with_name("_spin_p_child.py"))
    res, loads = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.base, "src"], cwd=ROOT,
                                 capture_output=True, check=True).stdout  # fmt: skip
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(tmp, filter="data")
        for label, src in (("base", Path(tmp) / "src"), ("this", ROOT / "src")):
            before = "/".join(f"{v:.1f}" for v in os.getloadavg())
            proc = subprocess.run([sys.executable, script, str(args.n_perm)], cwd=tmp,
                                  env=os.environ | {"PYTHONPATH": str(src)}, capture_output=True,
                                  text=True, check=True)  # fmt: skip
            res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
            loads[label] = f"{before} → " + "/".join(f"{v:.1f}" for v in os.getloadavg())
    b, t = res["base"], res["this"]
    lines = [
        "# Identity spins and p-values (DK, ADNI2 AD atrophy)",
        "",
        f"- commit: `{COMMIT}`; command: `python benchmarks/bench_identity_spins.py "
        f"{' '.join(sys.argv[1:])}`; base: `{args.base}` (before issue 23)",
        f"- {args.n_perm} Hungarian spins, seed 0; kfold-10 CV r (contiguous k-means blocks); "
        "one-sided p = (1 + #{null >= observed}) / (1 + n)",
        f"- identity spins (every region mapped to itself): base **{b['identity_spins']}**, "
        f"this tree **{t['identity_spins']}** (redrawn from the same random stream)",
        "",
        "| model | CV r base | CV r now | p_spin base | p_spin now | largest null CV r base | now "
        "| time base / now (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in ("GraphVAE", "PLS-1", "Ridge"):
        lines.append(f"| {m} | {b[m]['cv_r']:.4f} | {t[m]['cv_r']:.4f} | {b[m]['p_spin']:.4f} | "
                     f"{t[m]['p_spin']:.4f} | "
                     f"{b[m]['max_null']:.4f} | {t[m]['max_null']:.4f} | "
                     f"{b[m]['time_s']:.0f} / {t[m]['time_s']:.0f} |")  # fmt: skip
    lines += ["", f"Load average (1/5/15 min) before → after: base {loads['base']}; this tree "
              f"{loads['this']} (2 shared cores; times are noisy)."]  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "identity_spins.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
