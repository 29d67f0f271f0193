"""User API of the gene-conditioned tissue model: fit on a gene field + stains, save, load.

The diffusion objective uses MONAI's DDPM noise schedule for training and MONAI's DDIM sampler
(deterministic, ``eta = 0``) for generation; the deterministic regression baseline is the same
backbone trained with a mean squared error on the stains directly.

References
----------
.. [1] Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain simulation via spatial
   mRNA-guided diffusion. arXiv:2503.01220.
.. [2] Ho J., Jain A., Abbeel P. (2020). Denoising diffusion probabilistic models. NeurIPS.
.. [3] Song J., Meng C., Ermon S. (2021). Denoising diffusion implicit models. ICLR.
.. [4] Cardoso M. J. et al. (2022). MONAI: An open-source framework for deep learning in
   healthcare. arXiv:2211.02701.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossscale._errors import ModelStateError, ParameterError
from crossscale.train.checkpoint import CheckpointMixin
from crossscale.train.plan import TrainPlan, fit_epochs

logger = logging.getLogger(__name__)

#: Model sizes. "smoke" trains on 2 CPU cores in minutes; "default" is meant for a GPU.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"channels": (8, 16, 32), "gene_dim": 8, "attn_dim": 16, "window": 32,
              "batch_size": 8, "max_iter": 300, "lr": 2e-3},
    "default": {"channels": (32, 64, 128, 256), "gene_dim": 32, "attn_dim": 64, "window": 64,
                "batch_size": 32, "max_iter": 20000, "lr": 2e-4},
}  # fmt: skip
OBJECTIVES = ("diffusion", "regression")


@dataclass(frozen=True)
class TrainRecord:
    """What training did: loss per iteration, time, and the columns it used."""

    loss: np.ndarray
    seconds: float
    train_cols: tuple[int, int]
    n_iter: int
    extra: dict[str, Any] = field(default_factory=dict)


def _resolve_device(device: str) -> Any:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class VolumeDiffusion(CheckpointMixin):
    """Gene-conditioned diffusion (or regression) model of stain images of several planes.

    Parameters
    ----------
    preset : {"smoke", "default"}
        Base sizes (see :data:`PRESETS`); every other parameter overrides it when not None.
    objective : {"diffusion", "regression"}
        Denoising diffusion (noise prediction) or the deterministic regression baseline.
    channels : tuple of int, optional
        UNet widths per level.
    gene_dim, attn_dim : int, optional
        Gene feature and attention token widths.
    window : int, optional
        Training window (stain pixels per side); generation uses the same window.
    batch_size, max_iter : int, optional
        Windows per step and optimisation steps.
    lr : float, optional
        Adam learning rate.
    num_train_timesteps : int
        Length of the DDPM noise schedule.
    num_inference_steps : int
        DDIM steps at generation.
    clip_sample : bool
        Clip DDIM's predicted clean image to [-1, 1] at every step (the data range); without it
        an under-trained model's samples diverge far outside the range.
    holdout_fraction : float
        The rightmost fraction of the columns that is never trained on (evaluation region).
    random_state : int
        Seed of weights and window sampling.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
    """

    def __init__(
        self,
        *,
        preset: str = "smoke",
        objective: str = "diffusion",
        channels: tuple[int, ...] | None = None,
        gene_dim: int | None = None,
        attn_dim: int | None = None,
        window: int | None = None,
        batch_size: int | None = None,
        max_iter: int | None = None,
        lr: float | None = None,
        num_train_timesteps: int = 1000,
        num_inference_steps: int = 20,
        clip_sample: bool = True,
        holdout_fraction: float = 0.25,
        random_state: int = 0,
        device: str = "auto",
    ) -> None:
        self.preset, self.objective = preset, objective
        self.channels, self.gene_dim, self.attn_dim, self.window = channels, gene_dim, attn_dim, window
        self.batch_size, self.max_iter, self.lr = batch_size, max_iter, lr
        self.num_train_timesteps, self.num_inference_steps = num_train_timesteps, num_inference_steps
        self.clip_sample = clip_sample
        self.holdout_fraction, self.random_state, self.device = holdout_fraction, random_state, device

    # ------------------------------------------------------------------ config
    def resolved_params(self) -> dict[str, Any]:
        """Every parameter after applying the preset."""
        if self.preset not in PRESETS:
            raise ParameterError(f"preset must be one of {', '.join(PRESETS)}; got {self.preset!r}.")
        if self.objective not in OBJECTIVES:
            raise ParameterError(
                f"objective must be one of {', '.join(OBJECTIVES)}; got {self.objective!r}."
            )
        p = dict(PRESETS[self.preset])
        for k in ("channels", "gene_dim", "attn_dim", "window", "batch_size", "max_iter", "lr"):
            if getattr(self, k) is not None:
                p[k] = getattr(self, k)
        p["channels"] = tuple(int(c) for c in p["channels"])
        p |= {"preset": self.preset, "objective": self.objective,
              "num_train_timesteps": self.num_train_timesteps,
              "num_inference_steps": self.num_inference_steps, "clip_sample": self.clip_sample,
              "holdout_fraction": self.holdout_fraction, "random_state": self.random_state}  # fmt: skip
        k = 2 ** (len(p["channels"]) - 1)
        if p["window"] % k:
            raise ParameterError(
                f"window ({p['window']}) must be a multiple of {k} (2 ** (levels - 1) for "
                f"channels {p['channels']})."
            )
        if not 0 < self.holdout_fraction < 1:
            raise ParameterError(f"holdout_fraction must be in (0, 1); got {self.holdout_fraction}.")
        return p

    def _build(self, n_genes: int, n_stains: int, n_planes: int) -> Any:
        from crossscale.models.volume.module import GeneMorphUNet

        p = self.resolved_params()
        return GeneMorphUNet(n_genes, n_stains, n_planes, channels=p["channels"],
                             gene_dim=p["gene_dim"], attn_dim=p["attn_dim"],
                             noisy_input=p["objective"] == "diffusion")  # fmt: skip

    def scheduler(self, kind: str = "ddim") -> Any:
        """A MONAI noise scheduler: ``"ddpm"`` (training) or ``"ddim"`` (generation, timesteps set)."""
        from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

        if kind == "ddpm":
            return DDPMScheduler(num_train_timesteps=self.num_train_timesteps,
                                 schedule="scaled_linear_beta", clip_sample=False)  # fmt: skip
        s = DDIMScheduler(num_train_timesteps=self.num_train_timesteps,
                          schedule="scaled_linear_beta", clip_sample=self.clip_sample)  # fmt: skip
        s.set_timesteps(self.num_inference_steps)
        return s

    # ------------------------------------------------------------------- fit
    def fit(self, sample: Any) -> VolumeDiffusion:
        """Train on random windows of the non-held-out columns of `sample`.

        Parameters
        ----------
        sample : crossscale.spatial.SpatialSample
            Gene field (n_genes, n_planes, H_g, W_g) and stains (n_stains, n_planes, H, W) with
            ``H = r * H_g``.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            Bad parameters, or a training region smaller than one window.
        """
        import torch

        p = self.resolved_params()
        r = int(sample.ratio)
        win = p["window"]
        if win % r:
            raise ParameterError(f"window ({win}) must be a multiple of the stain/gene ratio {r}.")
        _, n_planes, h, w = sample.stains.shape
        train_w = holdout_start(w, self.holdout_fraction, r)
        if train_w < win or h < win:
            raise ParameterError(
                f"The training region ({h} x {train_w} stain px) is smaller than the window "
                f"({win}); lower window or holdout_fraction."
            )
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        dev = _resolve_device(self.device)
        genes = sample.genes
        stains = np.asarray(sample.stains.data[:, :, :, :train_w], np.float32)
        gvals = genes.values(slice(None), slice(0, train_w // r))
        model = self._build(len(genes.genes), stains.shape[0], n_planes).to(dev)
        sched = self.scheduler("ddpm") if p["objective"] == "diffusion" else None
        gw = win // r

        def steps(it: int):
            """One batch of random windows (with flips) per step; the loss of that batch."""
            ys = rng.integers(0, (h - win) // r + 1, p["batch_size"]) * r
            xs = rng.integers(0, (train_w - win) // r + 1, p["batch_size"]) * r
            flips = rng.integers(0, 2, (p["batch_size"], 2))
            xb, gb = [], []
            for y0, x0, (fy, fx) in zip(ys, xs, flips, strict=True):
                s = stains[:, :, y0 : y0 + win, x0 : x0 + win]
                g = gvals[:, :, y0 // r : y0 // r + gw, x0 // r : x0 // r + gw]
                if fy:
                    s, g = s[..., ::-1, :], g[..., ::-1, :]
                if fx:
                    s, g = s[..., ::-1], g[..., ::-1]
                xb.append(np.ascontiguousarray(s))
                gb.append(np.ascontiguousarray(g))
            x = torch.from_numpy(np.stack(xb)).to(dev)
            g = torch.from_numpy(np.stack(gb)).to(dev)
            if sched is not None:
                noise = torch.randn_like(x)
                t = torch.randint(0, self.num_train_timesteps, (x.shape[0],), device=dev)
                loss = torch.nn.functional.mse_loss(model(sched.add_noise(x, noise, t), t, g), noise)
            else:
                t = torch.zeros(x.shape[0], dtype=torch.long, device=dev)
                loss = torch.nn.functional.mse_loss(model(torch.zeros_like(x), t, g), x)
            if it % max(1, p["max_iter"] // 10) == 0:
                logger.info("iter %d loss %.4f", it, float(loss.detach()))
            yield loss

        t0 = time.perf_counter()
        hist = fit_epochs(model, self.train_plan(), steps,
                          description=f"training {p['objective']} model")  # fmt: skip
        losses = np.array([row["loss"] for row in hist.terms], np.float32)
        model.eval()
        self.module_ = model
        self.params_ = p
        self.genes_ = tuple(genes.genes)
        self.gene_scale_ = np.asarray(genes.scale, np.float32)
        self.gene_transform_ = genes.transform
        self.planes_ = tuple(int(z) for z in genes.planes)
        self.stains_ = tuple(sample.stains.stains)
        self.ratio_ = r
        self.gene_bin_um_ = float(genes.grid.step)
        self.stain_mean_ = stains.mean(axis=(2, 3)).astype(np.float32)  # (n_stains, n_planes)
        self.history_ = TrainRecord(losses, time.perf_counter() - t0, (0, train_w), p["max_iter"])
        self.fit_time_s_ = self.history_.seconds
        return self

    def train_plan(self) -> TrainPlan:
        """The training plan (:class:`~crossscale.train.plan.TrainPlan`).

        Adam at the resolved `lr`, constant, one random batch per step for `max_iter` steps, no
        clipping.
        """
        p = self.resolved_params()
        return TrainPlan(lr=p["lr"], max_epochs=p["max_iter"])

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
        """Run the module on a batch (torch tensors on the model's device), without gradients."""
        import torch

        self._check_fitted()
        with torch.no_grad():
            return self.module_(x, t, genes, return_attention=return_attention)

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
        for k, v in sorted(self.module_.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().numpy().tobytes())
        h.update(repr(sorted(self.params_.items())).encode())
        return h.hexdigest()

    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        tensors["gene_scale"] = self.gene_scale_
        tensors["stain_mean"] = self.stain_mean_
        tensors["train_loss"] = self.history_.loss
        config = {"parameters": {**self.params_, "channels": list(self.params_["channels"])},
                  "genes": list(self.genes_), "planes": list(self.planes_),
                  "stains": list(self.stains_), "ratio": self.ratio_,
                  "gene_transform": self.gene_transform_, "gene_bin_um": self.gene_bin_um_,
                  "fit_time_s": self.history_.seconds, "train_cols": list(self.history_.train_cols)}  # fmt: skip
        return tensors, config

    @classmethod
    def _from_checkpoint(cls, tensors, config, *, path, device: str = "auto") -> VolumeDiffusion:
        """Rebuild a fitted model from :meth:`save`'s files (``load(path, device="auto")``)."""
        import torch

        p = config["parameters"]
        keep = {"preset", "objective", "channels", "gene_dim", "attn_dim", "window", "batch_size",
                "max_iter", "lr", "num_train_timesteps", "num_inference_steps", "clip_sample",
                "holdout_fraction", "random_state"}  # fmt: skip
        est = cls(**{k: (tuple(v) if k == "channels" else v) for k, v in p.items() if k in keep},
                  device=device)  # fmt: skip
        est.params_ = est.resolved_params()
        model = est._build(len(config["genes"]), len(config["stains"]), len(config["planes"]))
        state = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()
                 if k not in ("gene_scale", "stain_mean", "train_loss")}  # fmt: skip
        model.load_state_dict(state)
        est.module_ = model.to(_resolve_device(device)).eval()
        est.genes_ = tuple(config["genes"])
        est.planes_ = tuple(config["planes"])
        est.stains_ = tuple(config["stains"])
        est.ratio_ = int(config["ratio"])
        est.gene_transform_ = config["gene_transform"]
        est.gene_bin_um_ = float(config["gene_bin_um"])
        est.gene_scale_ = np.asarray(tensors["gene_scale"], np.float32)
        est.stain_mean_ = np.asarray(tensors["stain_mean"], np.float32)
        seconds = float(config.get("fit_time_s", config.get("train_seconds", "nan")))  # old: train_seconds
        est.history_ = TrainRecord(np.asarray(tensors["train_loss"]), seconds,
                                   tuple(config["train_cols"]), len(tensors["train_loss"]))  # fmt: skip
        est.fit_time_s_ = est.history_.seconds
        return est


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
