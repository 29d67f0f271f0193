"""The options of a benchmark (``crossscale benchmark``) as one frozen config, checked first.

:class:`BenchmarkConfig` -> :func:`run` -> :class:`~crossscale.pipeline.benchmark.BenchmarkResult`,
whose ``save(folder)`` writes the folder. ``config.check()`` refuses a bad number before any
model library is imported, then checks the maps, the model and its parameters, with the command
line's messages. This module imports neither pandas nor torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossscale.models.registry import DEFAULT_MODEL
from crossscale.pipeline import _checks as chk

__all__ = ["BenchmarkConfig", "check_output", "run"]


@dataclass(frozen=True)
class BenchmarkConfig:
    """Options of :func:`crossscale.pipeline.benchmark_maps`, in the command line's form.

    ``maps`` is a comma list (``ad``, ``lmci``, ``emci``, ``enigma-thickness``, registry keys);
    ``params`` the ``KEY=VALUE`` items of ``--param``, with ``max_epochs`` and ``ensemble``
    (``n_ensemble``) as aliases the items override; ``atlas`` a name. The other fields are
    :func:`~crossscale.pipeline.benchmark_maps`'s arguments of the same name.
    """

    maps: str = "ad"
    n_perm: int = 100
    null_cv: str = "10"
    scheduler: str | None = None
    batch_size: int = 250
    null_models: str = "all"
    model: str = DEFAULT_MODEL
    params: tuple[str, ...] = ()
    preset: str = "default"
    max_epochs: int | None = None
    ensemble: int | None = None
    atlas: str = "dk"
    gene_panel: str = "auto"
    seed: int = 0
    device: str = "auto"

    def check(self) -> dict[str, Any]:
        """Check every option before any work; return :func:`benchmark_maps`'s keyword arguments.

        Raises
        ------
        ParameterError
            A bad option (the message names it and the fix).
        """
        atlas, keys = self._check_options()
        from crossscale.models import registry
        from crossscale.models.baselines import default_baselines
        from crossscale.pipeline.benchmark import resolve_null_models
        from crossscale.pipeline.fit import model_params

        params = model_params(self.model, self.preset, self.params, seed=self.seed,
                              device=self.device,
                              aliases={"max_epochs": self.max_epochs, "n_ensemble": self.ensemble})  # fmt: skip
        resolve_null_models(self.null_models, [registry.get(self.model).label, *default_baselines()])
        return dict(
            maps=keys, model=self.model, preset=self.preset, params=params, n_perm=self.n_perm,
            null_cv=self.null_cv, null_models=self.null_models, scheduler=self.scheduler,
            batch_size=self.batch_size, seed=self.seed, atlas=atlas, gene_panel=self.gene_panel,
        )  # fmt: skip

    def check_inputs(self) -> None:
        """The checks that load no model library: every option but the model's, and the maps.

        The command line runs this, then checks the output folder, then :func:`run` (whose
        :meth:`check` adds the model, its parameters and ``null_models``: importing the models'
        libraries takes seconds, and a wrong folder is refused without them).
        """
        self._check_options()

    def _check_options(self) -> tuple[Any, list[str]]:
        """Every option but the model's and ``null_models``: (atlas, map keys)."""
        from crossscale._validate import MAX_EPOCHS, MAX_PERM

        # the numbers first: no import of the models is needed to refuse them
        chk.seed("--seed", self.seed)
        chk.at_least("--n-perm", self.n_perm, 0, hint="0 skips the null refits.")
        chk.count("--n-perm", self.n_perm, 0, MAX_PERM)
        chk.count("--max-epochs", self.max_epochs, 1, MAX_EPOCHS)
        chk.count("--ensemble", self.ensemble, 1, 10_000)
        chk.count("--batch-size", self.batch_size, 1, MAX_PERM)
        from crossscale._device import check_device
        from crossscale._errors import ParameterError
        from crossscale.maps.catalog import resolve_maps
        from crossscale.pipeline._common import parse_null_cv

        atlas = chk.atlas_option("--atlas", self.atlas)
        chk.one_of("--gene-panel", self.gene_panel, ("auto", "l1000", "stable"))
        keys = resolve_maps(self.maps, atlas)
        if self.n_perm and parse_null_cv(self.null_cv) is None:
            raise ParameterError("--null-cv must name a CV scheme when --n-perm > 0.")
        chk.scheduler("--scheduler", self.scheduler)
        chk.at_least("--batch-size", self.batch_size, 1)
        for option, value in (("--max-epochs", self.max_epochs), ("--ensemble", self.ensemble)):
            if value is not None:
                chk.at_least(option, value, 1)
        check_device(self.device)
        return atlas, keys


def check_output(config: BenchmarkConfig, out: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Check before any work that the benchmark may write `out`."""
    from crossscale._outdir import check_output_dir

    return check_output_dir(out, overwrite=overwrite)


def run(config: BenchmarkConfig, *, echo: Any = None) -> Any:
    """Check `config` and run :func:`~crossscale.pipeline.benchmark_maps` with its options."""
    from crossscale.pipeline.benchmark import benchmark_maps

    kwargs = config.check()
    return benchmark_maps(kwargs.pop("maps"), **kwargs, **({} if echo is None else {"echo": echo}))
