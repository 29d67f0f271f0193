"""The options of ``crossscale interpret`` as one frozen config, checked before any work.

:class:`InterpretConfig` -> :func:`run` -> :class:`~crossscale.pipeline.interpret.InterpretResult`,
whose ``save(folder)`` writes ``RESULTS_DIR/interpretation``. ``config.check()`` refuses a bad
option with the command line's message; :func:`check_output` guards the output folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossscale.pipeline import _checks as chk

__all__ = ["InterpretConfig", "check_output", "run"]


@dataclass(frozen=True)
class InterpretConfig:
    """Options of :func:`crossscale.pipeline.interpret.interpret_run` (the same names)."""

    results_dir: str | os.PathLike[str]
    gmt: tuple[str | os.PathLike[str], ...] = ()
    n_perm: int = 100
    n_replicates: int = 10
    holdout: float = 0.1
    n_steps: int = 32
    n_random: int = 10000
    n_map_spins: int = 1000
    n_clusters: int | None = None
    seed: int = 0
    atlas: str | None = None
    expression: str | os.PathLike[str] | None = None

    def check(self) -> tuple[Path, Path]:
        """Check every option before any work; return the fit's ``run.json`` and ``model/``.

        Raises
        ------
        ParameterError, InputDataError
            A bad option (named), a folder that is not a fit's, a missing input file.
        """
        from crossscale.pipeline.interpret import fit_run_files

        run_file, model_dir = fit_run_files(self.results_dir)
        for option, value, minimum in [
            ("--n-perm", self.n_perm, 1), ("--n-replicates", self.n_replicates, 1),
            ("--n-steps", self.n_steps, 1), ("--n-random", self.n_random, 1),
            ("--n-map-spins", self.n_map_spins, 1),
        ]:  # fmt: skip
            chk.at_least(option, value, minimum)
            chk.count(option, value, minimum, 1_000_000)
        chk.seed("--seed", self.seed)
        chk.in_range("--holdout", self.holdout, 0.0, 1.0, closed="left")
        if self.n_clusters is not None:
            chk.at_least("--n-clusters", self.n_clusters, 2)
            chk.count("--n-clusters", self.n_clusters, 2, 1000)
        for path in self.gmt:
            chk.input_file("--gmt", path, what="GMT gene-set file")
        if self.atlas is not None:
            chk.atlas_option("--atlas", self.atlas)
        chk.input_file("--expression", self.expression, what="expression file")
        return run_file, model_dir


def check_output(config: InterpretConfig, *, overwrite: bool) -> Path:
    """Check before any work that ``RESULTS_DIR/interpretation`` may be written (checks `config`)."""
    from crossscale._outdir import check_output_dir

    run_file, model_dir = config.check()
    return check_output_dir(
        Path(config.results_dir) / "interpretation", overwrite=overwrite,
        option="RESULTS_DIR/interpretation", inputs=[*config.gmt, run_file, model_dir],
    )  # fmt: skip


def run(config: InterpretConfig, *, echo: Any = None) -> Any:
    """Interpret the fit of `config`: :func:`~crossscale.pipeline.interpret.interpret_run`."""
    from crossscale.pipeline.interpret import interpret_run

    return interpret_run(
        config.results_dir, gmt=list(config.gmt), n_perm=config.n_perm,
        n_replicates=config.n_replicates, holdout=config.holdout, n_steps=config.n_steps,
        n_random=config.n_random, n_map_spins=config.n_map_spins, n_clusters=config.n_clusters,
        seed=config.seed, atlas=config.atlas, expression=config.expression,
        **({} if echo is None else {"echo": echo}),
    )  # fmt: skip
