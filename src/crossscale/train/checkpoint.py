"""Checkpoints: ``model.safetensors`` (tensors) + ``config.json`` (everything else). No pickle.

:class:`CheckpointMixin` gives an estimator ``save(path)`` and ``load(path, ...)`` from two hooks,
so every model writes the same atomic folder with the same header (``"model"``: the class name,
``"crossscale_version"``, and ``"atlas"``: the parcellation the model was fitted on, when it has a
region graph). Loading with ``atlas=`` (or a graph of another atlas) refuses a checkpoint of a
different parcellation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from crossscale._errors import ModelStateError
from crossscale._files import sha256_file, write_json
from crossscale._outdir import atomic_dir


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
    overwrite : bool, default True
        Replace an existing checkpoint folder (never a folder that is not one).

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
        weights = tmp / "model.safetensors"
        config = {k: v for k, v in config.items() if k != INTEGRITY_KEY}
        config[INTEGRITY_KEY] = {
            "config_sha256": config_digest(config),
            "safetensors_sha256": sha256_file(weights),
            "safetensors_bytes": weights.stat().st_size,
        }
        write_json(tmp / "config.json", config)
    return Path(path)


#: Key of config.json that holds the checksums of the checkpoint (checked by load_checkpoint).
INTEGRITY_KEY = "integrity"


def config_digest(config: dict[str, Any]) -> str:
    """sha256 of a checkpoint config (genes, regions, parameters ...) without its checksums.

    Canonical JSON (sorted keys, as written): any edit of config.json, a reordered gene list
    included, changes it.
    """
    import hashlib

    from crossscale._files import _jsonable

    body = {k: v for k, v in config.items() if k != INTEGRITY_KEY}
    text = json.dumps(_jsonable(body), sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_safetensors(path: Path) -> None:
    """The safetensors file is whole: an 8-byte header length, a JSON header, all tensor bytes."""
    size = path.stat().st_size
    problem = None
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            problem = f"it has {size} bytes, fewer than a safetensors header"
        else:
            n = int.from_bytes(head, "little")
            if n <= 0 or 8 + n > size:
                problem = (f"its header claims {n} bytes but the file has {size} (truncated or "
                           "not a safetensors file)")  # fmt: skip
            else:
                try:
                    header = json.loads(fh.read(n).decode("utf-8"))
                    ends = [int(v["data_offsets"][1]) for k, v in header.items()
                            if k != "__metadata__"]  # fmt: skip
                except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
                    problem = "its header is not valid safetensors JSON"
                else:
                    need = 8 + n + max(ends, default=0)
                    if need != size:
                        problem = (f"its tensors need {need} bytes but the file has {size} "
                                   f"({'truncated' if size < need else 'extra bytes at the end'})")  # fmt: skip
    if problem is not None:
        raise ModelStateError(
            f"'{path}' is damaged: {problem}. Copy the checkpoint again from where it was "
            "written, or refit and save the model."
        )


def _check_integrity(path: Path, config: dict[str, Any], weights: Path) -> None:
    """Compare config.json and model.safetensors with the checksums written at save time."""
    sums = config.get(INTEGRITY_KEY)
    if not isinstance(sums, dict):
        return  # written before checksums existed: the safetensors header check only
    if sums.get("config_sha256") != config_digest(config):
        raise ModelStateError(
            f"'{path / 'config.json'}' was edited after the model was saved (its content no "
            "longer has the sha256 recorded in it): its genes, regions or parameters may not "
            "match the weights (a reordered gene list would silently feed genes to the wrong "
            "inputs). Put back the original config.json, or refit and save the model."
        )
    size = weights.stat().st_size
    if sums.get("safetensors_bytes") not in (None, size) or (
        sums.get("safetensors_sha256") and sha256_file(weights) != sums["safetensors_sha256"]
    ):
        raise ModelStateError(
            f"'{weights}' is not the file saved with this config.json ({size} bytes; its sha256 "
            "differs from the one recorded): the weights were changed, damaged or swapped. "
            "Copy the checkpoint again, or refit and save the model."
        )


def load_checkpoint(
    path: str | os.PathLike[str], model: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a checkpoint folder written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : path-like
        The checkpoint folder.
    model : str or None
        If given, the class the checkpoint must hold (its config key ``"model"``).

    Raises
    ------
    ModelStateError
        If the folder lacks ``model.safetensors`` or ``config.json``, holds another model, or
        is damaged or edited: a truncated safetensors file (header and length checked), or a
        config.json / model.safetensors whose sha256 differs from the one recorded at save time
        (``config.json`` ``"integrity"``; checkpoints written before it get the header check).
    """
    from safetensors.numpy import load_file

    path = Path(path)
    files = [path / "model.safetensors", path / "config.json"]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise ModelStateError(
            f"'{path}' is not a crossscale checkpoint: missing {', '.join(missing)}. Pass the "
            "folder written by the model's save() (e.g. the model/ folder of 'crossscale fit')."
        )
    try:
        config = json.loads(files[1].read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelStateError(
            f"'{files[1]}' is not valid JSON ({err}); the checkpoint is damaged. Copy it again, "
            "or refit and save the model."
        ) from None
    if not isinstance(config, dict):
        raise ModelStateError(f"'{files[1]}' is not a JSON object; the checkpoint is damaged.")
    _check_safetensors(files[0])
    _check_integrity(path, config, files[0])
    config.pop(INTEGRITY_KEY, None)
    if model is not None and config.get("model") != model:
        held = config.get("model")
        if held is None:
            raise ModelStateError(
                f"'{path}' has a config.json that names no model (no 'model' key), so it is not a "
                f"{model} checkpoint; pass a folder written by {model}.save(), or refit and save."
            )
        raise ModelStateError(
            f"'{path}' holds a {held!r} checkpoint, not a {model} one; pass a folder written by "
            f"{model}.save(), or load it with {held}.load()."
        )
    try:
        tensors = load_file(str(files[0]))
    except Exception as err:  # safetensors raises its own error types for a bad file
        raise ModelStateError(
            f"'{files[0]}' could not be read as safetensors ({err}); the checkpoint is damaged. "
            "Copy it again, or refit and save the model."
        ) from None
    return tensors, config


class CheckpointMixin:
    """``save`` / ``load`` for an estimator, from two hooks.

    The folder is written atomically (a failed save leaves an existing checkpoint untouched);
    ``config.json`` starts with ``"model"`` (:attr:`checkpoint_name`, default the class name)
    and ``"crossscale_version"``. Subclasses implement:

    * ``_checkpoint_state(self) -> (tensors, config)``: arrays for ``model.safetensors`` and
      JSON-safe metadata;
    * ``_from_checkpoint(cls, tensors, config, *, path, **kwargs) -> estimator``: rebuild a
      fitted estimator (``kwargs`` are those given to :meth:`load`, e.g. ``graph=``);
    * ``_check_fitted(self)``: raise :class:`~crossscale.ModelStateError` when unfitted.
    """

    checkpoint_name: ClassVar[str | None] = None

    @classmethod
    def _checkpoint_model(cls) -> str:
        return cls.checkpoint_name or cls.__name__

    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        raise NotImplementedError

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, np.ndarray], config: dict[str, Any], *,
                         path: Path, **kwargs: Any) -> Any:  # fmt: skip
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
        """Write ``model.safetensors`` + ``config.json`` into the folder `path` (atomic, no pickle).

        Parameters
        ----------
        path : path-like
            Folder to write (replaced if it holds a checkpoint and `overwrite`).
        overwrite : bool, default True
            Replace an existing checkpoint folder (never a folder that is not one).

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        ModelStateError
            If the estimator is not fitted.
        """
        from crossscale import __version__

        self._check_fitted()  # type: ignore[attr-defined]
        tensors, config = self._checkpoint_state()
        header = {"model": self._checkpoint_model(), "crossscale_version": __version__}
        atlas = self._checkpoint_atlas()
        if atlas is not None:
            header["atlas"] = atlas
        return save_checkpoint(path, tensors, header | config, overwrite=overwrite)

    def _checkpoint_atlas(self) -> dict[str, Any] | None:
        """The atlas of the fitted region graph (``graph_``), or None for models without one."""
        graph = getattr(self, "graph_", None)
        atlas = getattr(graph, "atlas", None)
        if atlas is None:
            return None
        return {"name": atlas.name, "n_regions": atlas.n_regions, "hash": atlas.hash(),
                "sources": list(atlas.sources)}  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, atlas: Any = None, **kwargs: Any) -> Any:
        """Load an estimator saved with :meth:`save`.

        Parameters
        ----------
        path : path-like
            The checkpoint folder.
        atlas : str, Atlas or None
            If given (or if a ``graph=`` keyword carries one), the parcellation the model must
            have been fitted on.
        **kwargs
            Passed to the model's loader (e.g. ``graph=``).

        Raises
        ------
        ModelStateError
            If `path` is not a checkpoint of this class, or was fitted on another atlas.
        """
        tensors, config = load_checkpoint(path, cls._checkpoint_model())
        if atlas is None and getattr(kwargs.get("graph"), "atlas", None) is not None:
            atlas = kwargs["graph"].atlas
        check_checkpoint_atlas(config, atlas, path=Path(path))
        model = cls._from_checkpoint(tensors, config, path=Path(path), **kwargs)
        _attach_atlas(model, config, atlas)
        return model


def checkpoint_atlas_name(config: dict[str, Any]) -> str:
    """The atlas a checkpoint's config records (``"dk"`` for checkpoints written before atlases)."""
    entry = config.get("atlas")
    return "dk" if entry is None else str(entry.get("name", "dk"))


def check_checkpoint_atlas(config: dict[str, Any], atlas: Any, *, path: Path) -> None:
    """Refuse a checkpoint fitted on another parcellation than `atlas` (None: no check).

    Raises
    ------
    ModelStateError
        Naming both atlases and how to fix it.
    """
    if atlas is None:
        return
    from crossscale.atlas import get_atlas

    wanted = get_atlas(atlas)
    held = checkpoint_atlas_name(config)
    entry = config.get("atlas") or {}
    same = held == wanted.name and (not entry.get("hash") or entry["hash"] == wanted.hash())
    if not same:
        raise ModelStateError(
            f"The model at '{path}' was fitted on the '{held}' atlas "
            f"({entry.get('n_regions', 68)} regions), not on '{wanted.name}' "
            f"({wanted.n_regions} regions): its regions, graph and genes belong to that "
            f"parcellation. Use --atlas {held} (atlas='{held}'), or refit the model on "
            f"'{wanted.name}'."
        )


def _attach_atlas(model: Any, config: dict[str, Any], atlas: Any) -> None:
    """Give the loaded model's graph its atlas (the one passed, or a built-in one by name)."""
    graph = getattr(model, "graph_", None)
    if graph is None or getattr(graph, "atlas", None) is not None:
        return
    from crossscale.atlas import ATLASES, get_atlas

    name = checkpoint_atlas_name(config)
    if atlas is not None:
        graph.atlas = get_atlas(atlas)
    elif name in ATLASES:
        graph.atlas = get_atlas(name)
