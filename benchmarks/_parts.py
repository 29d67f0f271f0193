"""A benchmark run split into parts in parallel processes: ``--part K/N`` then ``--merge N``.

Each part writes its rows to ``benchmarks/results/.<stem>.partK.csv`` with the commit it ran at,
its elapsed time and the load average; the merge checks that every part comes from one commit,
returns the rows and the run's times, and removes the part files once the table is written.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

OUT = Path(__file__).parent / "results"


def parse_part(part: str | None) -> tuple[int, int]:
    """``"K/N"`` -> (K, N); None -> (1, 1) (the whole run)."""
    if not part:
        return 1, 1
    k, n = (int(v) for v in part.split("/"))
    if not 1 <= k <= n:
        raise SystemExit(f"--part must be K/N with 1 <= K <= N; got {part}")
    return k, n


class PartClock:
    """Elapsed time and load average of one part, from its start."""

    def __init__(self) -> None:
        self.t0, self.load0 = time.perf_counter(), os.getloadavg()[0]

    def meta(self) -> dict[str, float]:
        return {"elapsed_s": time.perf_counter() - self.t0, "load_start": self.load0,
                "load_end": os.getloadavg()[0]}  # fmt: skip


def part_path(stem: str, k: int) -> Path:
    return OUT / f".{stem}.part{k}.csv"


def write_part(df: pd.DataFrame, stem: str, k: int, commit: str, clock: PartClock, **extra: str) -> None:
    """Rows of part `k`, stamped with the commit, the part's times and `extra` columns."""
    OUT.mkdir(parents=True, exist_ok=True)
    df.assign(commit=commit, **clock.meta(), **extra).to_csv(part_path(stem, k), index=False)


def read_parts(stem: str, n: int) -> tuple[pd.DataFrame, str, dict[str, float]]:
    """The rows of parts 1..n, their one commit, and the run's elapsed time and load.

    Raises SystemExit when the parts come from different commits.
    """
    parts = [pd.read_csv(part_path(stem, k)) for k in range(1, n + 1)]
    commits = {c for p in parts for c in p["commit"].unique()}
    if len(commits) != 1:
        raise SystemExit(f"parts come from different commits: {sorted(commits)}")
    meta = {"elapsed_s": max(p["elapsed_s"].iloc[0] for p in parts),
            "load_start": min(p["load_start"].iloc[0] for p in parts),
            "load_end": max(p["load_end"].iloc[0] for p in parts)}  # fmt: skip
    return pd.concat(parts, ignore_index=True), commits.pop(), meta


def remove_parts(stem: str, n: int) -> None:
    """Delete the part files of a merged run (they are this script's own output)."""
    for k in range(1, n + 1):
        part_path(stem, k).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
