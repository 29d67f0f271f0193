"""How long `make test` takes, stage by stage (issue 22: < 5 min here; CI: < 10 min in all).

Runs the stages of ``make test`` one after the other, exactly as the Makefile does (ruff,
lint-imports, ``make docs``, ``make dist``, pytest with the Makefile's arguments), and records for
each the wall time and the CPU time of its processes (user + system of the children: what the
stage costs on an idle machine with enough cores), the load average before and after, and
pytest's slowest tests. Appends one row per stage to ``benchmarks/results/test_time.csv`` and
writes ``benchmarks/results/test_time.md`` whole from that history (commit, command, load).

The 2 CPU cores of this machine are shared with other jobs: wall times depend on the load, the
CPU times much less (they are the floor of the wall time on one core).

Run: CROSSSCALE_MIRROR=../shared/data nice -n 10 .venv/bin/python benchmarks/bench_test_time.py
     (--stages pytest for one stage; --pytest-args "-p no:xdist" for the serial suite)
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
BIN = ROOT / ".venv" / "bin"
FIELDS = ["time_utc", "commit", "label", "stage", "command", "wall_s", "cpu_s", "load_before",
          "load_after", "result"]  # fmt: skip

# Measured before this script existed (not by it): kept so the table shows what changed.
EARLIER = [
    {"time_utc": "2026-12-02 (CI log)", "commit": "c81441b", "label": "before (CI, clean clone)",
     "stage": "make test", "command": ".ci/run (make test: ruff, lint-imports, docs, dist, pytest -q)",
     "wall_s": "776-866", "cpu_s": "", "load_before": "", "load_after": "",
     "result": "940 passed (reported by the coordinator; not measured by this script)"},
    {"time_utc": "2026-12-02 16:44", "commit": "c81441b", "label": "before (this machine)",
     "stage": "pytest", "command": "nice -n 10 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
     "pytest -q --durations=80 -p no:cacheprovider (serial; timed with bash `time`)",
     "wall_s": "1639.6", "cpu_s": "790.0", "load_before": "4.44/2.52/1.58",
     "load_after": "5.97/5.81/4.95",
     "result": "940 passed in 1634 s; slowest: README.md:528 474 s, test_wheel 178 s, "
     "README.md:491 129 s, plot_05_benchmark 86 s, plot_03_atlases 73 s (wall, under load)"},
]  # fmt: skip


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def _makefile_pytest_line() -> str:
    text = (ROOT / "Makefile").read_text()
    block = text.split("\ntest: env\n", 1)[1].split("\n\n", 1)[0]
    return next(ln for ln in block.splitlines() if "-m pytest" in ln)


def _pytest_args() -> list[str]:
    """The pytest arguments of the Makefile's `test` target."""
    return shlex.split(_makefile_pytest_line().split("-m pytest", 1)[1])


def _pytest_env() -> list[str]:
    """The ``NAME=value`` settings the Makefile puts before its pytest command (e.g. OMP_NUM_THREADS=1)."""
    head = shlex.split(_makefile_pytest_line().split("-m pytest", 1)[0])
    return [t for t in head if re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", t)]


def stages(pytest_args: list[str]) -> dict[str, list[str]]:
    make = os.environ.get("MAKE", "make")
    return {
        "ruff": [str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "examples", "docs"],
        "lint-imports": [str(BIN / "lint-imports")],
        "docs": [make, "-s", "docs"],
        "dist": [make, "-s", "dist"],
        "pytest": ["env", *_pytest_env(), str(BIN / "python"), "-m", "pytest", *pytest_args,
                   "--durations=10"],
    }


def run_stage(cmd: list[str]) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout + proc.stderr


def summary(stage: str, rc: int, out: str) -> str:
    if stage != "pytest":
        return "ok" if rc == 0 else f"exit {rc}: {out.strip().splitlines()[-1][:200] if out.strip() else ''}"
    final = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    slow = re.findall(r"^([\d.]+)s (?:call|setup)\s+(\S+)", out, flags=re.M)[:5]
    short = "; ".join(f"{n.split('::')[-1]} {s} s" for s, n in slow)
    return f"{final[-1].strip('= ') if final else f'exit {rc}'}; slowest: {short}"


def render(rows: list[dict]) -> str:
    out = ["# Time of `make test`", ""]
    last = rows[-1]
    out += [f"- last run: commit `{last['commit']}`, {last['time_utc']} UTC; command: "
            "`" + shlex.join(["nice", "-n", "10", "python", "benchmarks/bench_test_time.py", *sys.argv[1:]]) + "`",
            f"- machine: {os.cpu_count()} CPU cores shared with other jobs (load average given per "
            "stage: 1/5/15 min); wall s = elapsed, CPU s = user + system time of the stage's "
            "processes (what the stage costs without other jobs)",
            "- targets: issue 22 `make test` < 5 min on this machine; CI (`.ci/run` = `make test` "
            "on a clean clone) < 10 min", ""]  # fmt: skip
    out += ["| when (UTC) | commit | label | stage | wall s | CPU s | load before | load after | result |",
            "|---|---|---|---|---:|---:|---|---|---|"]  # fmt: skip
    for r in EARLIER + rows:
        out.append(f"| {r['time_utc']} | `{r['commit']}` | {r['label']} | {r['stage']} | {r['wall_s']} "
                   f"| {r['cpu_s']} | {r['load_before']} | {r['load_after']} | {r['result']} |")  # fmt: skip
    out += ["", "Commands of the stages (as in the Makefile's `test` target):", ""]
    seen = {}
    for r in rows:
        seen[r["stage"]] = r["command"]
    out += [f"- {k}: `{v}`" for k, v in seen.items()]
    out += ["", "The rows before this script existed were measured by hand (commands as listed) or "
            "reported by CI; the script does not re-measure them."]  # fmt: skip
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stages", default="ruff,lint-imports,docs,dist,pytest")
    ap.add_argument("--pytest-args", default=None, help="instead of the Makefile's")
    ap.add_argument("--label", default="after")
    args = ap.parse_args(argv)
    pytest_args = shlex.split(args.pytest_args) if args.pytest_args else _pytest_args()
    cmds = stages(pytest_args)
    csv_path = OUT / "test_time.csv"
    history = list(csv.DictReader(csv_path.open())) if csv_path.exists() else []
    new = []
    for stage in args.stages.split(","):
        cmd = cmds[stage]
        load0 = _load()
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()  # fmt: skip
        print(f"[{stage}] {shlex.join(cmd)}", flush=True)
        wall, cpu, rc, text = run_stage(cmd)
        row = {"time_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "commit": commit,
               "label": args.label, "stage": stage,
               "command": shlex.join(c.replace(str(ROOT) + "/", "") for c in cmd),
               "wall_s": f"{wall:.1f}", "cpu_s": f"{cpu:.1f}", "load_before": load0,
               "load_after": _load(), "result": summary(stage, rc, text)}  # fmt: skip
        print(f"[{stage}] {row['wall_s']} s wall, {row['cpu_s']} s CPU: {row['result']}", flush=True)
        new.append(row)
    if len(new) > 1:
        new.append({**new[-1], "stage": "total", "command": "the stages above, one after the other",
                    "wall_s": f"{sum(float(r['wall_s']) for r in new):.1f}",
                    "cpu_s": f"{sum(float(r['cpu_s']) for r in new):.1f}",
                    "load_before": new[0]["load_before"], "result": ""})  # fmt: skip
    history += new
    OUT.mkdir(exist_ok=True)
    tmp = csv_path.with_name(".test_time.csv.tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(history)
    os.replace(tmp, csv_path)
    md = OUT / "test_time.md"
    tmp = md.with_name(".test_time.md.tmp")
    tmp.write_text(render(history))
    os.replace(tmp, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
