"""SIGTERM and SIGHUP handled like Ctrl-C, so that every ``atomic_dir`` cleans up.

A batch scheduler's time limit sends SIGTERM; a closed terminal SIGHUP. While a command runs
(:func:`signals_as_interrupts`), either raises :class:`Terminated`, a ``KeyboardInterrupt``:
temporary folders are removed, outputs left as they were; the command line exits with
128 + the signal number (143, 129).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["HANDLED_SIGNALS", "Terminated", "interrupt_behind", "signals_as_interrupts"]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that every ``atomic_dir`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals handled like Ctrl-C; exit code 128 + the signal number (SIGTERM 143, SIGHUP 129).
HANDLED_SIGNALS = ("SIGTERM", "SIGHUP")


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Turn SIGTERM / SIGHUP into :class:`Terminated` while the command runs (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        if fired:  # a second signal during the clean-up: let the clean-up finish
            return
        fired.append(signum)
        raise Terminated(signum)

    previous = {}
    for name in HANDLED_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def interrupt_behind(err: BaseException) -> BaseException:
    """The Ctrl-C / SIGTERM that `err` wraps, else `err`.

    Python turns an exception raised while a class is built (``__set_name__``, e.g. during a lazy
    ``import torch``) into a ``RuntimeError`` whose ``__cause__`` is the original one: a signal
    arriving then is still the user's interrupt, not a bug.
    """
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        cause = cause.__cause__
    return err
