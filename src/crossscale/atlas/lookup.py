"""Which atlas to use: by name, in a ``with`` block, or inferred from region names.

:func:`get_atlas` builds an atlas from a name or two ``.annot`` files, :func:`use_atlas` sets the
default of a block, :func:`resolve_atlas` infers it from region names.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.atlas.atlases import _USER_ATLASES, Atlas, _builtin
from crossscale.atlas.info import ATLASES, atlas_info
from crossscale.atlas.names import looks_like

__all__ = ["current_atlas", "get_atlas", "resolve_atlas", "use_atlas"]

_CURRENT: contextvars.ContextVar[Atlas | None] = contextvars.ContextVar(
    "crossscale_atlas", default=None
)


def get_atlas(atlas: str | Atlas | None = None) -> Atlas:
    """An :class:`Atlas` from a name, two annotation files, or the atlas in use.

    Parameters
    ----------
    atlas : str, Atlas or None
        A built-in name (``dk``, ``dk-subcortex``, ``schaefer100`` … ``schaefer400``,
        ``glasser360``), the name of a user atlas built earlier with :meth:`Atlas.from_annot`,
        ``"lh.x.annot,rh.x.annot"`` (two paths), an Atlas (returned as is), or None: the atlas
        set by :func:`use_atlas`, else ``dk``.

    Returns
    -------
    atlas : Atlas

    Raises
    ------
    ParameterError
        Unknown name.
    InputDataError
        Bad annotation files.
    """
    if isinstance(atlas, Atlas):
        return atlas
    if atlas is None:
        return _CURRENT.get() or _builtin("dk")
    text = str(atlas).strip()
    if "," in text or text.endswith(".annot"):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) != 2:
            raise ParameterError(
                f"A user atlas is two FreeSurfer .annot files, left then right, separated by a "
                f"comma ('lh.myatlas.annot,rh.myatlas.annot'); got {atlas!r}."
            )
        return Atlas.from_annot(parts[0], parts[1])
    if text in _USER_ATLASES:
        return _USER_ATLASES[text]
    return _builtin(atlas_info(text).name)


def current_atlas() -> Atlas | None:
    """The atlas set by :func:`use_atlas` in this context, or None."""
    return _CURRENT.get()


@contextmanager
def use_atlas(atlas: str | Atlas | None) -> Iterator[Atlas]:
    """Make `atlas` the default of every function called inside the ``with`` block.

    Functions that take ``atlas=None`` (nulls, figures, name matching, graphs) use it, as
    scikit-learn's ``config_context`` does for its options; an explicit ``atlas=`` still wins.
    """
    resolved = get_atlas(atlas)
    token = _CURRENT.set(resolved)
    try:
        yield resolved
    finally:
        _CURRENT.reset(token)


def resolve_atlas(
    atlas: str | Atlas | None = None, regions: Iterable[object] | None = None
) -> Atlas:
    """The atlas to use: `atlas` if given, else the one in use, else inferred from region names.

    Inference: Desikan-Killiany names give ``dk`` (``dk-subcortex`` if some are subcortical),
    Glasser names ``glasser360``; Schaefer names fit several resolutions (``7Networks_LH_Vis_1``
    is a parcel of Schaefer-100 … -400), so they need an explicit atlas.

    Raises
    ------
    RegionMismatchError
        Names of no built-in atlas, or Schaefer names without an atlas.
    """
    if atlas is not None:
        return get_atlas(atlas)
    ctx = _CURRENT.get()
    if ctx is not None or regions is None:
        return ctx or _builtin("dk")
    names = [str(r) for r in regions]
    family = looks_like(names)
    if family in (None, "dk", "dk-subcortex"):
        return _builtin("dk-subcortex" if family == "dk-subcortex" else "dk")
    if family == "glasser":
        return _builtin("glasser360")
    fits = [k for k in ATLASES if k.startswith("schaefer")
            if all(_builtin(k).canonical(n) is not None for n in names)]  # fmt: skip
    if len(fits) == 1:
        return _builtin(fits[0])
    raise RegionMismatchError(
        f"Region names such as {names[:2]} are Schaefer parcels, which several resolutions share "
        f"({', '.join(fits) or 'none fits all of them'}); say which atlas the map is in with "
        "atlas='schaefer200' (--atlas schaefer200)."
    )
