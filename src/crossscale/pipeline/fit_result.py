"""The result of :func:`crossscale.pipeline.fit_map`: what a fit produced, and its folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crossscale.models.tags import get_tags
from crossscale.pipeline import _common as common

__all__ = ["FitResult"]


@dataclass(frozen=True)
class FitResult:
    """Everything one ``fit_map`` run produced.

    Attributes
    ----------
    observed : pandas.Series, shape (n_regions,)
        The map, on the regions fitted.
    model : estimator
        The model fitted in-sample.
    model_name, model_label : str
        Registry key and display name (``"graphvae"``, ``"GraphVAE"``).
    evaluation : crossscale.evaluate.Evaluation
        Metrics and predictions of the model and the baselines.
    nulls : dict of str to NullResult
        Null refits per model (empty without nulls).
    interpretation : Interpretation or None
    latent : pandas.DataFrame or None
        Latent programs of the regions (models with ``transform``).
    programs : crossscale.evaluate.programs.ProgramSummary or None
        Distinct, stable programs of the fit and their stability across refits (latent models).
    history : pandas.DataFrame or None
        Training curve (models with ``history_``).
    graph : RegionGraph
    summary : dict
        Run facts for the report (map, genes, graph, parameters, times, warnings).
    parameters : dict
        The options of the run (recorded in run.json).
    gene_selection : dict
    datasets : list of str
        Registry keys of the data read.
    map_file : str or None
        The user's map file (None: a registry map).
    region_column, value_column : str or None
    call : str
        How the run was started (the Python call, or the command line); run.json's ``command``.
    """

    observed: pd.Series
    model: Any
    model_name: str
    model_label: str
    evaluation: Any
    graph: Any
    summary: dict[str, Any]
    parameters: dict[str, Any]
    nulls: dict[str, Any] = field(default_factory=dict)
    interpretation: Any = None
    latent: pd.DataFrame | None = None
    programs: Any = None
    history: pd.DataFrame | None = None
    gene_selection: dict[str, Any] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    map_file: str | None = None
    region_column: str | None = None
    value_column: str | None = None
    call: str = ""

    def __repr__(self) -> str:
        return f"<FitResult {self.model_label} on {self.summary.get('map_name')!r}: " + (
            self.headline() + ">"
        )

    def headline(self) -> str:
        """One line: the model's spatial-CV (else LORO, else in-sample) R² and its best rival."""
        m = self.metrics
        col = next((c for c in ("spatial_r2", "loro_r2", "in_sample_r2")
                    if c in m and m[c].notna().any()), None)  # fmt: skip
        if col is None or self.model_label not in m.index:
            return f"{len(m)} models"
        own = m.loc[self.model_label, col]
        others = m[col].drop(self.model_label).dropna()
        from crossscale.evaluate.metrics import SHORT_LABELS

        text = f"{SHORT_LABELS[col]} {own:.3f}"
        if len(others):
            text += f" (best other: {others.idxmax()} {others.max():.3f})"
        res = self.nulls.get(self.model_label)
        if res is not None:
            key = "cv_r" if "cv_r" in res.p_values else next(iter(res.p_values))
            text += f", p_{res.method} ({key}) = {res.p_values[key]:.3g}"
        return text

    def describe(self) -> str:
        """A short text summary: the map, the metrics table with short labels, the nulls.

        ``print(res)`` prints it too. (``summary`` is the dict of run facts.)

        Returns
        -------
        str
            About 20 lines; the full numbers are in :attr:`metrics`, :meth:`to_dict` and the
            saved folder.
        """
        from crossscale.evaluate.metrics import NULL_STAT_LABELS, format_metrics

        s = self.summary
        lines = [
            f"{self.model_label} on {s.get('map_name')} ({s.get('n_regions')} regions x "
            f"{s.get('n_genes')} genes, {s.get('protocol')} CV)",
            format_metrics(self.metrics),
        ]
        import shutil
        import textwrap

        width = shutil.get_terminal_size((80, 24)).columns
        for name, res in self.nulls.items():
            stats = ", ".join(f"{NULL_STAT_LABELS.get(k, k)} {v:.3f} (p = {res.p_values[k]:.2g})"
                              for k, v in res.observed.items())  # fmt: skip
            lines.append(textwrap.fill(
                f"Null refits of {name} ({res.n_perm} {res.method}, CV {res.cv}): {stats}",
                width, subsequent_indent="  ",
            ))  # fmt: skip
        if self.interpretation is None and self.parameters.get("interpret_skipped"):
            lines.append(f"Interpretation: {self.parameters['interpret_skipped']}")
        return "\n".join(lines)

    __str__ = describe

    @property
    def metrics(self) -> pd.DataFrame:
        """Metrics table (one row per model)."""
        return self.evaluation.metrics

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (one row per model)."""
        return self.evaluation.metrics

    def to_dict(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""
        from crossscale.evaluate.metrics import REFERENCE_METRICS

        s = self.summary
        out = {
            "map": s["map_name"], "units": s["map_units"], "n_regions": s["n_regions"],
            "n_genes": s["n_genes"], "protocol": s["protocol"], "preset": s["preset"],
            "model": self.model_name,
            "reference_in_sample": {k.removeprefix("in_sample_"): v for k, v in REFERENCE_METRICS.items()},
            "models": self.evaluation.to_dict(),
            "spatial_fold_r": {k: v.tolist() for k, v in self.evaluation.fold_r.items()},
            "gene_selection": self.gene_selection,
            "atlas": s.get("atlas"), "expression": s.get("expression"),
        }  # fmt: skip
        if self.nulls:
            out["nulls"] = {k: v.to_dict() for k, v in self.nulls.items()}
        if self.programs is not None:
            out["programs"] = self.programs.to_dict()
        return out

    def save(
        self, folder: str | os.PathLike[str], *, overwrite: bool = False, command: str | None = None
    ) -> Path:
        """Write the run to `folder` atomically (a failed write leaves nothing).

        Writes ``input_map.*``, ``predictions.csv``, ``latent_programs.csv`` and
        ``training_history.csv`` (when the model has them), ``model/`` (models with ``save``),
        ``metrics.json``, ``run.json``, ``report.html`` and ``interpretation/``. run.json's
        ``command`` is `command` (the CLI passes its command line), else :attr:`call` (the
        Python call that made this result).

        Raises
        ------
        ParameterError
            `folder` may not be written (see :func:`crossscale._outdir.check_output_dir`).
        """
        from crossscale._files import write_json
        from crossscale._outdir import atomic_dir
        from crossscale._provenance import run_record
        from crossscale.atlas import use_atlas
        from crossscale.report.fit import build_fit_report

        inputs = [self.map_file]
        with (
            use_atlas(self.graph.atlas),
            atomic_dir(folder, overwrite=overwrite, inputs=inputs) as tmp,
        ):
            input_map = common.copy_input_map(
                tmp, self.map_file, self.observed,
                self.region_column or self.observed.attrs.get("region_column"),
                self.value_column or self.observed.attrs.get("value_column"),
            )  # fmt: skip
            preds = self.evaluation.predictions
            preds.to_csv(tmp / "predictions.csv", float_format="%.6g")
            if self.latent is not None:
                self.latent.to_csv(tmp / "latent_programs.csv", float_format="%.6g")
            if self.history is not None:
                self.history.to_csv(tmp / "training_history.csv", index=False, float_format="%.6g")
            if get_tags(self.model).saveable:
                self.model.save(tmp / "model")
            write_json(tmp / "metrics.json", self.to_dict())
            report = build_fit_report(
                observed=self.observed, predictions=preds, latent=self.latent,
                metrics=self.metrics, history=self.history, best_epoch=self.summary["best_epoch"],
                summary=self.summary, model_name=self.model_label, nulls=self.nulls or None,
                interpretation=self.interpretation, programs=self.programs,
            )  # fmt: skip
            if self.interpretation is not None:
                (tmp / "interpretation").mkdir()
                self.interpretation.save(tmp / "interpretation")
            report.save(tmp / "report.html")
            X_regions, genes = self.summary["regions"], self.summary["genes"]
            write_json(tmp / "run.json", run_record(
                command or self.call or "crossscale.pipeline.fit_map(...)",
                parameters=self.parameters, seed=self.parameters["seed"],
                datasets=self.datasets, inputs={"map_file": self.map_file},
                model=self.model_name, model_params=self.summary["model_params"],
                graph=self.graph.to_dict(), input_map=input_map,
                missing_regions=self.summary["missing_regions"],
                input_warnings=self.summary["input_warnings"],
                model_check={"regions": X_regions, "n_genes": len(genes),
                             "genes_sha256": common.genes_sha256(genes),
                             "graph_hash": self.graph.hash()},
                total_time_s=self.summary["total_time_s"],
            ))  # fmt: skip
        return Path(folder)
