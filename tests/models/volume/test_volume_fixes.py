"""The sampler, stain scaling and blending fixes of issue 20, and the residual (CorrDiff) objective.

Each test fails on the code before the fix: DDIM timesteps off the grid that
``DDIMScheduler.step`` walks, stains diffused unstandardised, ``clip_sample`` on, and
deterministic canvases assembled from window cores only.
"""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")
pytest.importorskip("zarr")
pytest.importorskip("ome_zarr")

from crossscale import ModelStateError, ParameterError  # noqa: E402
from crossscale.evaluate.volume_metrics import seam_score  # noqa: E402
from crossscale.models.volume import VolumeDiffusion, generate, predict_canvas  # noqa: E402
from crossscale.models.volume.fitted import ddim_timesteps  # noqa: E402
from crossscale.models.volume.layout import _Layout, hann_window  # noqa: E402

TINY = dict(channels=(4, 8), gene_dim=4, attn_dim=8, window=16, batch_size=4, num_inference_steps=3,
            holdout_fraction=0.25, device="cpu")  # fmt: skip


@pytest.fixture(scope="module")
def residual_model(tiny_sample):
    return VolumeDiffusion(max_iter=4, regression_iter=4, **TINY).fit(tiny_sample)


@pytest.mark.parametrize("n", [3, 7, 10, 20])
@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction", "sample"])
def test_ddim_steps_land_on_the_next_timestep(n, prediction_type):
    """With the exact model output, every DDIM step lands on the next timestep's noise level."""
    est = VolumeDiffusion(num_inference_steps=n, prediction_type=prediction_type)
    ddim, ddpm = est.scheduler("ddim"), est.scheduler("ddpm")
    ts = [int(t) for t in ddim.timesteps]
    T = est.num_train_timesteps
    # the scheduler's own grid: step() moves by T // n
    assert ts == list(ddim_timesteps(T, n)) and ts[0] == n * (T // n) - 1 and ts[-1] == T // n - 1
    assert ddim_timesteps(T, n).dtype == np.int64  # indices into the schedules' tables
    assert all(a - b == T // ddim.num_inference_steps for a, b in zip(ts[:-1], ts[1:], strict=True))
    g = torch.Generator().manual_seed(n)
    x0 = torch.randn(2, 2, 2, 8, 8, generator=g)
    eps = torch.randn(2, 2, 2, 8, 8, generator=g)
    ab = ddpm.alphas_cumprod
    for k, t in enumerate(ts):
        xt = ddpm.add_noise(x0, eps, torch.tensor([t]))
        out = {"epsilon": eps, "sample": x0,
               "v_prediction": ab[t].sqrt() * eps - (1 - ab[t]).sqrt() * x0}[prediction_type]  # fmt: skip
        prev, x0_hat = ddim.step(out, t, xt)
        torch.testing.assert_close(x0_hat, x0, atol=2e-4, rtol=1e-4)
        if k + 1 < len(ts):
            expected = ddpm.add_noise(x0, eps, torch.tensor([ts[k + 1]]))
        else:  # the last step lands on the clean image
            expected = x0
        torch.testing.assert_close(prev, expected, atol=2e-4, rtol=1e-4)


def test_ddim_does_not_clip_by_default():
    assert VolumeDiffusion().scheduler("ddim").clip_sample is False
    assert VolumeDiffusion(clip_sample=True).scheduler("ddim").clip_sample is True
    with pytest.raises(ParameterError, match="num_inference_steps must be in"):
        VolumeDiffusion(num_inference_steps=0).resolved_params()
    with pytest.raises(ParameterError, match="prediction_type must be one of"):
        VolumeDiffusion(prediction_type="score").resolved_params()


def test_stains_are_standardised_per_stain_and_round_trip(residual_model, tiny_sample, tmp_path):
    m = residual_model
    train = np.asarray(tiny_sample.stains.data[:, :, :, : m.train_cols_[1]], np.float64)
    np.testing.assert_allclose(m.stain_loc_, train.mean(axis=(1, 2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.stain_scale_, train.std(axis=(1, 2, 3)), rtol=1e-5)
    z = m.standardise(train.astype(np.float32))
    np.testing.assert_allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(1, 2, 3)), 1, rtol=1e-4)
    np.testing.assert_allclose(m.destandardise(z), train, atol=1e-5)
    # the checkpoint keeps the scaling (and both nets)
    m.save(tmp_path / "ckpt")
    back = VolumeDiffusion.load(tmp_path / "ckpt", device="cpu")
    for k in ("stain_loc_", "stain_scale_", "residual_scale_"):
        np.testing.assert_array_equal(getattr(back, k), getattr(m, k))
    assert back.fingerprint() == m.fingerprint()
    np.testing.assert_array_equal(predict_canvas(back, tiny_sample.genes), predict_canvas(m, tiny_sample.genes))


class _Oracle(torch.nn.Module):
    """A 'diffusion net' that knows the clean standardised image is the constant `c`."""

    def __init__(self, c: float, prediction_type: str, ab: torch.Tensor) -> None:
        super().__init__()
        self.c, self.kind, self.ab = c, prediction_type, ab
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, genes, return_attention=False):
        x0 = torch.full_like(x, self.c)
        a = self.ab[t].reshape(-1, 1, 1, 1, 1)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        return {"sample": x0, "epsilon": eps, "v_prediction": a.sqrt() * eps - (1 - a).sqrt() * x0}[self.kind]


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_generation_returns_original_intensities_unclipped(tiny_sample, tmp_path, prediction_type):
    """Plain diffusion: a clean standardised image c comes back as loc + c * scale, even outside [-1, 1]."""
    m = VolumeDiffusion(objective="diffusion", max_iter=1, prediction_type=prediction_type,
                        **TINY).fit(tiny_sample)  # fmt: skip
    c = 3.0  # 3 SD above the mean: beyond [-1, 1] in standardised units (clip_sample would cap it)
    m.module_ = _Oracle(c, prediction_type, m.scheduler("ddpm").alphas_cumprod)
    img = generate(m, tiny_sample.genes, tmp_path / "g.ome.zarr").read()
    expected = m.stain_loc_ + c * m.stain_scale_
    np.testing.assert_allclose(img.mean(axis=(1, 2, 3)), expected, rtol=1e-3)
    np.testing.assert_allclose(img, np.broadcast_to(expected[:, None, None, None], img.shape), atol=2e-3)


def test_residual_sample_is_mean_plus_scaled_residual(residual_model, tiny_sample, tmp_path):
    """Residual objective: sample = blended regression mean + residual SD x residual, destandardised."""
    m = residual_model
    assert m.regression_module_ is not None and m.residual_scale_.shape == (2,)
    mean = predict_canvas(m, tiny_sample.genes)
    orig = m.module_
    try:
        for c in (0.0, 1.5):
            m.module_ = _Oracle(c, m.params_["prediction_type"], m.scheduler("ddpm").alphas_cumprod)
            img = generate(m, tiny_sample.genes, tmp_path / f"r{c}.ome.zarr", scheme="boundary").read()
            shift = (c * m.residual_scale_ * m.stain_scale_)[:, None, None, None]
            np.testing.assert_allclose(img, mean + shift, atol=2e-3)
    finally:
        m.module_ = orig
    # the residual SD is that of standardised stains minus the regression mean (training region)
    cols = slice(0, m.train_cols_[1] // 8 * 8)  # whole cores of the training region
    r = m.ratio_
    g = tiny_sample.genes.crop(slice(None), slice(0, cols.stop // r))
    res = m.standardise(np.asarray(tiny_sample.stains.data[:, :, :, cols])) - m.standardise(predict_canvas(m, g))
    np.testing.assert_allclose(m.residual_scale_, res.std(axis=(1, 2, 3)), rtol=0.35)


def test_regression_canvas_is_hann_blended_without_seams(tiny_sample):
    """A deterministic canvas has no seams: overlapping windows are Hann-averaged, not cut at cores."""
    reg = VolumeDiffusion(objective="regression", max_iter=2, **TINY).fit(tiny_sample)
    out = predict_canvas(reg, tiny_sample.genes)
    assert out.shape == (2, 2, 32, 48) and np.isfinite(out).all()
    # the same windows assembled from their cores only (the old predict_canvas) show seams
    r, win, core, halo = reg.ratio_, 16, 8, 4
    lay = _Layout("boundary", 32, 48, core, win, halo)
    g = reg.prepare_genes(tiny_sample.genes)
    cores = np.zeros_like(out)
    for i in range(4):
        for j in range(6):
            y0, x0 = lay.window(i, j)
            gw = torch.from_numpy(g.values(slice(y0 // r, (y0 + win) // r), slice(x0 // r, (x0 + win) // r))[None])
            p = reg.destandardise(reg.predict_mean(gw)[0].numpy())
            cy, cx = i * core - y0, j * core - x0
            cores[:, :, i * core : (i + 1) * core, j * core : (j + 1) * core] = p[:, :, cy : cy + core, cx : cx + core]
    borders = lay.borders()
    assert seam_score(cores, borders) > 1.15  # 1.27 when written
    assert abs(seam_score(out, borders) - 1) < 0.1  # 0.95 when written
    # Hann weights: symmetric, largest at the centre, never zero
    w = hann_window(16)
    assert np.allclose(w, w.T) and np.allclose(w, w[::-1, ::-1]) and w.min() > 0 and w.argmax() in (
        7 * 16 + 7, 7 * 16 + 8, 8 * 16 + 7, 8 * 16 + 8)  # fmt: skip
    with pytest.raises(ParameterError, match="needs a diffusion model"):
        generate(reg, tiny_sample.genes, "unused.ome.zarr")


def test_plain_diffusion_has_no_regression_canvas(tiny_sample):
    m = VolumeDiffusion(objective="diffusion", max_iter=1, **TINY).fit(tiny_sample)
    assert m.regression_module_ is None
    with pytest.raises(ParameterError, match="needs a model with a regression net"):
        predict_canvas(m, tiny_sample.genes)


def test_fingerprint_covers_the_regression_net(residual_model):
    fp = residual_model.fingerprint()
    p = next(residual_model.regression_module_.parameters())
    keep = p.detach().clone()
    with torch.no_grad():
        p.add_(1.0)
    try:
        assert residual_model.fingerprint() != fp
    finally:
        with torch.no_grad():
            p.copy_(keep)
    assert residual_model.fingerprint() == fp


def test_checkpoint_without_standardisation_is_refused(residual_model, tmp_path):
    from safetensors.numpy import load_file, save_file

    residual_model.save(tmp_path / "old")
    t = load_file(str(tmp_path / "old" / "model.safetensors"))
    del t["stain_loc"], t["stain_scale"]
    save_file(t, str(tmp_path / "old" / "model.safetensors"))
    cfg_path = tmp_path / "old" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["integrity"]  # checkpoints of that time had no checksums either
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ModelStateError, match="no per-stain standardisation"):
        VolumeDiffusion.load(tmp_path / "old", device="cpu")


def test_both_nets_keep_the_one_history_type_through_save_and_load(residual_model, tmp_path):
    from crossscale.train.record import TrainHistory

    m = residual_model
    assert isinstance(m.history_, TrainHistory) and isinstance(m.regression_history_, TrainHistory)
    assert m.history_.loss.shape == m.regression_history_.loss.shape == (4, 1)
    assert np.isfinite(m.history_.loss).all() and m.train_cols_[0] == 0 < m.train_cols_[1]
    m.save(tmp_path / "m")
    again = VolumeDiffusion.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(again.history_.loss, m.history_.loss, rtol=1e-6)
    np.testing.assert_allclose(again.regression_history_.loss, m.regression_history_.loss, rtol=1e-6)
    assert again.train_cols_ == m.train_cols_ and again.fit_time_s_ == pytest.approx(m.fit_time_s_)

