"""The options of a fit (``crossscale fit``) as one frozen config, checked before any work.

:class:`FitConfig` -> :func:`run` -> :class:`~crossscale.pipeline.fit_result.FitResult`, whose
``save(folder)`` writes the folder. ``config.check()`` refuses a bad option with the command
line's message (naming the option), the model's last; ``config.check_inputs()`` does all but the
model's and reads a map file's values, without importing any model library (the command line
runs it, then :func:`check_output` on the output folder, the inputs kept intact, then
:func:`run`). This module imports neither pandas nor torch: the command line imports it to check
its options fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossscale.models.registry import DEFAULT_MODEL
from crossscale.pipeline import _checks as chk

__all__ = ["FitConfig", "check_output", "run"]


@dataclass(frozen=True)
class FitConfig:
    """Options of :func:`crossscale.pipeline.fit_map`, in the command line's form.

    ``map`` is a CSV, ``"bigbrain"`` (any case) or None (the ADNI2 map of `group` and
    `timepoint`); ``atlas`` a name or ``"lh.x.annot,rh.x.annot"``; ``cv`` a comma list of
    ``loro`` / ``spatial``; ``params`` the ``KEY=VALUE`` items of ``--param``, with
    ``max_epochs`` and ``ensemble`` (``n_ensemble``) as aliases the items override; ``seed``
    and ``device`` become the model's ``random_state`` / ``device`` when it takes them. The
    other fields are :func:`~crossscale.pipeline.fit_map`'s arguments of the same name.
    """

    map: str | os.PathLike[str] | None = None
    group: str = "AD"
    timepoint: str = "baseline"
    region_column: str | None = None
    value_column: str | None = None
    atlas: str = "dk"
    expression: str | os.PathLike[str] | None = None
    gene_panel: str = "auto"
    graph: str = "surface"
    model: str = DEFAULT_MODEL
    params: tuple[str, ...] = ()
    preset: str = "default"
    max_epochs: int | None = None
    ensemble: int | None = None
    protocol: str = "inductive"
    cv: str = "loro,spatial"
    baselines: bool = True
    seed: int = 0
    device: str = "auto"
    nulls: str = "none"
    n_perm: int = 1000
    null_cv: str = "10"
    scheduler: str | None = None
    batch_size: int = 250
    interpret: bool = True
    interpret_n_perm: int = 100

    def check(self) -> dict[str, Any]:
        """Check every option before any work; return :func:`fit_map`'s keyword arguments.

        Raises
        ------
        ParameterError, InputDataError
            A bad option (the message names it and the fix), a missing input file.
        """
        schemes, atlas, map_file = self._check_options()
        from crossscale.pipeline.fit import model_params

        params = model_params(self.model, self.preset, self.params, seed=self.seed,
                              device=self.device,
                              aliases={"max_epochs": self.max_epochs, "n_ensemble": self.ensemble})  # fmt: skip
        return dict(
            map=map_file, group=self.group, timepoint=self.timepoint,
            region_column=self.region_column, value_column=self.value_column, atlas=atlas,
            expression=self.expression, gene_panel=self.gene_panel, graph=self.graph,
            model=self.model, preset=self.preset, params=params, cv=schemes,
            protocol=self.protocol, baselines=self.baselines, nulls=self.nulls,
            n_perm=self.n_perm, null_cv=self.null_cv, scheduler=self.scheduler,
            batch_size=self.batch_size, interpret=self.interpret,
            interpret_n_perm=self.interpret_n_perm, seed=self.seed,
        )  # fmt: skip

    def check_inputs(self) -> None:
        """The checks that load no model library: every option but the model's, and the inputs.

        The options, the input files and the values of a map file (read as :func:`fit_map`
        reads it). The command line runs this, then checks the output folder, then :func:`run`
        (whose :meth:`check` adds the model and its parameters: importing the model's libraries
        takes seconds, and a wrong folder or map is refused without them).

        Raises
        ------
        ParameterError, InputDataError, RegionMismatchError
            As :meth:`check`, or a map file whose values cannot be fitted.
        """
        _, atlas, map_file = self._check_options()
        if map_file not in (None, "bigbrain"):
            from crossscale.pipeline._fit_inputs import _load_map

            _load_map(map_file, self.group, self.timepoint, self.region_column, self.value_column, atlas)

    def _check_options(self) -> tuple[tuple[str, ...], Any, str | os.PathLike[str] | None]:
        """Every option but the model's and the input files exist: (CV schemes, atlas, map)."""
        schemes = self._check_numbers()
        chk.seed("--seed", self.seed)
        atlas = chk.atlas_option("--atlas", self.atlas)
        chk.one_of("--gene-panel", self.gene_panel, ("auto", "l1000", "stable"))
        map_file = self.map_file()
        if map_file != "bigbrain":
            chk.input_file("--map", map_file, what="map file")
        chk.input_file("--expression", self.expression, what="expression file")
        return schemes, atlas, map_file

    def map_file(self) -> str | os.PathLike[str] | None:
        """``map``, with any spelling of ``bigbrain`` as ``"bigbrain"``."""
        if self.map is not None and str(self.map).lower() == "bigbrain":
            return "bigbrain"
        return self.map

    def _check_numbers(self) -> tuple[str, ...]:
        """The options checked without importing a model; returns the CV schemes."""
        from crossscale._device import check_device
        from crossscale._validate import MAX_EPOCHS, MAX_PERM
        from crossscale.pipeline._common import parse_null_cv

        chk.one_of("--nulls", self.nulls, ("spin", "moran", "none"))
        schemes = chk.cv_schemes("--cv", self.cv)
        chk.one_of("--graph", self.graph, ("surface", "connectome"))
        chk.one_of("--protocol", self.protocol, ("inductive", "transductive"))
        for option, value in (("--max-epochs", self.max_epochs), ("--ensemble", self.ensemble)):
            if value is not None:
                chk.at_least(option, value, 1)
        chk.at_least("--n-perm", self.n_perm, 1, hint="Give the number of null maps, e.g. --n-perm 1000.")
        parse_null_cv(self.null_cv)
        chk.scheduler("--scheduler", self.scheduler)
        chk.at_least("--batch-size", self.batch_size, 1)
        if self.interpret:
            chk.at_least("--interpret-n-perm", self.interpret_n_perm, 1, hint="Or pass --no-interpret.")
        chk.count("--max-epochs", self.max_epochs, 1, MAX_EPOCHS)
        chk.count("--n-perm", self.n_perm, 1, MAX_PERM)
        chk.count("--ensemble", self.ensemble, 1, 10_000)
        chk.count("--batch-size", self.batch_size, 1, MAX_PERM)
        if self.interpret:
            chk.count("--interpret-n-perm", self.interpret_n_perm, 1, MAX_PERM)
        check_device(self.device)
        return schemes


def check_output(config: FitConfig, out: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Check before any work that the fit of `config` may write `out` (inputs stay intact)."""
    from crossscale._outdir import check_output_dir

    inputs = [m for m in (config.map_file(), config.expression) if m not in (None, "bigbrain")]
    return check_output_dir(out, overwrite=overwrite, inputs=inputs)


def run(config: FitConfig, *, echo: Any = None) -> Any:
    """Check `config` and fit: :func:`~crossscale.pipeline.fit_map` with its options."""
    from crossscale.pipeline.fit import fit_map

    kwargs = config.check()
    return fit_map(kwargs.pop("map"), **kwargs, **({} if echo is None else {"echo": echo}))
