"""The fitted side of :class:`~crossscale.models.volume.VolumeDiffusion`: sampler, inference, checkpoint.

:class:`FittedVolume` holds what a fitted (or loaded) model does besides training: the MONAI
noise schedulers with DDIM timesteps on the grid the sampler walks, the stain standardisation,
the forward passes of the diffusion and regression nets, and the safetensors + JSON checkpoint.

References
----------
.. [1] Song J., Meng C., Ermon S. (2021). Denoising diffusion implicit models. ICLR.
.. [2] Cardoso M. J. et al. (2022). MONAI: An open-source framework for deep learning in
   healthcare. arXiv:2211.02701.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, Self

import numpy as np

from crossscale._errors import ModelStateError, ParameterError
from crossscale.train.checkpoint import CheckpointMixin
from crossscale.train.record import TrainHistory

_STAT_KEYS = ("gene_scale", "stain_mean", "stain_loc", "stain_scale", "residual_scale", "train_loss",
              "regression_loss")  # fmt: skip


def _resolve_device(device: str) -> Any:
    import torch

    from crossscale._device import resolve_device

    return torch.device(resolve_device(device))


def ddim_timesteps(num_train_timesteps: int, num_inference_steps: int) -> np.ndarray:
    """DDIM timesteps on the grid that MONAI's ``DDIMScheduler.step`` walks.

    ``DDIMScheduler.step(out, t, x)`` moves from ``t`` to ``t - T // n`` (``T`` training
    timesteps, ``n`` inference steps), so the timesteps must be spaced by exactly ``d = T // n``:
    ``n d - 1, (n - 1) d - 1, ..., d - 1``, after which the last step lands on the clean image
    (alpha = 1). For T = 1000, n = 10: 999, 899, ..., 99. MONAI 1.6's ``set_timesteps`` spaces
    them by ``(T - 1) / (n - 1)`` instead (999, 888, ..., 0), so every step would land on a noise
    level the next call mislabels and the last one would treat t = 11 as t = 0.

    Returns
    -------
    timesteps : numpy.ndarray of int64, shape (n,)
    """
    d = num_train_timesteps // num_inference_steps
    return (d * np.arange(num_inference_steps, 0, -1) - 1).astype(np.int64)


def holdout_start(width: int, fraction: float, ratio: int, multiple: int = 1) -> int:
    """First stain column of the held-out rightmost `fraction` (aligned to gene bins).

    Parameters
    ----------
    width : int
        Stain columns.
    fraction : float
        Held-out share of the columns.
    ratio : int
        Stain pixels per gene bin.
    multiple : int
        Also make the held-out width a multiple of this (e.g. the patch core).

    Returns
    -------
    start : int
    """
    step = int(np.lcm(ratio, multiple))
    held = max(step, int(round(width * fraction / step)) * step)
    return int(width - held)


class FittedVolume(CheckpointMixin):
    """Sampler, inference and checkpoint methods of a fitted volume model (mixin of VolumeDiffusion)."""

    def scheduler(self, kind: str = "ddim") -> Any:
        """A MONAI noise scheduler: ``"ddpm"`` (training) or ``"ddim"`` (generation, timesteps set).

        The DDIM timesteps are those of :func:`ddim_timesteps` (the grid ``step`` walks).
        """
        import torch
        from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

        if kind == "ddpm":
            return DDPMScheduler(num_train_timesteps=self.num_train_timesteps,
                                 schedule="scaled_linear_beta", clip_sample=False,
                                 prediction_type=self.prediction_type)  # fmt: skip
        s = DDIMScheduler(num_train_timesteps=self.num_train_timesteps,
                          schedule="scaled_linear_beta", clip_sample=self.clip_sample,
                          prediction_type=self.prediction_type)  # fmt: skip
        s.set_timesteps(self.num_inference_steps)
        s.timesteps = torch.from_numpy(ddim_timesteps(self.num_train_timesteps, self.num_inference_steps))
        return s

    def set_sampler(self, *, num_inference_steps: int | None = None, eta: float | None = None,
                    contrast: float | None = None) -> Self:  # fmt: skip
        """Change how a fitted model samples (DDIM steps, eta, contrast) without retraining.

        Parameters
        ----------
        num_inference_steps : int, optional
            DDIM steps at generation.
        eta : float, optional
            DDIM stochasticity in [0, 1].
        contrast : float, optional
            Scale of a sample's deviation from the training mean image (see the class).

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            A value outside its range.
        ModelStateError
            If the model is not fitted.
        """
        self._check_fitted()
        old = (self.num_inference_steps, self.eta, self.contrast)
        if num_inference_steps is not None:
            self.num_inference_steps = int(num_inference_steps)
        if eta is not None:
            self.eta = float(eta)
        if contrast is not None:
            self.contrast = float(contrast)
        try:
            p = self.resolved_params()
        except ParameterError:
            self.num_inference_steps, self.eta, self.contrast = old
            raise
        self.params_ = {**self.params_, **{k: p[k] for k in ("num_inference_steps", "eta", "contrast")}}
        return self

    def standardise(self, stains: np.ndarray) -> np.ndarray:
        """Stains (n_stains, ...) in the model's standardised units: ``(x - loc) / scale`` per stain."""
        self._check_fitted()
        sh = (-1,) + (1,) * (np.ndim(stains) - 1)
        return ((stains - self.stain_loc_.reshape(sh)) / self.stain_scale_.reshape(sh)).astype(np.float32)

    def destandardise(self, z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`standardise`: original intensities ([-1, 1] for 8-bit stains)."""
        self._check_fitted()
        sh = (-1,) + (1,) * (np.ndim(z) - 1)
        return (z * self.stain_scale_.reshape(sh) + self.stain_loc_.reshape(sh)).astype(np.float32)

    # ------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise ModelStateError("This VolumeDiffusion is not fitted; call fit() or load() first.")

    def check_genes(self, genes: tuple[str, ...] | list[str]) -> None:
        """Refuse a gene field measured with another panel.

        Raises
        ------
        ModelStateError
            If genes of the model's panel are missing from `genes`.
        """
        self._check_fitted()
        have = set(genes)
        missing = [g for g in self.genes_ if g not in have]
        if missing:
            raise ModelStateError(
                f"The gene field lacks {len(missing)} of the {len(self.genes_)} genes of the "
                f"checkpoint's panel: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}. "
                "The model was trained on another gene panel; retrain it on this data "
                "('crossscale volume train') or pass data measured with the same panel."
            )

    def prepare_genes(self, field: Any) -> Any:
        """`field` with the model's gene order and training scaling (raises on another panel)."""
        self.check_genes(field.genes)
        return field.select(list(self.genes_)).with_scale(self.gene_scale_, self.gene_transform_)

    def predict(self, x: Any, t: Any, genes: Any, *, return_attention: bool = False) -> Any:
        """Run the module on a batch (torch tensors on the model's device), without gradients.

        The diffusion net's output (``prediction_type``) for the generative objectives; the
        standardised stains for ``objective="regression"``.
        """
        import torch

        self._check_fitted()
        with torch.no_grad():
            return self.module_(x, t, genes, return_attention=return_attention)

    def predict_mean(self, genes: Any) -> Any:
        """The regression net's conditional mean of the standardised stains of a batch of windows.

        Parameters
        ----------
        genes : torch.Tensor, shape (B, n_genes, n_planes, w / r, w / r)
            Binned gene fields of the windows (r: the gene bin in image pixels).

        Returns
        -------
        mean : torch.Tensor, shape (B, n_stains, n_planes, w, w)
            Zeros for ``objective="diffusion"`` (no regression net).

        Raises
        ------
        ModelStateError
            If the model is not fitted.
        """
        import torch

        self._check_fitted()
        b, r = genes.shape[0], self.ratio_
        shape = (b, len(self.stains_), len(self.planes_), genes.shape[-2] * r, genes.shape[-1] * r)
        net = self.regression_module_ if self.objective == "residual" else (
            self.module_ if self.objective == "regression" else None)  # fmt: skip
        x = torch.zeros(shape, device=genes.device)
        if net is None:
            return x
        with torch.no_grad():
            return net(x, torch.zeros(b, dtype=torch.long, device=genes.device), genes)

    @property
    def device_(self) -> Any:
        """The torch device of the fitted module."""
        self._check_fitted()
        return next(self.module_.parameters()).device

    # ------------------------------------------------------------ checkpoint
    def fingerprint(self) -> str:
        """sha256 of the weights and config (identifies the model in generation state)."""
        self._check_fitted()
        h = hashlib.sha256()
        tensors, _ = self._checkpoint_state()
        for k, v in sorted(tensors.items()):
            if k in ("train_loss", "regression_loss"):
                continue
            h.update(k.encode())
            h.update(np.ascontiguousarray(v).tobytes())
        h.update(repr(sorted(self.params_.items())).encode())
        return h.hexdigest()

    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        if self.regression_module_ is not None:
            tensors |= {f"regression.{k}": v.detach().cpu().numpy()
                        for k, v in self.regression_module_.state_dict().items()}  # fmt: skip
        tensors["gene_scale"] = self.gene_scale_
        tensors["stain_mean"] = self.stain_mean_
        tensors["stain_loc"] = self.stain_loc_
        tensors["stain_scale"] = self.stain_scale_
        tensors["residual_scale"] = self.residual_scale_
        tensors["train_loss"] = self.history_.loss[:, 0].astype(np.float32)
        if self.regression_history_ is not None:
            tensors["regression_loss"] = self.regression_history_.loss[:, 0].astype(np.float32)
        config = {"parameters": {**self.params_, "channels": list(self.params_["channels"])},
                  "genes": list(self.genes_), "planes": list(self.planes_),
                  "stains": list(self.stains_), "ratio": self.ratio_,
                  "gene_transform": self.gene_transform_, "gene_bin_um": self.gene_bin_um_,
                  "fit_time_s": self.fit_time_s_, "train_cols": list(self.train_cols_)}  # fmt: skip
        return tensors, config

    @classmethod
    def _from_checkpoint(cls, tensors, config, *, path, device: str = "auto") -> Self:
        """Rebuild a fitted model from :meth:`save`'s files (``load(path, device="auto")``)."""
        import torch

        p = config["parameters"]
        keep = set(inspect.signature(cls.__init__).parameters) - {"self", "device"}
        missing = {"stain_loc", "stain_scale"} - set(tensors)
        if missing:
            raise ModelStateError(
                f"The checkpoint '{path}' has no per-stain standardisation ({', '.join(sorted(missing))}):"
                " it was written by an older crossscale whose sampler and stain scaling were wrong. "
                "Retrain it with 'crossscale volume train'."
            )
        est = cls(**{k: (tuple(v) if k == "channels" else v) for k, v in p.items() if k in keep},
                  device=device)  # fmt: skip
        est.params_ = est.resolved_params()
        n = (len(config["genes"]), len(config["stains"]), len(config["planes"]))
        dev = _resolve_device(device)

        def net(prefix: str, noisy: bool) -> Any:
            m = est._build(*n, noisy=noisy)
            m.load_state_dict({k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in tensors.items()
                               if k.startswith(prefix) and k not in _STAT_KEYS
                               and (prefix or not k.startswith("regression."))})  # fmt: skip
            return m.to(dev).eval()

        est.module_ = net("", est.objective != "regression")
        est.regression_module_ = net("regression.", False) if est.objective == "residual" else None
        est.genes_ = tuple(config["genes"])
        est.planes_ = tuple(config["planes"])
        est.stains_ = tuple(config["stains"])
        est.ratio_ = int(config["ratio"])
        est.gene_transform_ = config["gene_transform"]
        est.gene_bin_um_ = float(config["gene_bin_um"])
        est.gene_scale_ = np.asarray(tensors["gene_scale"], np.float32)
        est.stain_mean_ = np.asarray(tensors["stain_mean"], np.float32)
        est.stain_loc_ = np.asarray(tensors["stain_loc"], np.float32)
        est.stain_scale_ = np.asarray(tensors["stain_scale"], np.float32)
        est.residual_scale_ = np.asarray(tensors["residual_scale"], np.float32)
        seconds = float(config.get("fit_time_s", config.get("train_seconds", "nan")))  # old: train_seconds
        est.history_ = TrainHistory.from_losses(np.asarray(tensors["train_loss"]))
        est.regression_history_ = (TrainHistory.from_losses(np.asarray(tensors["regression_loss"]))
                                   if "regression_loss" in tensors else None)  # fmt: skip
        est.train_cols_ = tuple(int(c) for c in config["train_cols"])
        est.fit_time_s_ = seconds
        return est

