"""Thread pinning for small matrices: the one place that sets torch's and BLAS's thread counts.

With ~70 regions every matrix is tiny: one thread is faster than several, and far faster when
other processes compete for the cores (a 51 x 889 SVD took 2.5 s with two contended OpenBLAS
threads and 15 ms with one). :func:`torch_threads` sets torch's intra-op threads for a block
(None leaves them); :func:`single_thread` pins BLAS/OpenMP as well.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(n: int | None, *, import_torch: bool = True) -> Iterator[None]:
    """Run a block with torch at `n` intra-op threads, then restore the previous count.

    Parameters
    ----------
    n : int or None
        Threads; None changes nothing.
    import_torch : bool
        Import torch if it is not loaded yet; False leaves an unloaded torch alone.
    """
    torch = sys.modules.get("torch")
    if torch is None and import_torch and n is not None:
        import torch
    if n is None or torch is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def single_thread(torch_too: bool = True) -> Iterator[None]:
    """Pin BLAS/OpenMP (threadpoolctl) and, if `torch_too` and torch is loaded, torch to 1 thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), torch_threads(1 if torch_too else None, import_torch=False):
        yield


def set_torch_threads(n: int | None) -> None:
    """Set torch's intra-op threads for the rest of the process (a command's ``--threads``).

    Library code uses :func:`torch_threads` (restores the previous count); a command line
    process, which ends with the command, sets it once. None changes nothing.
    """
    from crossscale._validate import check_threads

    check_threads("threads", n)
    if n is not None:
        import torch

        torch.set_num_threads(int(n))
