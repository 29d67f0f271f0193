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

import logging
import time
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.models.volume.fitted import (
    FittedVolume,
    _resolve_device,
    holdout_start,
)
from crossscale.train.plan import TrainPlan, fit_epochs
from crossscale.train.record import LossRecord

logger = logging.getLogger(__name__)

#: Model sizes. "smoke" trains on 2 CPU cores in minutes (the CLI default); "default" is meant
#: for a GPU. ``max_iter`` counts diffusion steps; the regression net of the residual objective
#: trains ``regression_iter`` steps (default ``max_iter // 4``).
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"channels": (8, 16, 32), "gene_dim": 8, "attn_dim": 16, "window": 32,
              "batch_size": 8, "max_iter": 2000, "lr": 2e-3},
    "default": {"channels": (32, 64, 128, 256), "gene_dim": 32, "attn_dim": 64, "window": 64,
                "batch_size": 32, "max_iter": 20000, "lr": 2e-4},
}  # fmt: skip
OBJECTIVES = ("residual", "diffusion", "regression")
PREDICTION_TYPES = ("v_prediction", "epsilon", "sample")


class VolumeDiffusion(FittedVolume):
    """Gene-conditioned diffusion (or regression) model of stain images of several planes.

    Stains are standardised per stain (mean and SD of the training region, stored with the
    model); generated canvases are returned in the original intensities.

    Parameters
    ----------
    preset : {"smoke", "default"}
        Base sizes (see :data:`PRESETS`); every other parameter overrides it when not None.
    objective : {"residual", "diffusion", "regression"}
        ``"residual"`` (default, CorrDiff): a regression UNet predicts the conditional mean of the
        standardised stains from the genes, and a diffusion UNet models the residual divided by
        its per-stain SD; a sample is ``mean + SD * residual``. ``"diffusion"``: plain diffusion
        on the standardised stains. ``"regression"``: the deterministic regression net alone.
    channels : tuple of int, optional
        UNet widths per level.
    gene_dim, attn_dim : int, optional
        Gene feature and attention token widths.
    time_dim : int, optional
        Width of the sinusoidal timestep embedding (default ``channels[0]``).
    window : int, optional
        Training window (stain pixels per side); generation uses the same window.
    batch_size, max_iter : int, optional
        Windows per step and optimisation steps of the diffusion net (of the regression net for
        ``objective="regression"``).
    regression_iter : int, optional
        Optimisation steps of the regression net of the residual objective (default
        ``max(1, max_iter // 4)``).
    lr : float, optional
        Adam learning rate.
    prediction_type : {"v_prediction", "epsilon", "sample"}
        What the diffusion net predicts: the velocity ``v = sqrt(a) eps - sqrt(1 - a) x0``
        (Salimans & Ho 2022), the noise, or the clean image.
    ema_decay : float or None
        Exponential moving average of the weights (see :class:`~crossscale.train.plan.TrainPlan`).
    min_snr_gamma : float or None
        Min-SNR loss weighting over timesteps (Hang et al. 2023); None weights all equally.
    noise_offset : float
        Training noise plus this times a per-window, per-channel constant (Guttenberg 2023).
    num_train_timesteps : int
        Length of the DDPM noise schedule.
    num_inference_steps : int
        DDIM steps at generation (on the grid of :func:`ddim_timesteps`).
    eta : float
        DDIM's stochasticity at generation, 0 (deterministic, the default) to 1 (the DDPM
        posterior variance; Song et al. 2021, eq. 16). The added noise is seeded by canvas
        position and step, so generation stays reproducible and independent of the patch layout.
    contrast : float
        Scale of each generated sample's deviation from the training mean image (per stain and
        plane), applied when the final image is written: ``mean + contrast * (sample - mean)``.
        1.0 (default) keeps the model's own amplitude; below 1 calibrates a model whose samples
        are over-confident (too much power) on tissue it was not trained on. Choose it on a
        validation strip, never on the test region (``benchmarks/bench_volume_ablation.py``).
    clip_sample : bool
        Clip DDIM's predicted clean (standardised) image to [-1, 1] at every step. Off by default:
        clipping hides a diverging sampler.
    holdout_fraction : float
        The rightmost fraction of the columns that is never trained on (evaluation region).
    random_state : int
        Seed of weights and window sampling.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    References
    ----------
    .. [1] Mardani M. et al. (2024). Residual corrective diffusion modeling for km-scale
       atmospheric downscaling (CorrDiff). arXiv:2309.15214.
    .. [2] Salimans T., Ho J. (2022). Progressive distillation for fast sampling of diffusion
       models. ICLR (v-prediction).
    .. [3] Hang T. et al. (2023). Efficient diffusion training via min-SNR weighting strategy. ICCV.
    """

    def __init__(
        self,
        *,
        preset: str = "smoke",
        objective: str = "residual",
        channels: tuple[int, ...] | None = None,
        gene_dim: int | None = None,
        attn_dim: int | None = None,
        time_dim: int | None = None,
        window: int | None = None,
        batch_size: int | None = None,
        max_iter: int | None = None,
        regression_iter: int | None = None,
        lr: float | None = None,
        prediction_type: str = "v_prediction",
        ema_decay: float | None = 0.999,
        min_snr_gamma: float | None = None,
        noise_offset: float = 0.0,
        num_train_timesteps: int = 1000,
        num_inference_steps: int = 10,
        eta: float = 0.0,
        contrast: float = 1.0,
        clip_sample: bool = False,
        holdout_fraction: float = 0.25,
        random_state: int = 0,
        device: str = "auto",
    ) -> None:
        self.preset, self.objective = preset, objective
        self.channels, self.gene_dim, self.attn_dim, self.window = channels, gene_dim, attn_dim, window
        self.time_dim = time_dim
        self.batch_size, self.max_iter, self.lr = batch_size, max_iter, lr
        self.regression_iter = regression_iter
        self.prediction_type, self.ema_decay = prediction_type, ema_decay
        self.min_snr_gamma, self.noise_offset = min_snr_gamma, noise_offset
        self.num_train_timesteps, self.num_inference_steps = num_train_timesteps, num_inference_steps
        self.clip_sample, self.eta, self.contrast = clip_sample, eta, contrast
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
        if self.prediction_type not in PREDICTION_TYPES:
            raise ParameterError(
                f"prediction_type must be one of {', '.join(PREDICTION_TYPES)}; got "
                f"{self.prediction_type!r}."
            )
        if not 1 <= int(self.num_inference_steps) <= int(self.num_train_timesteps):
            raise ParameterError(
                f"num_inference_steps must be in [1, num_train_timesteps = "
                f"{self.num_train_timesteps}]; got {self.num_inference_steps}."
            )
        if not 0.0 <= float(self.eta) <= 1.0:
            raise ParameterError(f"eta must be in [0, 1] (0: deterministic DDIM); got {self.eta!r}.")
        if not 0.0 < float(self.contrast) <= 10.0:
            raise ParameterError(f"contrast must be in (0, 10] (1: the model's own amplitude); got {self.contrast!r}.")
        p = dict(PRESETS[self.preset])
        for k in ("channels", "gene_dim", "attn_dim", "window", "batch_size", "max_iter", "lr"):
            if getattr(self, k) is not None:
                p[k] = getattr(self, k)
        p["channels"] = tuple(int(c) for c in p["channels"])
        p["time_dim"] = int(self.time_dim) if self.time_dim is not None else p["channels"][0]
        p["regression_iter"] = (int(self.regression_iter) if self.regression_iter is not None
                                else max(1, int(p["max_iter"]) // 4))  # fmt: skip
        p |= {"preset": self.preset, "objective": self.objective,
              "prediction_type": self.prediction_type, "ema_decay": self.ema_decay,
              "min_snr_gamma": self.min_snr_gamma, "noise_offset": float(self.noise_offset),
              "num_train_timesteps": self.num_train_timesteps,
              "num_inference_steps": self.num_inference_steps, "eta": float(self.eta),
              "contrast": float(self.contrast),
              "clip_sample": self.clip_sample,
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

    def _build(self, n_genes: int, n_stains: int, n_planes: int, *, noisy: bool = True) -> Any:
        from crossscale.models.volume.module import GeneMorphUNet

        p = self.resolved_params()
        return GeneMorphUNet(n_genes, n_stains, n_planes, channels=p["channels"],
                             gene_dim=p["gene_dim"], attn_dim=p["attn_dim"],
                             time_dim=p["time_dim"], noisy_input=noisy)  # fmt: skip

    @property
    def is_generative(self) -> bool:
        """True for the diffusion objectives (``residual``, ``diffusion``)."""
        return self.objective in ("residual", "diffusion")


    def fit(self, sample: Any) -> VolumeDiffusion:
        """Train on random windows of the non-held-out columns of `sample`.

        With ``objective="residual"`` the regression net is trained first (``regression_iter``
        steps), the SD of its residual per stain is measured on training windows, and the
        diffusion net is trained on the scaled residual (``max_iter`` steps); both by the same
        :meth:`train_plan` and saved in one checkpoint.

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
        raw = np.asarray(sample.stains.data[:, :, :, :train_w], np.float32)
        loc = raw.mean(axis=(1, 2, 3)).astype(np.float32)
        scale = raw.std(axis=(1, 2, 3)).astype(np.float32)
        if np.any(scale <= 0):
            bad = [s for s, v in zip(sample.stains.stains, scale, strict=True) if v <= 0]
            raise ParameterError(
                f"The stains {bad} are constant on the training region; they cannot be "
                "standardised. Pass stains with contrast or drop them."
            )
        stains = (raw - loc[:, None, None, None]) / scale[:, None, None, None]
        gvals = genes.values(slice(None), slice(0, train_w // r))
        gw = win // r
        n_g, n_s = len(genes.genes), stains.shape[0]
        t0 = time.perf_counter()

        def windows(n: int) -> tuple[Any, Any]:
            """N random training windows (with flips): standardised stains and gene fields."""
            ys = rng.integers(0, (h - win) // r + 1, n) * r
            xs = rng.integers(0, (train_w - win) // r + 1, n) * r
            flips = rng.integers(0, 2, (n, 2))
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
            return torch.from_numpy(np.stack(xb)).to(dev), torch.from_numpy(np.stack(gb)).to(dev)

        def zeros_t(x: Any) -> Any:
            return torch.zeros(x.shape[0], dtype=torch.long, device=dev)

        reg = reg_hist = None
        res_scale = np.ones(n_s, np.float32)
        if p["objective"] in ("regression", "residual"):
            reg = self._build(n_g, n_s, n_planes, noisy=False).to(dev)
            n_reg = p["max_iter"] if p["objective"] == "regression" else p["regression_iter"]

            def reg_steps(it: int):
                x, g = windows(p["batch_size"])
                loss = torch.nn.functional.mse_loss(reg(torch.zeros_like(x), zeros_t(x), g), x)
                if it % max(1, n_reg // 10) == 0:
                    logger.info("regression iter %d loss %.4f", it, float(loss.detach()))
                yield LossRecord(loss)

            reg_hist = fit_epochs(reg, self.train_plan(n_reg), reg_steps,
                                  description="training regression net")  # fmt: skip
            reg.eval()
            if p["objective"] == "residual":  # SD of the residual per stain on training windows
                sq, n = np.zeros(n_s), 0
                with torch.no_grad():
                    for _ in range(8):
                        x, g = windows(p["batch_size"])
                        d = (x - reg(torch.zeros_like(x), zeros_t(x), g)).cpu().numpy()
                        sq += (d.astype(np.float64) ** 2).sum(axis=(0, 2, 3, 4))
                        n += d[:, 0].size
                res_scale = np.sqrt(sq / n).astype(np.float32)
                res_scale[res_scale <= 0] = 1.0
        model = None
        hist = reg_hist
        if p["objective"] != "regression":
            model = self._build(n_g, n_s, n_planes, noisy=True).to(dev)
            sched = self.scheduler("ddpm")
            ab = sched.alphas_cumprod.to(dev)
            rs = torch.from_numpy(res_scale).to(dev)[None, :, None, None, None]

            def diff_steps(it: int):
                x, g = windows(p["batch_size"])
                if reg is not None:
                    with torch.no_grad():
                        x = (x - reg(torch.zeros_like(x), zeros_t(x), g)) / rs
                noise = torch.randn_like(x)
                if p["noise_offset"]:
                    noise = noise + p["noise_offset"] * torch.randn(x.shape[0], x.shape[1], 1, 1, 1, device=dev)
                t = torch.randint(0, self.num_train_timesteps, (x.shape[0],), device=dev)
                out = model(sched.add_noise(x, noise, t), t, g)
                if p["prediction_type"] == "epsilon":
                    target = noise
                elif p["prediction_type"] == "sample":
                    target = x
                else:
                    target = sched.get_velocity(x, noise, t)
                err = ((out - target) ** 2).mean(dim=(1, 2, 3, 4))
                if p["min_snr_gamma"]:
                    snr = ab[t] / (1 - ab[t])
                    wgt = torch.clamp(snr, max=float(p["min_snr_gamma"]))
                    wgt = wgt / {"epsilon": snr, "sample": torch.ones_like(snr),
                                 "v_prediction": snr + 1}[p["prediction_type"]]  # fmt: skip
                    err = err * wgt
                loss = err.mean()
                if it % max(1, p["max_iter"] // 10) == 0:
                    logger.info("diffusion iter %d loss %.4f", it, float(loss.detach()))
                yield LossRecord(loss)

            hist = fit_epochs(model, self.train_plan(p["max_iter"]), diff_steps,
                              description=f"training {p['objective']} diffusion net")  # fmt: skip
            model.eval()
        self.module_ = model if model is not None else reg
        self.regression_module_ = reg if p["objective"] == "residual" else None
        self.params_ = p
        self.genes_ = tuple(genes.genes)
        self.gene_scale_ = np.asarray(genes.scale, np.float32)
        self.gene_transform_ = genes.transform
        self.planes_ = tuple(int(z) for z in genes.planes)
        self.stains_ = tuple(sample.stains.stains)
        self.ratio_ = r
        self.gene_bin_um_ = float(genes.grid.step)
        self.stain_mean_ = raw.mean(axis=(2, 3)).astype(np.float32)  # (n_stains, n_planes)
        self.stain_loc_, self.stain_scale_ = loc, scale
        self.residual_scale_ = res_scale
        self.history_ = hist
        self.regression_history_ = reg_hist if p["objective"] == "residual" else None
        self.train_cols_ = (0, int(train_w))
        self.fit_time_s_ = time.perf_counter() - t0
        return self

    def train_plan(self, n_iter: int | None = None) -> TrainPlan:
        """The training plan (:class:`~crossscale.train.plan.TrainPlan`) of both nets.

        Adam at the resolved `lr`, constant, one random batch per step for `n_iter` steps
        (default `max_iter`), no clipping, EMA of the weights at `ema_decay`.
        """
        p = self.resolved_params()
        return TrainPlan(lr=p["lr"], max_epochs=int(n_iter or p["max_iter"]), ema_decay=p["ema_decay"])
