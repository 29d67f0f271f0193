"""Spreading subtypes on the connectome: simulate a cohort, fit SpreadMixtureVAE, benchmark it.

Each workflow is a frozen config -> :func:`run` -> a result whose ``save(folder)`` writes the
atomic folder, one ``run.json`` and the report (:class:`~crossscale.pipeline._workflow.FolderResult`):

- :class:`SimulateConfig` -> :class:`SimulateResult` (``crossscale spread simulate``): a
  longitudinal cohort with known subtypes (``maps.csv``, ``truth.csv``);
- :class:`CohortFitConfig` -> :class:`CohortFitResult` (``crossscale spread fit``):
  SpreadMixtureVAE on a cohort of subjects, K fixed or chosen by held-out likelihood;
- :class:`SpreadBenchmarkConfig` -> :class:`SpreadBenchmarkResult` (``crossscale spread
  benchmark``): K selection, interval coverage, recovery and fit time on simulations;
- :class:`~crossscale.pipeline.spread_groups.GroupFitConfig` -> ``GroupFitResult``
  (``crossscale spread fit-group``, and ``spread fit --adni``).

``dynamics`` is the spreading model: ``"fisher_kpp"`` (Fisher-Kolmogorov-Petrovsky-Piskunov,
logistic growth + network diffusion) or ``"diffusion"`` (network diffusion, Raj et al. 2012).
The command line names it ``--model``. Options are checked by ``config.check()`` (run first by
:func:`run`) with the messages of the command line.

References
----------
.. [1] Raj A., Kuceyeski A., Weiner M. (2012). A network diffusion model of disease progression
   in dementia. Neuron 73, 1204-1215.
.. [2] Weickenmeier J. et al. (2019). A physics-based model explains the prion-like features of
   neurodegeneration in Alzheimer's disease, Parkinson's disease, and amyotrophic lateral
   sclerosis. J Mech Phys Solids 124, 264-281.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossscale._errors import ParameterError
from crossscale.pipeline import _checks as chk
from crossscale.pipeline._workflow import FolderResult, call_text, check_out
from crossscale.pipeline.spread_benchmark import SpreadBenchmarkConfig, SpreadBenchmarkResult
from crossscale.pipeline.spread_cohort import (
    DYNAMICS,
    GRAPHS,
    CohortFitConfig,
    CohortFitResult,
    known_datasets,
    spread_graph,
)

__all__ = [
    "DYNAMICS", "CohortFitConfig", "CohortFitResult", "SimulateConfig", "SimulateResult",
    "SpreadBenchmarkConfig", "SpreadBenchmarkResult", "parse_subtypes", "run",
]  # fmt: skip

_RUN = "crossscale.pipeline.spread.run"


def parse_subtypes(text: str) -> tuple[tuple[str, float, float], ...]:
    """``"L_entorhinal:0.1:0.5,L_lateraloccipital:0.1:0.5"`` -> ((epicentre, rho, alpha), ...)."""
    out = []
    for part in str(text).split(","):
        bits = part.strip().split(":")
        if len(bits) != 3:
            raise ParameterError(
                f"--subtypes items must be EPICENTRE:RHO:ALPHA (e.g. L_entorhinal:0.1:0.5); "
                f"got {part!r}."
            )
        try:
            rho, alpha = float(bits[1]), float(bits[2])
        except ValueError:
            raise ParameterError(
                f"--subtypes: RHO and ALPHA must be numbers (EPICENTRE:RHO:ALPHA, e.g. "
                f"L_entorhinal:0.1:0.5); got {part!r}."
            ) from None
        out.append((bits[0], rho, alpha))
    return tuple(out)


# -- simulate ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimulateConfig:
    """Options of a simulated cohort (``crossscale spread simulate``).

    Parameters
    ----------
    n_subjects : int
        Subjects (1 .. 1e6).
    subtypes : str or tuple of (str, float, float)
        Epicentre, growth rate rho and spreading rate alpha (per year) of each subtype, or the
        command line's text ``"L_entorhinal:0.1:0.5,L_lateraloccipital:0.1:0.5"``.
    timepoints : str or tuple of float
        Visit times in years after the first visit (``"0,2,4"`` or a tuple), each >= 0.
    noise : float
        Gaussian noise sd (saturation = 1), >= 0.
    dynamics : {"fisher_kpp", "diffusion"}
    graph : {"connectome", "surface"}
        HCP structural connectome (ENIGMA Toolbox) or the fsaverage5 surface adjacency.
    seed : int
        Seed of the simulation (0 .. 2**32 - 1).
    """

    n_subjects: int = 60
    subtypes: str | tuple = "L_entorhinal:0.1:0.5,L_lateraloccipital:0.1:0.5"
    timepoints: str | tuple = (0.0, 2.0, 4.0)
    noise: float = 0.05
    dynamics: str = "fisher_kpp"
    graph: str = "connectome"
    seed: int = 0

    def check(self) -> None:
        """Validate every option before any work (ParameterError naming the option)."""
        chk.at_least("--n-subjects", self.n_subjects, 1)
        chk.count("--n-subjects", self.n_subjects, 1, 1_000_000)
        chk.seed("--seed", self.seed)
        chk.at_least("--noise", self.noise, 0)
        chk.one_of("--model", self.dynamics, DYNAMICS)
        chk.one_of("--graph", self.graph, GRAPHS)
        self.times()
        self.subtype_list()

    def times(self) -> list[float]:
        """The visit times as numbers (checked)."""
        text = self.timepoints if isinstance(self.timepoints, str) else ",".join(
            map(str, self.timepoints))  # fmt: skip
        return chk.float_list("--timepoints", text, minimum=0)

    def subtype_list(self) -> list[tuple[str, float, float]]:
        """The subtypes as (epicentre, rho, alpha) (checked)."""
        if isinstance(self.subtypes, str):
            return list(parse_subtypes(self.subtypes))
        return list(parse_subtypes(",".join(":".join(map(str, s)) for s in self.subtypes)))


@dataclass(frozen=True)
class SimulateResult(FolderResult):
    """A simulated cohort: ``cohort.maps`` (visits x regions), ``cohort.params`` (truth)."""

    config: SimulateConfig
    cohort: Any
    graph: Any
    datasets: list = field(default_factory=list)

    def _call(self) -> str:
        return call_text(_RUN, self.config)

    def _write(self, tmp: Path) -> None:
        self.cohort.maps.to_csv(tmp / "maps.csv")
        self.cohort.params.to_csv(tmp / "truth.csv")

    def _record(self, command: str) -> dict[str, Any]:
        from crossscale._provenance import run_record

        c = self.config
        params = {"n_subjects": c.n_subjects, "subtypes": c.subtypes, "timepoints": c.times(),
                  "noise": c.noise, "dynamics": c.dynamics, "graph": c.graph}  # fmt: skip
        return run_record(command, parameters=params, seed=c.seed,
                          datasets=known_datasets(self.datasets), seeds={"random_state": c.seed},
                          graph=self.graph.to_dict(), cohort=self.cohort.to_dict())  # fmt: skip


# -- run --------------------------------------------------------------------------------------
def _echo(text: str) -> None:
    from crossscale.pipeline._common import log_echo

    log_echo(text)


def run(config: Any, *, echo: Any = _echo) -> Any:
    """Check `config` and run its workflow; returns its result (``save(folder)`` writes it).

    Parameters
    ----------
    config : SimulateConfig, CohortFitConfig, SpreadBenchmarkConfig or GroupFitConfig
        The workflow and its options.
    echo : callable
        Receives progress messages (default: the logger).

    Returns
    -------
    SimulateResult, CohortFitResult, SpreadBenchmarkResult or GroupFitResult
        (``CohortFitConfig(adni=True)`` runs the group workflow: a GroupFitResult.)

    Raises
    ------
    ParameterError, InputDataError
        Bad options or input, before any work.
    """
    if isinstance(config, SimulateConfig):
        return _simulate(config)
    if isinstance(config, CohortFitConfig):
        from crossscale.pipeline.spread_cohort import run_cohort_fit

        return run_cohort_fit(config, echo=echo)
    if isinstance(config, SpreadBenchmarkConfig):
        from crossscale.pipeline.spread_benchmark import run_benchmark

        return run_benchmark(config)
    if type(config).__name__ == "GroupFitConfig":
        from crossscale.pipeline.spread_groups import run as run_groups

        return run_groups(config, echo=echo)
    raise ParameterError(f"run() takes a spread workflow config; got {type(config).__name__}.")


def _simulate(config: SimulateConfig) -> SimulateResult:
    from crossscale.models.spread import simulate_cohort

    config.check()
    graph, datasets = spread_graph(config.graph)
    cohort = simulate_cohort(graph, config.n_subjects, config.subtype_list(), config.times(),
                             noise=config.noise, model=config.dynamics,
                             random_state=config.seed)  # fmt: skip
    return SimulateResult(config=config, cohort=cohort, graph=graph, datasets=datasets)


def check_output(config: Any, out: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Check before any work that the run of `config` may write `out` (inputs stay intact)."""
    inputs: list[Any] = []
    if isinstance(config, CohortFitConfig):
        inputs = [config.maps, config.truth]
    elif type(config).__name__ == "GroupFitConfig":
        graph_file = config.graph if config.graph not in ("connectome", "distance", "surface") \
            else None  # fmt: skip
        inputs = [config.maps, graph_file]
    return check_out(out, overwrite=overwrite, inputs=inputs)
