"""Fit spreading models to group-level regional maps and decide whether the connectome matters.

:func:`run` takes a frozen :class:`GroupFitConfig` (the user's CSV of group maps, or the bundled
ADNI2 maps; the graph; the null graphs), reads and checks the maps, fits network diffusion and
Fisher-KPP with every baseline and null graph in the same run
(:func:`~crossscale.evaluate.spread_groups.compare_group_fits`) and returns a
:class:`GroupFitResult`, whose :meth:`~GroupFitResult.save` writes the folder of
``crossscale spread fit-group`` atomically (tables, ``run.json``, ``report.html``).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.pipeline import _common as common

logger = logging.getLogger(__name__)

__all__ = ["GRAPH_CHOICES", "GroupFitConfig", "GroupFitResult", "load_graph", "run"]

#: Named graphs of ``--graph`` (anything else is a CSV file of a connectivity matrix).
GRAPH_CHOICES: tuple[str, ...] = ("connectome", "distance", "surface")
#: Stage order of the bundled ADNI2 maps.
ADNI_STAGE_ORDER: tuple[str, ...] = ("EMCI", "LMCI", "AD")


@dataclass(frozen=True)
class GroupFitConfig:
    """Options of a group-map fit (``crossscale spread fit-group``).

    Parameters
    ----------
    maps : str or None
        CSV/TSV of group maps (:func:`crossscale.maps.groups.read_group_maps`: wide, long, or
        regions as rows). None with ``adni=True``.
    adni : bool
        Fit the 16 bundled ADNI2 EMCI/LMCI/AD volume maps instead of a file (never both).
    graph : str
        ``"connectome"`` (HCP structural), ``"distance"`` (Euclidean nearest neighbours),
        ``"surface"`` (fsaverage5 adjacency) or the path of a CSV connectivity matrix (square,
        region names as header and first column).
    models : tuple of str
        Dynamics fitted: ``"diffusion"`` and/or ``"fisher_kpp"``.
    stage_order : tuple of str or None
        Stages from earliest to latest, for the stage-order check of fitted times (default:
        ADNI2 EMCI, LMCI, AD; a file's stages in order of first appearance).
    columns : tuple of str or None
        The value column(s) of the table (:func:`crossscale.maps.groups.read_group_maps`).
    flip_sign : bool
        Multiply every map by -1 first (e.g. a thickness Cohen's d, patients - controls).
    n_length, n_degree : int
        Degree- and length-preserving (the headline null) and degree-preserving rewirings.
    length_bins : int
        Edge-length quantile bins of the length-preserving rewiring.
    n_folds : int
        Contiguous spatial blocks of the leave-regions-out cross-validation.
    seed : int
        Seed of the rewirings and folds.
    """

    maps: str | None = None
    adni: bool = False
    graph: str = "connectome"
    models: tuple[str, ...] = ("diffusion", "fisher_kpp")
    stage_order: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    flip_sign: bool = False
    n_length: int = 100
    n_degree: int = 100
    length_bins: int = 10
    n_folds: int = 10
    seed: int = 0

    def check(self) -> None:
        """Validate the options (before any data is read).

        Raises
        ------
        ParameterError
            A maps file together with ``adni``, neither, an unknown model or graph, counts < 0.
        """
        from crossscale.pipeline import _checks as chk

        chk.seed("--seed", self.seed)
        if self.maps is not None and not self.adni:
            chk.input_file("MAPS", self.maps, what="maps CSV")
        from crossscale.evaluate.spread_groups import DYNAMICS

        if self.adni and self.maps is not None:
            raise ParameterError(
                f"Both a maps file ({self.maps}) and --adni were given: --adni fits the bundled "
                "ADNI2 maps and would ignore the file. Give the file alone, or --adni alone."
            )
        if not self.adni and self.maps is None:
            raise ParameterError("Give a CSV of group maps (MAPS), or --adni for the ADNI2 maps.")
        if not self.models or any(m not in DYNAMICS for m in self.models):
            raise ParameterError(
                f"models (--models) must be among {', '.join(DYNAMICS)}; got {list(self.models)}."
            )
        for name in ("n_length", "n_degree"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ParameterError(
                    f"{name} (--{name.replace('_', '-')}) must be an integer >= 0; got {v!r}."
                )
        if not isinstance(self.n_folds, int) or self.n_folds < 2:
            raise ParameterError(f"n_folds (--n-folds) must be an integer >= 2; got {self.n_folds!r}.")
        if not isinstance(self.length_bins, int) or self.length_bins < 1:
            raise ParameterError(f"length_bins must be an integer >= 1; got {self.length_bins!r}.")
        if self.graph not in GRAPH_CHOICES and not Path(self.graph).is_file():
            raise ParameterError(
                f"--graph must be one of {', '.join(GRAPH_CHOICES)} or an existing CSV file of a "
                f"connectivity matrix; got {self.graph!r}."
            )


def load_graph(spec: str) -> tuple[Any, str, list[str]]:
    """The graph named by `spec`, its label and the registry datasets it reads.

    Parameters
    ----------
    spec : str
        ``"connectome"``, ``"distance"``, ``"surface"`` or a CSV file: a square matrix of
        non-negative connection weights with the region names as header and first column (any
        spelling ``crossscale.atlas`` understands). Coordinates come from the atlas's region
        centroids; an asymmetric matrix is symmetrised ((A + A^T) / 2) with a warning.

    Returns
    -------
    graph : RegionGraph
    label : str
    datasets : list of str

    Raises
    ------
    InputDataError
        A matrix that is not square, has different row and column regions or negative weights.
    """
    from crossscale.atlas import RegionGraph, to_canonical
    from crossscale.maps._text import read_delimited
    from crossscale.nulls.graphs import distance_graph

    con = list(common.CONNECTOME_DATASETS)
    if spec == "connectome":
        return RegionGraph.from_connectome(), "connectome", con
    if spec == "distance":
        return distance_graph(RegionGraph.from_connectome()), "distance", con
    if spec == "surface":
        return RegionGraph.from_surface(), "surface", []
    path = Path(spec)
    table = read_delimited(path, "The connectivity matrix")
    first = table.columns[0]
    if not pd.api.types.is_numeric_dtype(table[first]):
        table = table.set_index(first)
    what = f"The connectivity matrix '{path.name}'"
    if table.shape[0] != table.shape[1]:
        raise InputDataError(
            f"{what} is {table.shape[0]} x {table.shape[1]}; it must be square, with the region "
            "names as the header and as the first column."
        )
    cols = to_canonical([str(c) for c in table.columns], what=f"{what} (header)")
    rows = to_canonical([str(c) for c in table.index], what=f"{what} (first column)") \
        if not pd.api.types.is_numeric_dtype(table.index) else cols  # fmt: skip
    if sorted(rows) != sorted(cols):
        raise InputDataError(f"{what}: the regions of the rows and of the columns differ.")
    adj = table.set_axis(cols, axis=1).set_axis(rows, axis=0).loc[cols, cols]
    try:
        a = adj.to_numpy(float)
    except (TypeError, ValueError) as err:
        raise InputDataError(f"{what} has non-numeric weights: {err}.") from None
    if not np.isfinite(a).all() or (a < 0).any():
        raise InputDataError(f"{what} has negative, NaN or infinite weights; weights must be >= 0.")
    if np.abs(a - a.T).max() > 1e-9 * max(np.abs(a).max(), 1e-300):
        logger.warning("%s is not symmetric; using (A + A^T) / 2", what)
    a = (a + a.T) / 2.0
    np.fill_diagonal(a, 0.0)
    atlas = RegionGraph.from_surface().subgraph(cols)
    g = RegionGraph(pd.Index(cols, name="region"), a / a.max(), atlas.coords.to_numpy(),
                    atlas.sphere_coords.to_numpy(), kind=f"user graph {path.name}")  # fmt: skip
    if g.n_edges == 0:
        raise InputDataError(f"{what} has no connections.")
    return g, path.name, []


@dataclass(frozen=True)
class GroupFitResult:
    """Everything one group-map fit produced.

    Attributes
    ----------
    config : GroupFitConfig
    comparison : crossscale.evaluate.spread_groups.GroupComparison
    graph : RegionGraph
    stages, times : pandas.Series or None
        Stage and time of each map, as read.
    layout : str
        Layout of the input table (``"adni"`` for the bundled maps).
    warnings : list of str
        Input and fit warnings (also in the report and run.json).
    datasets : list of str
        Registry keys read.
    total_time_s : float
    """

    config: GroupFitConfig
    comparison: Any
    graph: Any
    stages: pd.Series | None
    times: pd.Series | None
    layout: str
    warnings: list = field(default_factory=list)
    datasets: list = field(default_factory=list)
    total_time_s: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The result part of run.json."""
        return self.comparison.to_dict() | {"input_warnings": list(self.warnings),
                                            "layout": self.layout}  # fmt: skip

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False,
             command: str | None = None) -> Path:  # fmt: skip
        """Write the run to `folder` atomically (a failed write leaves nothing).

        run.json's ``command`` is `command` (the CLI passes its command line), else the Python
        call ``crossscale.pipeline.spread_groups.run(GroupFitConfig(...))``.

        Writes ``maps.csv`` (the maps as fitted), ``models.csv`` (models and baselines),
        ``nulls.csv`` (p-values per null kind), ``null_graphs.csv`` (every null fit),
        ``{model}_{graph}_maps.csv`` (per-map times with 95% sets, offsets, amplitudes),
        ``{model}_{graph}_epicentres.csv`` (spreading R² of each epicentre),
        ``{model}_{graph}_predicted.csv``, ``run.json`` and ``report.html``.

        Raises
        ------
        ParameterError
            `folder` may not be written (see :func:`crossscale._outdir.check_output_dir`).
        """
        from crossscale._files import write_json
        from crossscale._outdir import atomic_dir
        from crossscale._provenance import run_record
        from crossscale.report.spread_groups import build_group_report

        if command is None:
            given = {k: v for k, v in asdict(self.config).items()
                     if v != getattr(GroupFitConfig, k, None)}  # fmt: skip
            args = ", ".join(f"{k}={v!r}" for k, v in given.items())
            command = f"crossscale.pipeline.spread_groups.run(GroupFitConfig({args}))"
        comp = self.comparison
        inputs = [self.config.maps] if self.config.maps else []
        with atomic_dir(folder, overwrite=overwrite, inputs=inputs) as tmp:
            comp.maps.to_csv(tmp / "maps.csv", float_format="%.6g")
            comp.table.to_csv(tmp / "models.csv", index=False, float_format="%.6g")
            comp.nulls.to_csv(tmp / "nulls.csv", index=False, float_format="%.6g")
            comp.null_r2.to_csv(tmp / "null_graphs.csv", index=False, float_format="%.6g")
            for (model, gname), fit in comp.fits.items():
                stem = f"{model}_{_slug(gname)}"
                fit.per_map.to_csv(tmp / f"{stem}_maps.csv", float_format="%.6g")
                fit.epicentre_r2.to_csv(tmp / f"{stem}_epicentres.csv", float_format="%.6g")
                fit.predicted.to_csv(tmp / f"{stem}_predicted.csv", float_format="%.6g")
            write_json(tmp / "run.json", run_record(
                command, parameters=asdict(self.config), seed=self.config.seed,
                datasets=self.datasets, inputs={"maps": self.config.maps,
                                                "graph": None if self.config.graph in GRAPH_CHOICES
                                                else self.config.graph},
                graph=self.graph.to_dict(), result=self.to_dict(),
                total_time_s=round(self.total_time_s, 1),
            ))  # fmt: skip
            build_group_report(self, command=command).save(tmp / "report.html")
        return Path(folder)


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _adni_maps() -> tuple[pd.DataFrame, pd.Series, pd.Series, list[str]]:
    from crossscale.maps.adni import load_adni_trajectory

    maps = load_adni_trajectory()
    keys = [f"adni2_{g.lower()}_vol_{t}" for g, t in maps.index]
    labels = pd.Index([f"{g}/{t}" for g, t in maps.index], name="map")
    stages = pd.Series([g for g, _ in maps.index], index=labels, name="stage")
    times = pd.Series([0.0 if t == "baseline" else float(t) for _, t in maps.index],
                      index=labels, name="time")  # fmt: skip
    out = maps.set_axis(labels, axis=0)
    out.attrs = dict(maps.attrs)
    return out, stages, times, keys


def run(config: GroupFitConfig, *, echo: common.Echo = common.log_echo) -> GroupFitResult:
    """Read, check and fit the group maps of `config` with every baseline and null graph.

    Parameters
    ----------
    config : GroupFitConfig
        The options of the run (maps, graph, models, nulls, seed).
    echo : callable
        Receives progress messages (default: the logger).

    Returns
    -------
    GroupFitResult

    Raises
    ------
    ParameterError, InputDataError, RegionMismatchError
        Bad options or input, before any model is fitted.
    """
    from crossscale._threads import single_thread
    from crossscale.evaluate.spread_groups import compare_group_fits
    from crossscale.maps.groups import read_group_maps, sign_warnings
    from crossscale.models.spread.groupfit import maps_frame

    t0 = time.perf_counter()
    config.check()
    warnings: list[str] = []
    if config.adni:
        maps, stages, times, datasets = _adni_maps()
        layout = "adni"
        order = config.stage_order or ADNI_STAGE_ORDER
    else:
        gm = read_group_maps(config.maps, columns=config.columns)
        maps, stages, times, layout = gm.maps, gm.stages, gm.times, gm.layout
        warnings += gm.warnings
        datasets = []
        order = config.stage_order or (tuple(pd.unique(stages)) if stages is not None else None)
    if config.stage_order is not None and stages is None:
        raise InputDataError("--stage-order was given but the maps have no stage column.")
    if stages is not None and order is not None:
        unknown = sorted(set(stages) - set(order))
        if unknown:
            raise ParameterError(
                f"--stage-order ({', '.join(order)}) lacks the stage(s) {unknown} of the maps; "
                "list every stage, earliest first."
            )
    if config.flip_sign:
        maps = -maps
    warnings += sign_warnings(maps)
    if len(maps) == 1:
        warnings.append(
            "One map only: leave-one-map-out and the stage order cannot be assessed, and the "
            "shape (alpha/rho) and time rest on one pattern; a staged set of maps (e.g. one "
            "per clinical stage) identifies more."
        )
    graph, gname, graph_data = load_graph(config.graph)
    datasets = list(datasets) + graph_data
    frame = maps_frame(maps, graph.regions)
    missing = [r for r in graph.regions if frame[r].isna().all()]
    if missing:
        warnings.append(
            f"The maps lack {len(missing)} of the graph's {graph.n_regions} regions "
            f"({', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}): they take part in the "
            "dynamics but are not fitted."
        )
    for w in warnings:
        echo(f"Warning: {w}")
    echo(f"{len(frame)} map(s) x {graph.n_regions - len(missing)} regions; graph: {graph}")
    echo(f"Fitting {', '.join(config.models)} + baselines, {config.n_length} length- and "
         f"{config.n_degree} degree-preserving null graphs ...")  # fmt: skip
    with single_thread():  # ~70-region matrices: one BLAS thread is fastest, and shares the CPU
        comp = compare_group_fits(
            frame, graph, graph_name=gname, models=config.models, n_length=config.n_length,
            n_degree=config.n_degree, length_bins=config.length_bins, n_folds=config.n_folds,
            stages=stages, stage_order=order, random_state=config.seed,
        )  # fmt: skip
    echo(comp.verdict["sentence"])
    return GroupFitResult(
        config=config, comparison=comp, graph=graph, stages=stages, times=times, layout=layout,
        warnings=warnings + list(comp.warnings), datasets=datasets,
        total_time_s=time.perf_counter() - t0,
    )  # fmt: skip


def stage_order_option(text: str | None) -> tuple[str, ...] | None:
    """``"EMCI,LMCI,AD"`` -> ``("EMCI", "LMCI", "AD")`` (None or empty: None)."""
    if not text:
        return None
    out = tuple(s.strip() for s in text.split(",") if s.strip())
    if len(set(out)) < len(out):
        raise ParameterError(f"--stage-order names a stage twice: {text!r}.")
    return out or None


def models_option(text: str) -> tuple[str, ...]:
    """A comma list (``"diffusion,fisher_kpp"``) -> a tuple of its stripped, non-empty items."""
    return tuple(s.strip() for s in text.split(",") if s.strip())

