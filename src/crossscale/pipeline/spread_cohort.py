"""SpreadMixtureVAE on a cohort of subjects as a workflow (``crossscale spread fit``).

:class:`CohortFitConfig` -> :func:`crossscale.pipeline.spread.run` (or :func:`run_cohort_fit`)
-> :class:`CohortFitResult`, whose ``save(folder)`` writes ``model/``, ``subjects.csv``,
``subtypes.csv``, ``epicentre_proba.csv``, ``history.csv`` (``selection.csv`` when K was
chosen), ``run.json`` and ``report.html`` atomically. K is fixed or chosen by the held-out log
predictive density (:func:`crossscale.models.spread.select_n_subtypes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossscale._errors import ParameterError
from crossscale.pipeline import _checks as chk
from crossscale.pipeline._workflow import FolderResult, call_text

__all__ = [
    "DYNAMICS", "GRAPHS", "CohortFitConfig", "CohortFitResult", "known_datasets", "run_cohort_fit",
    "spread_graph",
]  # fmt: skip

#: Spreading dynamics of simulate / fit (``--model`` on the command line).
DYNAMICS = ("fisher_kpp", "diffusion")
#: Graphs of simulate / fit.
GRAPHS = ("connectome", "surface")
_RUN = "crossscale.pipeline.spread.run"


def spread_graph(name: str) -> tuple[Any, list[str]]:
    """The region graph of ``connectome`` / ``surface`` and the registry datasets it reads."""
    from crossscale.pipeline.spread_groups import load_graph

    graph, _, datasets = load_graph(name)
    return graph, datasets


def known_datasets(datasets: list[str]) -> list[str]:
    """The registry keys among `datasets` (run.json records their files' hashes)."""
    from crossscale.datasets import registry

    known = registry()
    return [k for k in datasets if k in known]


@dataclass(frozen=True)
class CohortFitConfig:
    """Options of a SpreadMixtureVAE fit to a cohort (``crossscale spread fit``).

    Parameters
    ----------
    maps : str or None
        CSV of visits: columns ``subject``, ``time`` (optional), then the 68 DK regions (as
        written by :class:`SimulateConfig`'s run). None with ``adni=True``.
    adni : bool
        Fit the bundled ADNI2 group maps instead (the group workflow, :func:`group_config`).
    n_subtypes : int or "auto"
        K, or ``"auto"``: held-out log predictive density over 1 .. `max_subtypes` with the
        one-standard-error rule (`selection_repeats` held-out splits).
    truth : str or None
        ``truth.csv`` of a simulated cohort: adds simulated-vs-true panels to the report (read
        only when given).
    dynamics : {"fisher_kpp", "diffusion"}
    epochs : int
        Training epochs (EM rounds follow).
    n_rewired, n_length : int
        With `adni`: degree- and degree-and-length-preserving null graphs.
    graph : {"connectome", "surface"}
    seed : int
    """

    maps: str | None = None
    adni: bool = False
    n_subtypes: int | str = 2
    max_subtypes: int = 4
    selection_repeats: int = 2
    truth: str | None = None
    dynamics: str = "fisher_kpp"
    epochs: int = 100
    n_rewired: int = 100
    n_length: int = 100
    graph: str = "connectome"
    seed: int = 0

    def k(self) -> int | str:
        """`n_subtypes` as an integer >= 1, or ``"auto"`` (the one place it is parsed)."""
        if self.n_subtypes == "auto":
            return "auto"
        try:
            k = int(self.n_subtypes)
        except (TypeError, ValueError):
            raise ParameterError(
                f"--n-subtypes must be an integer or 'auto'; got {self.n_subtypes!r}."
            ) from None
        chk.at_least("--n-subtypes", k, 1)
        return k

    def check(self) -> None:
        """Validate every option and input path before any work."""
        from crossscale._validate import MAX_EPOCHS, MAX_PERM

        chk.one_of("--model", self.dynamics, DYNAMICS)
        chk.one_of("--graph", self.graph, GRAPHS)
        chk.at_least("--epochs", self.epochs, 1)
        chk.count("--epochs", self.epochs, 1, MAX_EPOCHS)
        for option, value in (("--n-rewired", self.n_rewired), ("--n-length", self.n_length)):
            chk.at_least(option, value, 0)
            chk.count(option, value, 0, MAX_PERM)
        chk.count("--max-subtypes", self.max_subtypes, 1, 100)
        chk.count("--selection-repeats", self.selection_repeats, 1, 1000)
        chk.seed("--seed", self.seed)
        self.k()
        if self.adni and self.maps is not None:
            raise ParameterError(
                f"Both a maps file ({self.maps}) and --adni were given: --adni fits the bundled "
                "ADNI2 group maps and would ignore the file. Give the file alone (a cohort of "
                "subjects: `spread fit MAPS`; group maps: `spread fit-group MAPS`), or --adni "
                "alone."
            )
        if not self.adni and self.maps is None:
            raise ParameterError("Give a maps CSV (see 'crossscale spread simulate'), or --adni.")
        if not self.adni:
            chk.input_file("MAPS", self.maps, what="maps CSV")
        chk.input_file("--truth", self.truth, what="truth file")

    def group_config(self) -> Any:
        """With ``adni``: the GroupFitConfig it runs (= ``spread fit-group --adni``), else None."""
        if not self.adni:
            return None
        from crossscale.pipeline.spread_groups import GroupFitConfig

        return GroupFitConfig(adni=True, graph=self.graph, n_length=self.n_length,
                              n_degree=self.n_rewired, seed=self.seed)  # fmt: skip


@dataclass(frozen=True)
class CohortFitResult(FolderResult):
    """A fitted SpreadMixtureVAE and what it says about each subject.

    Attributes
    ----------
    config : CohortFitConfig
    model : SpreadMixtureVAE
    maps : pandas.DataFrame, shape (n_visits, n_regions)
        The visits as fitted (index subject[, time]).
    params : pandas.DataFrame, shape (n_subjects, ...)
        Per-subject rho, alpha, onset with 95% intervals (``model.transform``).
    proba : pandas.DataFrame, shape (n_subjects, n_subtypes)
        Subtype probabilities (``model.predict_proba``).
    selection : SubtypeSelection or None
        The choice of K (``n_subtypes="auto"``).
    truth : pandas.DataFrame or None
    graph : RegionGraph
    """

    config: CohortFitConfig
    model: Any
    maps: Any
    params: Any
    proba: Any
    selection: Any
    truth: Any
    graph: Any
    datasets: list = field(default_factory=list)

    @property
    def n_subtypes(self) -> int:
        """The K fitted."""
        return int(self.model.n_subtypes)

    def _call(self) -> str:
        return call_text(_RUN, self.config)

    def _inputs(self) -> list[Any]:
        return [self.config.maps]

    def _write(self, tmp: Path) -> None:
        est = self.model
        est.save(tmp / "model")
        self.params.join(self.proba).to_csv(tmp / "subjects.csv")
        est.subtype_params_.to_csv(tmp / "subtypes.csv")
        est.epicentre_proba_.T.to_csv(tmp / "epicentre_proba.csv")
        est.history_.to_frame().to_csv(tmp / "history.csv", index=False)
        if self.selection is not None:
            self.selection.table.to_csv(tmp / "selection.csv")

    def _record(self, command: str) -> dict[str, Any]:
        from dataclasses import asdict

        from crossscale._provenance import run_record

        c, est = self.config, self.model
        params = asdict(c) | {"truth": c.truth if self.truth is not None else None}
        for key in ("adni", "n_rewired", "n_length"):
            params.pop(key)
        return run_record(
            command, parameters=params, seed=c.seed, datasets=known_datasets(self.datasets),
            inputs={"maps": c.maps, "truth": c.truth if self.truth is not None else None},
            seeds={"random_state": c.seed}, graph=self.graph.to_dict(),
            n_subtypes_fitted=self.n_subtypes,
            selection=self.selection.to_dict() if self.selection is not None else None,
            epicentres=est.epicentres_, noise=est.noise_, fit_time_s=est.fit_time_s_,
            model_params=est.json_params(),
        )  # fmt: skip

    def _report(self, command: str) -> Any:
        from crossscale.report.spread import build_spread_fit_report, subtype_trajectories

        traj = subtype_trajectories(self.maps, self.model.predict(self.maps))
        return build_spread_fit_report(self.model, self.params, traj, selection=self.selection,
                                       truth=self.truth, command=command)  # fmt: skip


def _read_cohort(path: str) -> Any:
    from crossscale.maps.readers import read_delimited

    X = read_delimited(path, "The maps CSV")
    if {"subject", "time"} <= set(X.columns):
        return X.set_index(["subject", "time"])
    if "subject" in X.columns:
        return X.set_index("subject")
    raise ParameterError(f"{path} needs a 'subject' column (and optionally 'time').")


def _read_truth(config: CohortFitConfig, subjects: Any) -> Any:
    """The truth table (checked against the cohort before any fit), or None."""
    import pandas as pd

    if config.truth is None:
        return None
    truth = pd.read_csv(config.truth, index_col=0)
    truth.index = truth.index.astype(str)
    need = {"rho", "onset", "subtype"} | ({"alpha"} if config.dynamics == "fisher_kpp" else set())
    if not need <= set(truth.columns) or not set(map(str, subjects)) <= set(truth.index):
        raise ParameterError(
            f"{config.truth} must have a row per subject of {config.maps} and columns "
            f"{sorted(need)} (as written by 'crossscale spread simulate'); got columns "
            f"{list(truth.columns)}. Pass the truth.csv written with these maps."
        )
    return truth


def run_cohort_fit(config: CohortFitConfig, *, echo: Any = None) -> Any:
    """Check `config`, read the cohort (and truth) and fit SpreadMixtureVAE.

    Parameters
    ----------
    config : CohortFitConfig
        The options of the run.
    echo : callable or None
        Receives progress messages (default: the logger).

    Returns
    -------
    CohortFitResult, or GroupFitResult with ``adni``

    Raises
    ------
    ParameterError, InputDataError
        Bad options, a cohort without a subject column, a truth table that does not match.
    """
    from crossscale.pipeline._common import log_echo

    echo = echo or log_echo
    config.check()
    if config.adni:
        from crossscale.pipeline.spread_groups import run as run_groups

        return run_groups(config.group_config(), echo=echo)
    from crossscale.models.spread import SpreadMixtureVAE, select_n_subtypes

    graph, datasets = spread_graph(config.graph)
    X = _read_cohort(config.maps)
    subjects = X.index.get_level_values(0).unique()
    truth = _read_truth(config, subjects)
    beside = Path(config.maps).with_name("truth.csv")
    if config.truth is None and beside.exists():
        echo(f"Note: '{beside}' was not used (files are read only when named); pass "
             f"--truth {beside} to add simulated-vs-true panels to the report.")  # fmt: skip
    selection, k = None, config.k()
    if k == "auto":
        selection = select_n_subtypes(
            X, graph, candidates=range(1, config.max_subtypes + 1),
            n_repeats=config.selection_repeats, random_state=config.seed, model=config.dynamics,
            max_epochs=config.epochs,
        )  # fmt: skip
        k = selection.best
    est = SpreadMixtureVAE(k, model=config.dynamics, max_epochs=config.epochs,
                           random_state=config.seed).fit(X, graph)  # fmt: skip
    return CohortFitResult(config=config, model=est, maps=X, params=est.transform(X),
                           proba=est.predict_proba(X), selection=selection, truth=truth,
                           graph=graph, datasets=datasets)  # fmt: skip
