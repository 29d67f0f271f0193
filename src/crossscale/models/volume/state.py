"""Generation state on disk: parameters record, per-step markers, resume checks, storage errors."""

from __future__ import annotations

import errno
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import CrossscaleError, ParameterError
from crossscale._utils import write_json

logger = logging.getLogger(__name__)


class GenerationStateError(ParameterError):
    """A generation state folder was made with other parameters than the resumed run."""


class StorageError(CrossscaleError, OSError):
    """Writing generation state or output failed (e.g. the disk is full)."""


def _params_record(model: Any, genes: Any, layout: Any, seed: int, shape: tuple) -> dict:
    return {"model": model.fingerprint(), "genes_sha": _field_digest(genes), "scheme": layout.scheme,
            "core": layout.core, "halo": layout.halo, "window": layout.win, "seed": int(seed),
            "shape": list(shape), "num_inference_steps": int(model.params_["num_inference_steps"]),
            "clip_sample": bool(model.params_.get("clip_sample", True))}  # fmt: skip


def _field_digest(genes: Any) -> str:
    """A cheap digest of a gene field: genes, grid and a strided sample of counts."""
    import hashlib

    h = hashlib.sha256(repr((genes.genes, genes.planes, genes.grid.to_dict())).encode())
    g, p, hh, ww = genes.shape
    sy, sx = max(1, hh // 16), max(1, ww // 16)
    h.update(np.ascontiguousarray(np.asarray(genes.counts[:, :, ::sy, ::sx])).tobytes())
    h.update(np.asarray(genes.scale, np.float32).tobytes())
    return h.hexdigest()


def _disk_error(err: OSError, where: Path) -> StorageError:
    what = "the disk is full" if err.errno in (errno.ENOSPC, errno.EDQUOT) else str(err)
    return StorageError(
        f"Writing generation state to '{where}' failed: {what}. Finished steps are kept; free "
        "space (or choose another --out) and run the same command again to resume."
    )


def _mark(state: Path, k: int, t: int) -> None:
    write_json(state / f"step_{k:04d}.done", {"step": k, "timestep": t})


def _open_state(state: Path, record: dict) -> int:
    """Create or check the state folder; return the last finished step (-1 if none)."""
    pfile = state / "params.json"
    if pfile.exists():
        old = json.loads(pfile.read_text("utf-8"))
        diff = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in record.items() if old.get(k) != v]
        if diff:
            raise GenerationStateError(
                f"The state folder '{state}' belongs to a run with other parameters "
                f"({'; '.join(diff)}). Resume with the same parameters, or delete '{state}' "
                "(or choose another --out) to start afresh."
            )
        steps = sorted(int(p.stem.split("_")[1]) for p in state.glob("step_*.done"))
        steps = [k for k in steps if (state / f"step_{k:04d}.zarr").exists()]
        if steps:
            logger.info("resuming from step %d in %s", steps[-1], state)
            return steps[-1]
        return -1
    state.mkdir(parents=True, exist_ok=True)
    write_json(pfile, record)
    return -1
