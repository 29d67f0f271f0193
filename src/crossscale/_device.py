"""Check a ``device`` option before any work: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""

from __future__ import annotations

import re

from crossscale._errors import ParameterError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(device: str, *, option: str = "device") -> str:
    """The torch device string to use: `device` checked (:func:`check_device`), ``auto`` resolved.

    Parameters
    ----------
    device : str
        ``'auto'`` (CUDA when present), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    option : str
        How the message names the parameter.

    Returns
    -------
    device : str
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.

    Raises
    ------
    ParameterError
        As :func:`check_device` (e.g. CUDA asked for on a machine without it).
    """
    value = check_device(device, option=option)
    if value == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return value


def check_device(device: str, *, option: str = "--device") -> str:
    """Return `device` if it is valid and usable here, else raise a clear error.

    Parameters
    ----------
    device : str
        ``'auto'`` (CUDA when present), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    option : str
        How the message names the option.

    Returns
    -------
    device : str
        The same string (``'auto'`` is resolved later by the estimator).

    Raises
    ------
    ParameterError
        If the value is not one of the forms above, or names CUDA (or a CUDA device index) that
        this machine does not have.
    """
    value = str(device).strip().lower()
    if not _DEVICE.match(value):
        raise ParameterError(f"{option} must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}.")
    if value.startswith("cuda"):
        if _cpu_only_torch():  # refused without importing torch (seconds of start-up)
            raise ParameterError(
                f"{option} {device!r} asks for a GPU, but this PyTorch build has no CUDA support "
                f"(a CPU-only wheel). Use {option} cpu, or {option} auto to use CUDA only when "
                "present."
            )
        import torch

        if not torch.cuda.is_available():
            built = getattr(torch.version, "cuda", None)
            why = (
                "this PyTorch build has no CUDA support (a CPU-only wheel)"
                if built is None
                else f"no CUDA GPU is visible (PyTorch built for CUDA {built})"
            )
            raise ParameterError(
                f"{option} {device!r} asks for a GPU, but {why}. Use {option} cpu, or "
                f"{option} auto to use CUDA only when present."
            )
        if ":" in value:
            index, count = int(value.split(":")[1]), torch.cuda.device_count()
            if index >= count:
                raise ParameterError(
                    f"{option} {device!r}: this machine has {count} CUDA device(s) "
                    f"(cuda:0 … cuda:{count - 1}). Choose one of them, or {option} cuda."
                )
    return value


def _cpu_only_torch() -> bool:
    """True when the installed torch is a CPU-only build, read from ``torch/version.py``.

    The file is parsed, not imported, so refusing ``--device cuda`` does not load torch; any
    doubt (torch already loaded, no such file, a CUDA or ROCm build) returns False.
    """
    import ast
    import importlib.util
    import sys
    from pathlib import Path

    if "torch" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("torch")
        where = list(spec.submodule_search_locations or []) if spec else []
        tree = ast.parse((Path(where[0]) / "version.py").read_text())
    except (ImportError, IndexError, OSError, SyntaxError, ValueError):
        return False
    built = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and node.value is not None:
            try:
                built[target.id] = ast.literal_eval(node.value)
            except ValueError:
                built[target.id] = "?"
    return "cuda" in built and built.get("cuda") is None and built.get("hip") is None
