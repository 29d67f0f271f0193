"""The spreading-subtype benchmark as a workflow (``crossscale spread benchmark``).

:class:`SpreadBenchmarkConfig` -> :func:`crossscale.pipeline.spread.run` (or
:func:`run_benchmark`) -> :class:`SpreadBenchmarkResult`, whose ``save(folder)`` writes the
tables (``selection.csv``, ``confusion.csv``, ``accuracy.csv``, ``calibration.csv``,
``scaling.csv``, ``benchmark.md``), ``run.json`` and ``report.html`` atomically. The benchmark
itself is :func:`crossscale.evaluate.spread_benchmark.run_spread_benchmark`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossscale.pipeline import _checks as chk
from crossscale.pipeline._workflow import FolderResult, call_text

__all__ = ["SpreadBenchmarkConfig", "SpreadBenchmarkResult", "run_benchmark"]

_RUN = "crossscale.pipeline.spread.run"


@dataclass(frozen=True)
class SpreadBenchmarkConfig:
    """Options of the spreading-subtype benchmark (``crossscale spread benchmark``).

    Parameters
    ----------
    quick : bool
        A two-minute smoke run (small cohorts, K in 1..2).
    epochs : int
        SpreadMixtureVAE training epochs.
    seed : int
        Base seed.
    """

    quick: bool = False
    epochs: int = 50
    seed: int = 0

    def check(self) -> None:
        """Validate the options before any work."""
        from crossscale._validate import MAX_EPOCHS

        chk.at_least("--epochs", self.epochs, 1)
        chk.count("--epochs", self.epochs, 1, MAX_EPOCHS)
        chk.seed("--seed", self.seed)

    def plan(self) -> dict[str, dict[str, Any]]:
        """Keyword arguments of :func:`~crossscale.evaluate.spread_benchmark.run_spread_benchmark`."""
        e = self.epochs
        if self.quick:
            return {"selection": {"ks": (1, 2), "noises": (0.05,), "n_seeds": 1,
                                  "candidates": (1, 2, 3), "epochs": min(e, 30)},
                    "recovery": {"noises": (0.1,), "n_per_subtype": 20, "epochs": e},
                    "timing": {"sizes": (20, 40), "ls_sizes": (20, 40), "epochs": e}}  # fmt: skip
        return {"recovery": {"epochs": e}, "timing": {"epochs": e}}


@dataclass(frozen=True)
class SpreadBenchmarkResult(FolderResult):
    """The benchmark tables (``result``: a :class:`~crossscale.evaluate.spread_benchmark.SpreadBenchmark`)."""

    config: SpreadBenchmarkConfig
    result: Any

    def to_markdown(self) -> str:
        """The tables as Markdown (``benchmark.md``)."""
        return self.result.to_markdown()

    def _call(self) -> str:
        return call_text(_RUN, self.config)

    def _write(self, tmp: Path) -> None:
        for name in ("selection", "confusion", "accuracy", "calibration", "scaling"):
            getattr(self.result, name).to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "benchmark.md").write_text(self.result.to_markdown())

    def _record(self, command: str) -> dict[str, Any]:
        from crossscale._provenance import run_record

        c = self.config
        return run_record(command, parameters={"quick": c.quick, "epochs": c.epochs}, seed=c.seed,
                          seeds={"random_state": c.seed}, result=self.result.to_dict())  # fmt: skip

    def _report(self, command: str) -> Any:
        from crossscale.report.spread import build_spread_benchmark_report

        return build_spread_benchmark_report(self.result, command=command)


def run_benchmark(config: SpreadBenchmarkConfig) -> SpreadBenchmarkResult:
    """Check `config` and run the benchmark (minutes with ``quick``; hours otherwise).

    Parameters
    ----------
    config : SpreadBenchmarkConfig
        The options of the run.

    Returns
    -------
    SpreadBenchmarkResult

    Raises
    ------
    ParameterError
        Bad options, before any work.
    """
    from crossscale.evaluate.spread_benchmark import run_spread_benchmark

    config.check()
    return SpreadBenchmarkResult(config, run_spread_benchmark(random_state=config.seed,
                                                              **config.plan()))  # fmt: skip
