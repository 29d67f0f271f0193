"""How fast bad input is refused: wall time of the real `crossscale` command, start to exit.

The issue's target: a constant map, an ``inf`` map and ``--n-perm -5`` fail within 2 s, and
``crossscale fit --map study/my_map.csv --out study --overwrite`` deletes nothing; issue 24 adds
the cases of every command (numeric bounds, other tools' folders, a locked --out, FIFOs, tables
that look valid but are not), each within 2 s. Each case is
run 3 times as a fresh process (median and max wall time, median CPU time of the process;
exit code and first message line checked). Writes benchmarks/results/validation.md.

Run: CROSSSCALE_MIRROR=../shared/data nice -n 10 .venv/bin/python benchmarks/bench_validation.py
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
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
REPEATS = 3
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
    # -- issue 24: every command, numeric bounds, other writers, pipes, tables that look valid
    ("--seed -1", ["fit", "--seed", "-1"], "--seed must be an integer seed"),
    ("--max-epochs 2**70", ["fit", "--max-epochs", str(2**70)], "--max-epochs must be an integer from 1"),
    ("map without header line", ["fit", "--map", "noheader.csv"], "has no header line"),
    ("two columns named d", ["fit", "--map", "dup_d.csv"], "twice in its header"),
    ("t,p,d,n columns", ["fit", "--map", "tpdn.csv"], "could hold the map"),
    ("Schaefer names, dk atlas", ["fit", "--map", "schaefer.csv"], "look like Schaefer names"),
    ("FIFO as --map", ["fit", "--map", "pipe.csv"], "named pipe"),
    ("another tool's folder", ["fit", "--out", "other", "--overwrite"], "not written by crossscale"),
    ("second run, same --out", ["fit", "--out", "busy"], "being written by another crossscale run"),
    ("volume train --threads 0", ["volume", "train", "--out", "t", "--threads", "0"], "--threads must be"),
    ("volume train --bin-px 0", ["volume", "train", "--out", "t", "--bin-px", "0"], "--bin-px must be"),
    ("volume generate --steps 0", ["volume", "generate", "--model", "vmodel", "--out", "g", "--steps", "0"], "--steps must be"),
    ("volume generate --batch-size 0", ["volume", "generate", "--model", "vmodel", "--out", "g", "--batch-size", "0"], "--batch-size must be"),
    ("volume generate --out = --model", ["volume", "generate", "--model", "vmodel", "--out", "vmodel"], "is the input"),
    ("volume generate, foreign run.json", ["volume", "generate", "--model", "vmodel", "--out", "other"], "already exists"),
    ("volume evaluate --max-rows 0", ["volume", "evaluate", "--model", "vmodel", "--out", "e", "--max-rows", "0"], "--max-rows must be"),
    ("spread simulate --seed -1", ["spread", "simulate", "--out", "x", "--seed", "-1"], "--seed must be"),
    ("spread fit FIFO", ["spread", "fit", "pipe.csv", "--out", "x"], "named pipe"),
    ("spread fit --truth missing", ["spread", "fit", "cohort.csv", "--out", "x", "--truth", "no.csv"], "does not exist"),
    ("spread fit-group --seed -5", ["spread", "fit-group", "tpdn.csv", "--out", "x", "--seed", "-5"], "--seed must be"),
    ("vulnerability text Age", ["vulnerability", "vt.csv", "-c", "vcov_text_age.csv", "--case", "AD", "--control", "CN", "--out", "d.csv"], "holds text"),
    ("vulnerability --html = input", ["vulnerability", "vt.csv", "-c", "vcov_text_age.csv", "--case", "AD", "--control", "CN", "--out", "d.csv", "--html", "vt.csv", "--overwrite"], "--html: the output"),
    ("interpret --n-perm 2**70", ["interpret", "fitrun2", "--n-perm", str(2**70)], "--n-perm must be an integer"),
    ("benchmark --seed -1", ["benchmark", "--seed", "-1"], "--seed must be"),
]  # fmt: skip


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():  # not the FIFO (reading it would block)
            h.update(p.read_bytes())
    return h.hexdigest()


def _issue24_files(d: Path) -> None:
    """The inputs of the issue-24 cases (as in tests/cli/test_errors_round2.py)."""
    import json

    good = np.linspace(-1, 1, 68)
    rows = list(zip(DK_REGIONS, good, strict=True))
    (d / "noheader.csv").write_text("".join(f"{r},{v}\n" for r, v in rows))
    (d / "dup_d.csv").write_text("region,d,d\n" + "".join(f"{r},{v},{-v}\n" for r, v in rows))
    pd.DataFrame({"region": DK_REGIONS, "t": 3 * good, "p": 0.01, "d": good, "n": 40}).to_csv(
        d / "tpdn.csv", index=False)  # fmt: skip
    pd.DataFrame({"region": [f"7Networks_LH_Vis_{i}" for i in range(1, 51)],
                  "d": np.linspace(-1, 1, 50)}).to_csv(d / "schaefer.csv", index=False)  # fmt: skip
    os.mkfifo(d / "pipe.csv")
    (d / "other").mkdir()
    (d / "other" / "run.json").write_text(json.dumps({"tool": "fmriprep"}))
    (d / "vmodel" / "model").mkdir(parents=True)
    (d / "vmodel" / "run.json").write_text(json.dumps({"written_by": "crossscale", "files": [],
        "command": "crossscale volume train", "parameters": {"bin_px": 16, "downsample": 8}}))  # fmt: skip
    (d / "fitrun2" / "model").mkdir(parents=True)
    (d / "fitrun2" / "run.json").write_text(json.dumps({"command": "crossscale fit"}))
    (d / "cohort.csv").write_text("subject,time," + ",".join(DK_REGIONS) + "\n")
    rng = np.random.default_rng(0)
    t = pd.DataFrame(2.5 + 0.1 * rng.standard_normal((12, 68)),
                     columns=[f"{r}_thickavg" for r in DK_REGIONS])  # fmt: skip
    t.insert(0, "SubjID", [f"s{i}" for i in range(12)])
    t.to_csv(d / "vt.csv", index=False)
    pd.DataFrame({"SubjID": t.SubjID, "Dx": ["AD", "CN"] * 6, "Age": [f"{60 + i} years" for i in range(12)],
                  "Sex": [0, 0, 1, 1] * 3}).to_csv(d / "vcov_text_age.csv", index=False)  # fmt: skip


def _lock_holder(d: Path) -> subprocess.Popen:
    """Another process holding the lock of ``busy`` (a run in progress)."""
    code = ("import sys, time; sys.argv = ['crossscale', 'fit', '--out', 'busy']\n"
            "from crossscale import _lock; _lock.lock_output('busy'); print('locked', flush=True)\n"
            "time.sleep(3600)")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=d, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


LOAD_START = os.getloadavg()[0]


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
        _issue24_files(d)
        holder = _lock_holder(d)
        before = _digest(d)
        for label, argv, expect in CASES:
            times, cpus = [], []
            for _ in range(REPEATS):
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                res = subprocess.run([exe, *argv], cwd=d, capture_output=True, text=True,
                                     env=os.environ.copy())  # fmt: skip
                times.append(time.perf_counter() - t0)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
                assert res.returncode == 2 and expect in res.stderr, (argv, res.stderr)
                assert "Traceback" not in res.stderr
            assert _digest(d) == before, f"{label} changed the folder"
            msg = next(ln for ln in res.stderr.splitlines() if ln.startswith("Error:"))
            rows.append((label, " ".join(["crossscale", *argv]), statistics.median(times),
                         max(times), statistics.median(cpus), msg[:90]))  # fmt: skip
        holder.kill()
        holder.wait()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    slow = [r for r in rows if r[3] > 2.0]
    slow_cpu = [r for r in rows if r[4] > 2.0]
    load_start = LOAD_START
    lines = [
        "# Validation speed: bad input refused before any work",
        "",
        f"commit `{commit}`; command `{' '.join([Path(sys.executable).name, *sys.argv])}`; "
        f"{REPEATS} fresh processes per case; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at the end. Every case "
        "exits 2 and leaves every byte of the working folder unchanged (sha256 of the tree).",
        "",
        f"Target (issue 24): each case refused within 2 s. Wall time: {len(slow)} of {len(rows)} "
        f"cases had a run over 2 s; CPU time (user + sys of the process, what the command itself "
        f"costs, independent of other jobs): {len(slow_cpu)} of {len(rows)} over 2 s"
        + (f" ({', '.join(r[0] for r in slow_cpu)})" if slow_cpu else "")
        + f". Load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end "
        f"on {os.cpu_count()} CPU(s): wall times above the CPU times are waiting for a core.",
        "",
        "| case | command | median wall s | max wall s | median CPU s | message (start) |",
        "|---|---|---|---|---|---|",
        *[f"| {a} | `{b}` | {c:.2f} | {m:.2f} | {u:.2f} | {e} |" for a, b, c, m, u, e in rows],
        "",
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "validation.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
