"""Checkpoints: ``model.safetensors`` (tensors) + ``config.json`` (everything else). No pickle."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import ModelStateError
from crossscale._utils import atomic_dir, write_json


def save_checkpoint(
    path: str | os.PathLike[str],
    tensors: dict[str, np.ndarray],
    config: dict[str, Any],
    *,
    overwrite: bool = True,
) -> Path:
    """Write a checkpoint folder atomically.

    Parameters
    ----------
    path : path-like
        Folder to create (replaced if it exists and `overwrite`).
    tensors : dict of str to numpy.ndarray
        Arrays stored in ``model.safetensors``.
    config : dict
        JSON-serialisable metadata stored in ``config.json``.

    Returns
    -------
    path : pathlib.Path
    """
    from safetensors.numpy import save_file

    with atomic_dir(
        path, overwrite=overwrite, option="path", marker=("config.json", "model.safetensors")
    ) as tmp:
        save_file(
            {k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp / "model.safetensors")
        )
        write_json(tmp / "config.json", config)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint folder written by :func:`save_checkpoint`.

    Raises
    ------
    ModelStateError
        If the folder lacks ``model.safetensors`` or ``config.json``.
    """
    from safetensors.numpy import load_file

    path = Path(path)
    files = [path / "model.safetensors", path / "config.json"]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise ModelStateError(
            f"'{path}' is not a crossscale checkpoint: missing {', '.join(missing)}. Pass the "
            "model/ folder written by 'crossscale fit' or GraphVAE.save()."
        )
    return load_file(str(files[0])), json.loads(files[1].read_text("utf-8"))
