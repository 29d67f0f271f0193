"""One formatter for the lists that error messages and logs show: quoted, shortened."""

from __future__ import annotations

from collections.abc import Iterable


def format_list(items: Iterable[object], limit: int = 6, *, quote: bool = True) -> str:
    """``'a', 'b', … (3 more)``: the first `limit` items, quoted unless `quote` is False.

    Parameters
    ----------
    items : iterable
        Anything; each item is shown as ``str(item)``.
    limit : int
        How many items to show before the ``… (n more)`` tail.
    quote : bool
        Whether each item is wrapped in single quotes.
    """
    items = [str(x) for x in items]
    shown = ", ".join(f"'{x}'" if quote else x for x in items[:limit])
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "")
