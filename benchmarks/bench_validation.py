"""How fast bad input is refused: wall time of the real `crossscale` command, start to exit.

The issue's target: a constant map, an ``inf`` map and ``--n-perm -5`` fail within 2 s, and
``crossscale fit --map study/my_map.csv --out study --overwrite`` deletes nothing. Each case is
run 5 times as a fresh process (median and max reported, exit code and first message line
checked). Writes benchmarks/results/validation.md.

Run: CROSSSCALE_MIRROR=../shared/data nice -n 10 .venv/bin/python benchmarks/bench_validation.py
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale.atlas import DK_REGIONS

OUT = Path(__file__).parent / "results"
REPEATS = 5
CASES = [
    ("constant map", ["fit", "--map", "const.csv"], "is constant"),
    ("inf map", ["fit", "--map", "inf.csv"], "infinite value"),
    ("--n-perm -5", ["fit", "--n-perm", "-5"], "--n-perm must be >= 1"),
    ("1e12 outlier", ["fit", "--map", "big.csv"], "beyond"),
    (
        "--out study --overwrite",
        ["fit", "--map", "study/my_map.csv", "--out", "study", "--overwrite"],
        "contains the input",
    ),  # fmt: skip
    ("--out . --overwrite", ["fit", "--out", ".", "--overwrite"], "current folder"),
    ("crossscale fitt", ["fitt"], "No such command"),
    ("--device cuda (no CUDA)", ["fit", "--device", "cuda"], "asks for a GPU"),
    (
        "spread simulate --timepoints 0,a",
        ["spread", "simulate", "--out", "x", "--timepoints", "0,a"],
        "not a number",
    ),  # fmt: skip
]


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def main() -> None:
    exe = str(Path(sys.executable).with_name("crossscale"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        good = np.linspace(-1, 1, 68)
        for name, values in [("const", [0.3] * 68), ("inf", [*good[:-1], np.inf]),
                             ("big", [*good[:-1], 1e12])]:  # fmt: skip
            pd.DataFrame({"region": DK_REGIONS, "d": values}).to_csv(d / f"{name}.csv", index=False)
        (d / "study" / "sub").mkdir(parents=True)
        pd.DataFrame({"region": DK_REGIONS, "d": good}).to_csv(d / "study" / "my_map.csv")
        (d / "study" / "notes.txt").write_text("notes\n")
        (d / "study" / "sub" / "s1.csv").write_text("subject data\n")
        before = _digest(d)
        for label, argv, expect in CASES:
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                res = subprocess.run([exe, *argv], cwd=d, capture_output=True, text=True,
                                     env=os.environ.copy())  # fmt: skip
                times.append(time.perf_counter() - t0)
                assert res.returncode == 2 and expect in res.stderr, (argv, res.stderr)
                assert "Traceback" not in res.stderr
            assert _digest(d) == before, f"{label} changed the folder"
            msg = next(ln for ln in res.stderr.splitlines() if ln.startswith("Error:"))
            rows.append((label, " ".join(["crossscale", *argv]), statistics.median(times),
                         max(times), msg[:90]))  # fmt: skip
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    lines = [
        "# Validation speed: bad input refused before any work",
        "",
        f"commit `{commit}`; command `{' '.join([Path(sys.executable).name, *sys.argv])}`; "
        f"{REPEATS} fresh processes per case; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at the end. Every case "
        "exits 2 and leaves every byte of the working folder unchanged (sha256 of the tree).",
        "",
        "| case | command | median s | max s | message (start) |",
        "|---|---|---|---|---|",
        *[f"| {a} | `{b}` | {c:.2f} | {m:.2f} | {e} |" for a, b, c, m, e in rows],
        "",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "validation.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
