"""Mutation testing of the statistical and generative core (issue 25): run mutmut, write the table.

For each module of ``benchmarks/mutation.toml`` mutmut (configured in pyproject's
``[tool.mutmut]``) mutates the listed functions one change at a time and runs the unit tests
that execute them (``-m "not slow"``); a mutant is *killed* when a test fails. Survivors are
listed with their diff, or as equivalent with the reason from ``mutation.toml``. The issue's
named one-line mistakes (``[[named]]``) are applied to a copy of ``src/`` and their tests run.

Writes ``benchmarks/results/mutation.md`` and ``mutation.csv`` whole (commit, command,
parameters, load average). Run it with low priority on a shared machine::

    nice -n 15 python benchmarks/run_mutation.py                # everything (~1 h on 2 cores)
    python benchmarks/run_mutation.py --only compare --only cv  # some modules
    python benchmarks/run_mutation.py --rerun                   # every mutant, not only the
                                                                # ones not killed yet
    python benchmarks/run_mutation.py --skip-mutmut --skip-named  # re-render from mutants/

Mutation results accumulate in ``mutants/`` (mutmut's working copy; git-ignored): a run tests
only the mutants not killed yet (``--rerun``: all), so modules can be run one at a time, an
interrupted run resumes, and survivors are re-tested after new tests are written. A module that
``mutants/`` knows nothing about (another checkout ran it) keeps its row, survivors, runs and
named mistakes from the committed ``mutation.md`` / ``mutation.csv``; the ``measured at`` column
says at which commit(s) each module's mutants were last tested.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "mutation.toml"
RESULTS = ROOT / "benchmarks" / "results"
MUTANTS = ROOT / "mutants"
NAMED_JSON = MUTANTS / "named-results.json"
TIMES_JSON = MUTANTS / "module-times.json"
RUNS_JSON = MUTANTS / "runs.json"  # the mutmut runs whose results the table accumulates
COMMITS_JSON = MUTANTS / "module-commits.json"  # module -> commit its mutants were last tested at
# Modules of the table at e867fc0 (before this column existed): their mutmut runs.
LEGACY_COMMIT = "68516a0…0336ef1"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
PYTEST_ARGS = ["-x", "-q", "-m", "not slow", "-p", "no:cacheprovider"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(k, "1")
    mirror = ROOT.parent / "shared" / "data"
    if "CROSSSCALE_MIRROR" not in env and (mirror / "SOURCES.md").exists():
        env["CROSSSCALE_MIRROR"] = str(mirror)
    return env


def dotted(file: str) -> str:
    """``src/crossscale/nulls/compare.py`` -> ``crossscale.nulls.compare``."""
    return Path(file).relative_to("src").with_suffix("").as_posix().replace("/", ".")


def function_of(key: str) -> str:
    """Mangled function name of a mutant key (``...x_func__mutmut_3`` -> ``x_func``)."""
    return key.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]


def load_meta(file: str) -> dict[str, int | None]:
    meta = MUTANTS / (file + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def equivalence_reason(module: str, key: str, body: str, equivalents: list[dict]) -> int | None:
    """Index of the [[equivalent]] entry matching a survivor's changed lines, or None."""
    for i, eq in enumerate(equivalents):
        if eq["module"] == module and eq["function"] == function_of(key) and re.search(eq["diff"], body):
            return i
    return None


def run_mutmut(modules: list[dict], max_children: int, rerun: bool, equivalents: list[dict]) -> float:
    """One mutmut run over the functions of `modules` (one start-up); return the wall time.

    By default only the mutants not killed yet are (re)tested, so a run resumes where the
    last one stopped and re-tests survivors against new tests (survivors listed as equivalent
    are not re-tested); `rerun` tests every mutant.
    """
    patterns = []
    for module in modules:
        prefix = dotted(module["file"])
        meta = load_meta(module["file"])
        if rerun or not meta:
            patterns += [f"{prefix}.{fn}__mutmut_*" for fn in module["functions"]]
            continue
        for k, v in meta.items():
            if function_of(k) not in module["functions"] or status(v) in KILLED:
                continue
            if status(v) != "not checked":
                body = "\n".join(changed_lines(diff_of(k, module["file"])))
                if equivalence_reason(module["name"], k, body, equivalents) is not None:
                    continue
            patterns.append(k)
    if not patterns:
        return 0.0
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *patterns]
    label = "+".join(m["name"] for m in modules)
    print(f"[{label}] mutmut run on {len(patterns)} pattern(s)", flush=True)
    with open(MUTANTS / "mutmut-run.log", "w") as log:  # progress: tail -f mutants/mutmut-run.log
        res = subprocess.run(cmd, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT,
                             check=False)  # fmt: skip
    if res.returncode not in (0, None):
        print(f"[{label}] mutmut exited with {res.returncode}", file=sys.stderr)
    return time.perf_counter() - t0


def diff_of(key: str, file: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return get_diff_for_mutant(key, path=file)
    finally:
        os.chdir(cwd)


def changed_lines(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines()
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]  # fmt: skip


def run_named(entry: dict) -> dict:
    """Apply one named mutant to a copy of src/ and run its tests; killed = a test failed."""
    src = (ROOT / entry["file"]).read_text()
    n = src.count(entry["old"])
    if n != 1:
        return {**entry, "status": f"not applied ('old' found {n} times)", "seconds": 0.0}
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        shutil.copytree(ROOT / "src", Path(tmp) / "src")
        (Path(tmp) / entry["file"]).write_text(src.replace(entry["old"], entry["new"]))
        env = _env()
        env["PYTHONPATH"] = str(Path(tmp) / "src") + os.pathsep + env.get("PYTHONPATH", "")
        tests = [t for t in entry["tests"] if (ROOT / t).exists()]
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=False)  # fmt: skip
        seconds = time.perf_counter() - t0
    failed = re.findall(r"^FAILED (\S+)", res.stdout, flags=re.M)
    verdict = {0: "survived", 1: "killed"}.get(res.returncode, f"error (pytest exit {res.returncode})")
    return {**entry, "status": verdict, "seconds": round(seconds, 1), "tests_run": tests,
            "caught_by": failed[:3]}  # fmt: skip


def collect(modules: list[dict], equivalents: list[dict]) -> tuple[list[dict], list[dict], set]:
    """Per-module counts and the list of survivors (with diffs and equivalence reasons)."""
    rows, survivors, used = [], [], set()
    for m in modules:
        meta = {k: v for k, v in load_meta(m["file"]).items() if function_of(k) in m["functions"]}
        counts = {"killed": 0, "survived": 0, "equivalent": 0, "not checked": 0}
        for key in sorted(meta, key=lambda k: (function_of(k), int(k.rsplit("_", 1)[-1]))):
            st = status(meta[key])
            if st in KILLED:
                counts["killed"] += 1
                continue
            if st == "not checked":
                counts["not checked"] += 1
                continue
            diff = diff_of(key, m["file"])
            body = "\n".join(changed_lines(diff))
            i = equivalence_reason(m["name"], key, body, equivalents)
            reason = None if i is None else equivalents[i]["reason"]
            if i is not None:
                used.add(i)
            counts["equivalent" if reason else "survived"] += 1
            survivors.append({"module": m["name"], "mutant": key.rsplit(".", 1)[-1], "status": st,
                              "equivalent": reason or "", "diff": body})  # fmt: skip
        scored = counts["killed"] + counts["survived"]
        pct = 100.0 * counts["killed"] / scored if scored else float("nan")
        rows.append({"module": m["name"], "file": m["file"], "what": m["what"],
                     "mutants": len(meta), **counts, "pct_killed": pct})  # fmt: skip
    return rows, survivors, used


def previous_table() -> dict:
    """What the committed mutation.md / .csv say: rows, survivors, runs and named results.

    Used for the modules that ``mutants/`` has no results for, so that running some modules in
    a fresh checkout does not drop the others from the table.
    """
    prev: dict = {"rows": {}, "survivors": {}, "runs": [], "named": {}}
    csv_path, md_path = RESULTS / "mutation.csv", RESULTS / "mutation.md"
    if csv_path.exists():
        lines = [ln for ln in csv_path.read_text().splitlines() if not ln.startswith("#")]
        for r in csv.DictReader(lines):
            row = {k: int(r[k]) for k in ("mutants", "killed", "survived", "equivalent", "not checked")}
            seconds = r.get("seconds") or ""
            prev["rows"][r["module"]] = {
                **row, "module": r["module"], "file": r["file"], "pct_killed": float(r["pct_killed"]),
                "seconds": int(seconds) if seconds.isdigit() else "",
                "commit": r.get("measured_at") or LEGACY_COMMIT}  # fmt: skip
    if not md_path.exists():
        return prev
    section, item = "", None
    for ln in md_path.read_text().splitlines():
        if ln.startswith("## "):
            section, item = ln, None
            continue
        if section.startswith(("## Surviving", "## Equivalent")):
            if ln.startswith("- "):
                m = re.match(r"- (\S+) `([^`]+)`(?: \((.*?)\))?:?(?: (.*))?$", ln)
                if m:
                    item = {"module": m[1], "mutant": m[2], "status": m[3] or "survived",
                            "equivalent": m[4] or "", "diff": []}  # fmt: skip
                    prev["survivors"].setdefault(m[1], []).append(item)
            elif item is not None and ln.startswith("  ") and not ln.strip().startswith("```"):
                item["diff"].append(ln[2:])
        elif section.startswith("## The mutmut runs") and ln.startswith("| 20"):
            c = [x.strip() for x in ln.strip("|").split("|")]
            prev["runs"].append({"started": c[0], "commit": c[1].strip("`"), "command": c[2].strip("`"),
                                 "seconds": c[3], "note": c[4]})  # fmt: skip
        elif section.startswith("## The issue's named") and ln.startswith("| ") and "`" in ln:
            c = [x.strip() for x in ln.strip("|").split("|")]
            prev["named"][c[0]] = {"name": c[0], "file": "src/crossscale/" + c[1].strip("`"),
                                   "status": c[2], "caught_by": [c[3].strip("`")],
                                   "seconds": c[4]}  # fmt: skip
    for items in prev["survivors"].values():
        for it in items:
            it["diff"] = "\n".join(it["diff"])
    return prev


def render(rows, survivors, named, equivalents, used, params) -> tuple[str, str]:
    out = ["# Mutation testing of the statistical and generative core", ""]
    out += [f"- commit: `{params['commit']}`; finished {params['time']} (UTC)",
            f"- command: `{params['command']}`",
            f"- parameters: mutmut {params['mutmut']}, {params['max_children']} worker(s), "
            f"tests `pytest {shlex.join(params['pytest_args'])}` on {', '.join(params['test_dirs'])} "
            "(the tests mutmut found executing each function); functions per module in "
            "`benchmarks/mutation.toml`",
            f"- machine: {os.cpu_count()} CPU(s) shared with other jobs, load average "
            f"{params['load']} at the end; `mutmut s` = wall time of the last completed mutmut run "
            "that covered the module (one run covers several modules; empty where the runs "
            "that tested it were stopped early and resumed)", ""]  # fmt: skip
    out += ["A mutant is one small change to one function (an operator, a constant, a dropped "
            "argument...). **killed** = a unit test failed; **survived** = every test passed; "
            "**equivalent** = a survivor that cannot change any result (reason listed below). "
            "% killed = killed / (killed + survived), the equivalent ones left out. Results "
            "accumulate over runs: a run re-tests only the mutants not killed yet, against the "
            "tests of its commit. **measured at**: the commit of the last mutmut run that tested "
            "the module's mutants (its code and tests).", ""]
    out += ["| module | file | what | mutants | killed | survived | equivalent | not run | % killed | mutmut s | measured at |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in rows:
        pct = "—" if r["pct_killed"] != r["pct_killed"] else f"{r['pct_killed']:.1f}"
        out.append(f"| {r['module']} | `{r['file'].removeprefix('src/crossscale/')}` | {r['what']} "
                   f"| {r['mutants']} | {r['killed']} | {r['survived']} | {r['equivalent']} | "
                   f"{r['not checked']} | {pct} | {r.get('seconds', '')} | `{r.get('commit', '')}` |")  # fmt: skip
    tot = {k: sum(r[k] for r in rows) for k in ("mutants", "killed", "survived", "equivalent", "not checked")}
    scored = tot["killed"] + tot["survived"]
    out.append(f"| **all** | | | {tot['mutants']} | {tot['killed']} | {tot['survived']} | "
               f"{tot['equivalent']} | {tot['not checked']} | "
               f"{100 * tot['killed'] / scored if scored else float('nan'):.1f} | | |")  # fmt: skip
    runs = params.get("previous_runs", []) + (json.loads(RUNS_JSON.read_text()) if RUNS_JSON.exists() else [])
    if runs:
        out += ["", "## The mutmut runs behind the table", "",
                "| started (UTC) | commit | command | s | |", "|---|---|---|---:|---|"]
        out += [f"| {r['started']} | `{r['commit']}` | `{r['command']}` | {r['seconds'] or ''} | "
                f"{r.get('note', '')} |" for r in runs]  # fmt: skip
    out += ["", "## The issue's named one-line mistakes", "",
            "Each applied to a copy of `src/`, then its tests run (`pytest -x -m 'not slow'`).", "",
            "| mistake | file | caught? | first failing test | s |", "|---|---|---|---|---:|"]  # fmt: skip
    for n in named:
        first = n.get("caught_by", [""])[0] if n.get("caught_by") else ""
        out.append(f"| {n['name']} | `{n['file'].removeprefix('src/crossscale/')}` | {n['status']} "
                   f"| `{first}` | {n.get('seconds', '')} |")  # fmt: skip
    eq = [s for s in survivors if s["equivalent"]]
    alive = [s for s in survivors if not s["equivalent"]]
    out += ["", f"## Surviving mutants ({len(alive)})", ""]
    if not alive:
        out.append("None.")
    for s in alive:
        out += [f"- {s['module']} `{s['mutant']}` ({s['status']}):", "  ```diff",
                *[f"  {ln}" for ln in s["diff"].splitlines()], "  ```"]
    out += ["", f"## Equivalent mutants ({len(eq)})", ""]
    for s in eq:
        out += [f"- {s['module']} `{s['mutant']}`: {s['equivalent']}", "  ```diff",
                *[f"  {ln}" for ln in s["diff"].splitlines()], "  ```"]
    stale = [e for i, e in enumerate(equivalents) if i not in used
             and e["module"] in {r["module"] for r in rows}]  # fmt: skip
    if stale:
        out += ["", "## Equivalence entries that matched no survivor", ""]
        out += [f"- {e['module']} `{e['function']}` /{e['diff']}/" for e in stale]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["module", "file", "mutants", "killed", "survived",
                                        "equivalent", "not checked", "pct_killed", "seconds",
                                        "measured_at"],
                       extrasaction="ignore", lineterminator="\n")  # fmt: skip
    w.writeheader()
    for r in rows:
        w.writerow({**r, "pct_killed": f"{r['pct_killed']:.2f}", "measured_at": r.get("commit", "")})
    buf.write(f"# commit {params['commit']}; command: {params['command']}; {params['time']} UTC\n")
    return "\n".join(out) + "\n", buf.getvalue()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[], metavar="MODULE",
                    help="run only this module of mutation.toml (repeatable); the table keeps all")
    ap.add_argument("--skip-mutmut", action="store_true", help="re-render from mutants/ only")
    ap.add_argument("--skip-named", action="store_true", help="reuse the stored named results")
    ap.add_argument("--rerun", action="store_true",
                    help="test every mutant again (default: only those not killed yet)")
    ap.add_argument("--max-children", type=int, default=1, help="parallel mutmut workers")
    args = ap.parse_args(argv)
    cfg = tomllib.loads(CONFIG.read_text())
    modules, equivalents, named_cfg = cfg["module"], cfg.get("equivalent", []), cfg["named"]
    names = {m["name"] for m in modules}
    bad = [o for o in args.only if o not in names]
    if bad:
        ap.error(f"unknown module(s) {bad}; mutation.toml has {sorted(names)}")
    chosen = [m for m in modules if not args.only or m["name"] in args.only]
    MUTANTS.mkdir(exist_ok=True)
    times = json.loads(TIMES_JSON.read_text()) if TIMES_JSON.exists() else {}
    if not args.skip_mutmut:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()  # fmt: skip
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        seconds = run_mutmut(chosen, args.max_children, args.rerun, equivalents)
        runs = json.loads(RUNS_JSON.read_text()) if RUNS_JSON.exists() else []
        runs.append({"started": started, "commit": commit, "seconds": round(seconds),
                     "command": "python benchmarks/run_mutation.py " + " ".join(sys.argv[1:]),
                     "note": "completed"})  # fmt: skip
        RUNS_JSON.write_text(json.dumps(runs, indent=1))
        commits = json.loads(COMMITS_JSON.read_text()) if COMMITS_JSON.exists() else {}
        for m in chosen:  # one run for all: the time of the run it was last tested in
            times[m["name"]] = round(seconds)
            commits[m["name"]] = commit
        TIMES_JSON.write_text(json.dumps(times, indent=1))
        COMMITS_JSON.write_text(json.dumps(commits, indent=1))
    prev = previous_table()
    named = json.loads(NAMED_JSON.read_text()) if NAMED_JSON.exists() else []
    known = {n["name"] for n in named}
    named += [n for name, n in prev["named"].items() if name not in known]
    if not args.skip_named:
        chosen_files = {m["file"] for m in chosen}
        keep = {n["name"]: n for n in named}
        for entry in named_cfg:
            if not args.only or entry["file"] in chosen_files:
                print(f"[named] {entry['name']}", flush=True)
                keep[entry["name"]] = run_named(entry)
        named = [keep[e["name"]] for e in named_cfg if e["name"] in keep]
        NAMED_JSON.write_text(json.dumps(named, indent=1))
    # only the named mistakes mutation.toml still lists (a renamed or rewritten one's old result
    # would otherwise stay in the table), in its order
    order = {e["name"]: i for i, e in enumerate(named_cfg)}
    named = sorted((n for n in named if n["name"] in order), key=lambda n: order[n["name"]])
    # measured here: a module with at least one mutant tested (mutmut writes the mutants of
    # every file, so the other modules' mutants are all "not checked" in a fresh mutants/)
    done = [m for m in modules
            if any(function_of(k) in m["functions"] and status(v) != "not checked"
                   for k, v in load_meta(m["file"]).items())]  # fmt: skip
    rows, survivors, used = collect(done, equivalents)
    commits = json.loads(COMMITS_JSON.read_text()) if COMMITS_JSON.exists() else {}
    for r in rows:
        r["seconds"] = times.get(r["module"], "")
        r["commit"] = commits.get(r["module"], LEGACY_COMMIT)
    # modules mutants/ has no results for: as the committed table has them
    measured = {r["module"] for r in rows}
    for m in modules:
        if m["name"] not in measured and m["name"] in prev["rows"]:
            rows.append({**prev["rows"][m["name"]], "what": m["what"]})
            for sv in prev["survivors"].get(m["name"], []):
                survivors.append(sv)
                i = equivalence_reason(m["name"], sv["mutant"], sv["diff"], equivalents)
                if sv["equivalent"] and i is not None:
                    used.add(i)
    order = [m["name"] for m in modules]
    rows.sort(key=lambda r: order.index(r["module"]))
    survivors.sort(key=lambda sv: order.index(sv["module"]) if sv["module"] in order else len(order))
    new_runs = json.loads(RUNS_JSON.read_text()) if RUNS_JSON.exists() else []
    known_runs = {(r["started"], r["commit"]) for r in new_runs}
    from importlib.metadata import version

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    params = {
        "commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),  # fmt: skip
        "command": "python benchmarks/run_mutation.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "mutmut": version("mutmut"),
        "max_children": args.max_children,
        "pytest_args": pyproject["pytest_add_cli_args"],
        "test_dirs": pyproject["pytest_add_cli_args_test_selection"],
        "load": "/".join(f"{v:.1f}" for v in os.getloadavg()),
        "previous_runs": [r for r in prev["runs"] if (r["started"], r["commit"]) not in known_runs],
    }
    md, table = render(rows, survivors, named, equivalents, used, params)
    RESULTS.mkdir(exist_ok=True)
    _atomic_write(RESULTS / "mutation.csv", table)
    _atomic_write(RESULTS / "mutation.md", md)
    for r in rows:
        print(f"{r['module']:>16}: {r['mutants']:4d} mutants, {r['killed']:4d} killed, "
              f"{r['survived']:3d} survived, {r['equivalent']:3d} equivalent, "
              f"{r['not checked']:3d} not run, {r['pct_killed']:.1f} % killed")  # fmt: skip
    for n in named:
        print(f"[named] {n['status']:>9}: {n['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
