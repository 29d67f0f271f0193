"""One thread for small matrices: torch and BLAS pinned while a block of small work runs.

With ~70 regions every matrix is tiny: one thread is faster than several, and far faster when
other processes compete for the cores (a 51 x 889 SVD took 2.5 s with two contended OpenBLAS
threads and 15 ms with one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def single_thread(torch_too: bool = True) -> Iterator[None]:
    """Pin BLAS/OpenMP (threadpoolctl) and, if `torch_too` and torch is loaded, torch to 1 thread."""
    import sys

    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch") if torch_too else None
    old = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None and old is not None:
                torch.set_num_threads(old)
