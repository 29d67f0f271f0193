"""The shared base of the workflows' results: ``save(folder)`` written once.

A workflow is a frozen ``*Config`` (its options, checked by ``config.check()`` before any work)
-> ``run(config)`` -> a result deriving from :class:`FolderResult`, whose :meth:`~FolderResult.save`
writes the whole output folder atomically (:func:`crossscale._outdir.atomic_dir`): the workflow's
tables (``_write``), one ``run.json`` from :func:`crossscale._provenance.run_record` and the
report (``_report``), in that order, so that a failed or interrupted save leaves nothing.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["FolderResult", "call_text", "command_line", "check_out"]


def call_text(func: str, config: Any) -> str:
    """The Python call of a run, as run.json's ``command`` records it.

    Only the options that differ from the defaults are written, e.g.
    ``crossscale.pipeline.spread.run(SimulateConfig(n_subjects=8))``.
    """
    given = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if value != default:
            given.append(f"{f.name}={value!r}")
    return f"{func}({type(config).__name__}({', '.join(given)}))"


def command_line() -> str:
    """The command line of this process (``crossscale spread fit maps.csv --out fit``)."""
    return "crossscale " + " ".join(sys.argv[1:])


def check_out(
    out: str | os.PathLike[str], *, overwrite: bool, inputs: Iterable[Any] = (), **kw: Any
) -> Path:
    """The output guard of every workflow, run before any work (see ``check_output_dir``)."""
    from crossscale._outdir import check_output_dir

    return check_output_dir(out, overwrite=overwrite, inputs=[i for i in inputs if i], **kw)


class FolderResult:
    """Mixin of the workflow results: ``save`` writes tables, run.json and report atomically.

    Subclasses (frozen dataclasses) define ``_write(tmp)`` (the tables and models),
    ``_record(command)`` (the :func:`~crossscale._provenance.run_record` of the run),
    ``_report(command)`` (a :class:`~crossscale.report.Report` or None), ``_inputs()`` (the
    input files, which the folder may never be or contain) and ``_call()`` (the Python call).
    """

    def _write(self, tmp: Path) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _record(self, command: str) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _report(self, command: str) -> Any:
        return None

    def _inputs(self) -> list[Any]:
        return []

    def _call(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def save(
        self, folder: str | os.PathLike[str], *, overwrite: bool = False, command: str | None = None
    ) -> Path:
        """Write the run to `folder` atomically: its tables, ``run.json`` and ``report.html``.

        Parameters
        ----------
        folder : path-like
            The output folder; it is created (or, with `overwrite`, replaced) only when every
            file has been written.
        overwrite : bool
            Replace an existing folder that crossscale wrote.
        command : str or None
            run.json's and the report's ``command`` (the command line passes its own); default
            the Python call of the run.

        Returns
        -------
        folder : pathlib.Path

        Raises
        ------
        ParameterError
            `folder` may not be written (see :func:`crossscale._outdir.check_output_dir`).
        """
        from crossscale._files import write_json
        from crossscale._outdir import atomic_dir

        command = command or self._call()
        inputs = [i for i in self._inputs() if i]
        with atomic_dir(folder, overwrite=overwrite, inputs=inputs) as tmp:
            self._write(tmp)
            write_json(tmp / "run.json", self._record(command))
            report = self._report(command)
            if report is not None:
                report.save(tmp / "report.html")
        return Path(folder)
