"""Gene-conditioned tissue generation as workflows (``crossscale volume train|generate|evaluate``).

- :class:`TrainConfig` -> :func:`run` -> :class:`TrainResult`: the diffusion model (and, with
  ``regression``, a separate regression baseline) trained on the Vizgen MERFISH crop with its
  rightmost `holdout` fraction kept out; ``save(folder)`` writes ``model/``
  (``regression/``) and ``run.json`` atomically.
- :class:`~crossscale.pipeline.volume_generate.GenerateConfig` ->
  :func:`~crossscale.pipeline.volume_generate.generate_canvas`: a canvas of any size, generated step-major
  on disk into ``OUT/generated.ome.zarr`` (larger than memory, so written while it is made; an
  interrupted run resumes), then ``run.json``.
- :class:`EvaluateConfig` -> :func:`run` -> :class:`EvaluateResult`: the three generation
  schemes and the baselines scored on the held-out region; ``save(folder)`` writes
  ``metrics.csv``, ``attention_pairs.csv``, ``generated/``, ``report.html`` and ``run.json``.

Options are checked by ``config.check()`` before any work, with the command line's messages;
a model folder is read only when it is what ``volume train`` wrote (its ``run.json`` included),
and a loaded model is never changed (``steps`` applies to a copy).

References
----------
.. [1] Tera-MIND: Tera-scale mouse brain simulation via spatial mRNA-guided diffusion (2025),
   arXiv:2503.01220.
"""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crossscale._errors import ParameterError
from crossscale.pipeline import _checks as chk
from crossscale.pipeline._workflow import FolderResult, call_text, check_out

__all__ = [
    "EvaluateConfig", "EvaluateResult", "TrainConfig", "TrainResult", "check_model_folder",
    "check_output", "peak_rss_mb", "run", "train_parameters",
]  # fmt: skip

_RUN = "crossscale.pipeline.volume.run"
_PACKAGES = ("monai", "zarr", "ome-zarr", "scikit-image")
_NOT_TRAIN = "Pass the --out folder of 'crossscale volume train'."


def _record(command: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    from crossscale._provenance import run_record
    from crossscale.spatial.vizgen import data_keys

    return run_record(command, parameters=params, seed=params.get("seed"), datasets=data_keys(),
                      packages=_PACKAGES, **extra)  # fmt: skip


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _check_common(c: Any, *, batch_size: bool = True, steps: bool = True) -> None:
    """The numeric options every volume workflow shares (seed, threads, batch, steps, device)."""
    from crossscale._device import check_device
    from crossscale._validate import MAX_STEPS

    chk.seed("--seed", c.seed)
    chk.threads("--threads", c.threads)
    if batch_size:
        chk.count("--batch-size", c.batch_size, 1, 1_000_000)
    if steps:
        chk.count("--steps", c.steps, 1, MAX_STEPS,
                  hint="Give the number of DDIM denoising steps, e.g. 20.")  # fmt: skip
    check_device(c.device)


def check_model_folder(model: str | os.PathLike[str]) -> Path:
    """`model` must be a folder written by ``volume train`` (``model/`` and its ``run.json``)."""
    m = Path(model)
    if not m.exists():
        raise ParameterError(f"--model '{model}' does not exist. {_NOT_TRAIN}")
    if not m.is_dir():
        raise ParameterError(f"--model '{model}' is a file; pass the --out folder of "
                             "'crossscale volume train'.")  # fmt: skip
    if not (m / "model").is_dir():
        raise ParameterError(
            f"'{model}' is not a 'crossscale volume train' output folder: it has no model/. "
            f"{_NOT_TRAIN}"
        )
    return m


def train_parameters(model: str | os.PathLike[str]) -> dict[str, int]:
    """``bin_px`` and ``downsample`` of the data a model was trained on (its run.json).

    Raises
    ------
    ParameterError
        The run.json is missing, or lacks them (changed or replaced): no silent default.
    """
    import json

    run = Path(model) / "run.json"
    try:
        params = json.loads(run.read_text("utf-8"))["parameters"]
        return {"bin_px": int(params["bin_px"]), "downsample": int(params["downsample"])}
    except FileNotFoundError:
        raise ParameterError(
            f"'{model}' has no run.json, the record of 'crossscale volume train' that says how "
            "the training data were binned (bin_px, downsample); without it the model would be "
            "conditioned on differently binned genes. Put back the run.json, or train again "
            "with 'crossscale volume train --out ...'."
        ) from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
        raise ParameterError(
            f"'{run}' is not the record that 'crossscale volume train' wrote (it lacks the "
            "parameters bin_px and downsample): it was changed or replaced. Put back the "
            "original run.json, or train again with 'crossscale volume train --out ...'."
        ) from None


def _sample(bin_px: int, downsample: int) -> Any:
    from crossscale.spatial import load_vizgen_mini

    return load_vizgen_mini(bin_px=bin_px, downsample=downsample)


def _load(model: Path, device: str) -> tuple[Any, Any]:
    from crossscale.models.volume import VolumeDiffusion

    diff = VolumeDiffusion.load(model / "model", device=device)
    reg = VolumeDiffusion.load(model / "regression", device=device) \
        if (model / "regression").exists() else None  # fmt: skip
    return diff, reg


# -- train ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """Options of ``crossscale volume train`` (see :class:`crossscale.models.volume.VolumeDiffusion`).

    ``preset`` 'smoke' (CPU, minutes) or 'default' (GPU); ``objective`` 'residual' (regression
    mean + diffusion on the residual), 'diffusion' or 'regression'; ``max_iter`` optimisation
    steps (None: the preset's); ``steps`` DDIM steps at generation (None: the model's default); ``bin_px`` image pixels
    per gene bin; ``downsample`` image pixels per stain pixel (divides `bin_px`); ``holdout``
    the rightmost fraction never trained on, in (0, 1); ``regression`` also a separate
    regression baseline; ``threads`` torch CPU threads (None: torch's).
    """

    preset: str = "smoke"
    objective: str = "residual"
    max_iter: int | None = None
    steps: int | None = None
    bin_px: int = 16
    downsample: int = 8
    holdout: float = 0.25
    regression: bool = False
    seed: int = 0
    device: str = "auto"
    threads: int | None = None

    def check(self) -> None:
        """Validate every option before any work (ParameterError naming the option)."""
        from crossscale._validate import MAX_EPOCHS

        chk.one_of("--preset", self.preset, ("smoke", "default"))
        chk.one_of("--objective", self.objective, ("residual", "diffusion", "regression"))
        chk.count("--max-iter", self.max_iter, 1, MAX_EPOCHS)
        chk.count("--bin-px", self.bin_px, 1, 4096)
        chk.count("--downsample", self.downsample, 1, 4096)
        if self.bin_px % self.downsample:
            chk.one_of("--downsample", str(self.downsample),
                       [str(d) for d in range(1, self.bin_px + 1) if self.bin_px % d == 0])  # fmt: skip
        chk.in_range("--holdout", self.holdout, 0.0, 1.0)
        _check_common(self, batch_size=False)


@dataclass(frozen=True)
class TrainResult(FolderResult):
    """The trained model(s) and the facts run.json records (``results``)."""

    config: TrainConfig
    model: Any
    regression: Any
    results: dict[str, Any]
    peak_rss_mb: float = float("nan")

    def _call(self) -> str:
        return call_text(_RUN, self.config)

    def _write(self, tmp: Path) -> None:
        self.model.save(tmp / "model")
        if self.regression is not None:
            self.regression.save(tmp / "regression")

    def _record(self, command: str) -> dict[str, Any]:
        params = {k: v for k, v in asdict(self.config).items() if k != "threads"}
        return _record(command, params, results=self.results, peak_rss_mb=self.peak_rss_mb)


def _train(config: TrainConfig) -> TrainResult:
    from crossscale._threads import torch_threads
    from crossscale.models.volume import VolumeDiffusion

    config.check()
    c = config
    sample = _sample(c.bin_px, c.downsample)
    kw = dict(preset=c.preset, max_iter=c.max_iter, holdout_fraction=c.holdout,
              random_state=c.seed, device=c.device)  # fmt: skip
    if c.steps is not None:  # None: the model's own default, not a number repeated here
        kw["num_inference_steps"] = c.steps
    with torch_threads(c.threads):
        model = VolumeDiffusion(objective=c.objective, **kw).fit(sample)
        reg = VolumeDiffusion(objective="regression", **kw).fit(sample) if c.regression else None
    info = {"diffusion_fit_time_s": model.fit_time_s_,
            "final_loss": float(model.history_.loss[-10:].mean())}  # fmt: skip
    if reg is not None:
        info["regression_fit_time_s"] = reg.fit_time_s_
    info |= {"genes": len(model.genes_), "dropped": sample.genes.dropped,
             "train_cols_stain_px": list(model.train_cols_)}  # fmt: skip
    return TrainResult(c, model, reg, info, peak_rss_mb())


def check_output(config: Any, out: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """The output guard, before any work: `out` is not, in, or around an input model folder."""
    if isinstance(config, TrainConfig):
        return check_out(out, overwrite=overwrite)
    model = check_model_folder(config.model)
    if model.resolve() in Path(out).resolve().parents:
        raise ParameterError(
            f"--out '{out}' is inside the model folder '{config.model}'; writing there would "
            "change the model's folder. Choose an --out outside it, e.g. --out generated."
        )
    resume = getattr(config, "resume_state", None)  # generation resumes its own state
    return check_out(out, overwrite=overwrite, inputs=[config.model], resume=resume)


# -- evaluate ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvaluateConfig:
    """Options of ``crossscale volume evaluate``.

    ``model`` the folder of ``volume train``; ``seed`` of the noise; ``max_rows`` only the
    first rows (stain pixels) of the held-out region (None: all); ``batch_size`` windows per
    forward pass; ``device``; ``threads``.
    """

    model: str
    seed: int = 0
    max_rows: int | None = None
    batch_size: int = 16
    device: str = "auto"
    threads: int | None = None

    def check(self) -> None:
        """Validate every option before any work."""
        _check_common(self, steps=False)
        chk.count("--max-rows", self.max_rows, 1, 1_000_000)


@dataclass(frozen=True)
class EvaluateResult(FolderResult):
    """Metrics of every scheme and baseline (``evaluation``: a ``VolumeEvaluation``)."""

    config: EvaluateConfig
    evaluation: Any
    model_info: dict[str, Any]
    genes: list[str]
    workdir: Any  # the TemporaryDirectory that holds generated/ until save
    peak_rss_mb: float = float("nan")

    def _call(self) -> str:
        return call_text(_RUN, self.config)

    def _inputs(self) -> list[Any]:
        return [self.config.model]

    def _write(self, tmp: Path) -> None:
        import shutil

        shutil.copytree(Path(self.workdir.name) / "generated", tmp / "generated")
        self.evaluation.metrics.to_csv(tmp / "metrics.csv")
        self.evaluation.attention.to_csv(tmp / "attention_pairs.csv")

    def _record(self, command: str) -> dict[str, Any]:
        ev, c = self.evaluation, self.config
        params = {"model": str(c.model), "seed": c.seed, "max_rows": c.max_rows,
                  "batch_size": c.batch_size}  # fmt: skip
        results = {"metrics": ev.metrics.reset_index().to_dict("records"),
                   "attention": ev.attention.reset_index().to_dict("records"), **ev.info}  # fmt: skip
        return _record(command, params, results=results, peak_rss_mb=self.peak_rss_mb)

    def _report(self, command: str) -> Any:
        from crossscale.report.volume import build_volume_report

        return build_volume_report(self.evaluation, model_info=self.model_info, genes=self.genes)


def _evaluate(config: EvaluateConfig) -> EvaluateResult:
    import json
    import tempfile

    from crossscale._threads import torch_threads
    from crossscale.evaluate.volume import evaluate_volume

    config.check()
    model = check_model_folder(config.model)
    cfg = train_parameters(model)
    diff, reg = _load(model, config.device)
    sample = _sample(cfg["bin_px"], cfg["downsample"])
    work = tempfile.TemporaryDirectory(prefix="crossscale-evaluate-")
    try:
        with torch_threads(config.threads):
            ev = evaluate_volume(diff, sample, Path(work.name) / "generated", regression=reg,
                                 seed=config.seed, max_rows=config.max_rows,
                                 batch_size=config.batch_size)  # fmt: skip
    except BaseException:
        work.cleanup()
        raise
    info = json.loads((model / "model" / "config.json").read_text("utf-8"))
    return EvaluateResult(config, ev, info, list(diff.genes_), work, peak_rss_mb())


def run(config: TrainConfig | EvaluateConfig) -> TrainResult | EvaluateResult:
    """Check `config` and train or evaluate; the result's ``save(folder)`` writes the folder.

    Parameters
    ----------
    config : TrainConfig or EvaluateConfig
        The workflow and its options (generation writes as it goes: :func:`generate_canvas`).

    Returns
    -------
    TrainResult or EvaluateResult

    Raises
    ------
    ParameterError
        Bad options or model folder, before any work.
    """
    if isinstance(config, TrainConfig):
        return _train(config)
    if isinstance(config, EvaluateConfig):
        return _evaluate(config)
    raise ParameterError(
        f"run() takes a TrainConfig or an EvaluateConfig (a GenerateConfig goes to "
        f"generate_canvas(config, out)); got {type(config).__name__}."
    )
