"""Generation state on disk: parameters record, per-step markers, resume checks, storage errors."""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import CrossscaleError, ParameterError
from crossscale._files import write_json

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


def _walk_files(step_dir: Path) -> Iterator[str]:
    """Relative paths of the files of a step's zarr array, one directory listing at a time."""
    for root, dirs, files in os.walk(step_dir):
        dirs.sort()
        rel = Path(root).relative_to(step_dir)
        for f in sorted(files):
            yield (rel / f).as_posix()


def _mark(state: Path, k: int, t: int) -> None:
    """Mark step `k` finished, after writing the sha256 of each of its files (checked on resume).

    The manifest ``step_K.sha256`` is in ``sha256sum`` format (``sha256sum -c`` reads it) and is
    written line by line, so memory stays constant in the number of chunks.
    """
    import gc

    from crossscale._files import sha256_file

    gc.collect()  # the step's cyclic zarr garbage first: the manifest adds no memory on top of it
    step_dir = state / f"step_{k:04d}.zarr"
    manifest = state / f"step_{k:04d}.sha256"
    tmp = manifest.with_name(manifest.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for rel in _walk_files(step_dir):
            fh.write(f"{sha256_file(step_dir / rel)}  {rel}\n")
            n += 1
    os.replace(tmp, manifest)
    write_json(state / f"step_{k:04d}.done",
               {"step": k, "timestep": t, "manifest": manifest.name, "n_files": n})  # fmt: skip


def check_step(state: Path, k: int) -> list[str]:
    """What is wrong with finished step `k` of a state folder: missing or changed chunk files.

    Returns
    -------
    problems : list of str
        Empty when every file of the step's manifest is there with its recorded sha256 and no
        other file is (and for markers written before manifests existed, which cannot be
        checked).
    """
    from crossscale._files import sha256_file

    try:
        marker = json.loads((state / f"step_{k:04d}.done").read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return [f"an unreadable marker step_{k:04d}.done"]
    name = marker.get("manifest") if isinstance(marker, dict) else None
    if not isinstance(name, str):
        logger.warning("The state '%s' predates chunk manifests; step %d is not checked.", state, k)
        return []
    try:
        lines = (state / name).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [f"a missing or unreadable manifest {name}"]
    step_dir = state / f"step_{k:04d}.zarr"
    listed, missing, changed = set(), [], []
    for line in lines:
        digest, _, rel = line.partition("  ")
        listed.add(rel)
        p = step_dir / rel
        if not p.is_file():
            missing.append(rel)
        elif sha256_file(p) != digest:
            changed.append(rel)
    if len(listed) != marker.get("n_files", len(listed)):
        return [f"a manifest {name} with {len(listed)} of {marker.get('n_files')} entries"]
    extra = [rel for rel in _walk_files(step_dir) if rel not in listed] if step_dir.is_dir() else []
    problems = []
    for what, names in (("missing", missing), ("changed", changed), ("not written by the run", extra)):
        if names:
            shown = ", ".join(names[:5]) + (f" … ({len(names) - 5} more)" if len(names) > 5 else "")
            problems.append(f"{len(names)} chunk file(s) {what} ({shown})")
    return problems


def _open_state(state: Path, record: dict, *, discard_damaged: bool = False) -> int:
    """Create or check the state folder; return the last finished step (-1 if none).

    The last finished step's chunk files are checked against its manifest. A damaged step 0
    (the initial noise) is recomputed; a damaged later step is refused (GenerationStateError),
    or, with `discard_damaged`, the state is discarded and generation starts again.
    """
    import shutil

    pfile = state / "params.json"
    if pfile.exists():
        try:
            old = json.loads(pfile.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError):
            old = {"params.json": "unreadable"}
        diff = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in record.items() if old.get(k) != v]
        if diff:
            raise GenerationStateError(
                f"The state folder '{state}' belongs to a run with other parameters "
                f"({'; '.join(diff)}). Resume with the same parameters, or delete '{state}' "
                "(or choose another --out) to start afresh."
            )
        steps = sorted(int(p.stem.split("_")[1]) for p in state.glob("step_*.done")
                       if p.stem.split("_")[1].isdigit())  # fmt: skip
        steps = [k for k in steps if (state / f"step_{k:04d}.zarr").exists()]
        if not steps:
            return -1
        last = steps[-1]
        problems = check_step(state, last)
        if not problems:
            logger.info("resuming from step %d in %s", last, state)
            return last
        if last == 0 or discard_damaged:
            logger.warning(
                "The generation state '%s' is damaged at step %d (%s); %s.", state, last,
                "; ".join(problems),
                "the initial noise is recomputed" if last == 0 else "it is discarded (--overwrite) "
                "and generation starts again",
            )  # fmt: skip
            for p in state.iterdir():
                if p.name != "params.json":
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            return -1
        raise GenerationStateError(
            f"The generation state '{state}' is damaged: step {last} has "
            f"{'; '.join(problems)}. Resuming from it would give wrong output (a missing chunk "
            "reads as zeros). Put the files back, or rerun with --overwrite to discard the "
            "state and generate again from the start (the same seed gives the same result)."
        )
    state.mkdir(parents=True, exist_ok=True)
    write_json(pfile, record)
    return -1
