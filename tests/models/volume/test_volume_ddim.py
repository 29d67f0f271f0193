"""One DDIM step of patch generation against the closed form (Song et al. 2021, eq. 12, eta 0).

A stand-in model knows the clean image ``x0`` and returns the true noise of its input at the
timestep it is told, ``eps = (x_t - sqrt(a_t) x0) / sqrt(1 - a_t)``. One deterministic DDIM step
from ``t`` must then land exactly on ``sqrt(a_prev) x0 + sqrt(1 - a_prev) eps`` with
``prev = t - T // n``. A wrong sign of the noise, or the step labelled with another timestep,
moves it off that point.
"""

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
zarr = pytest.importorskip("zarr")

from crossscale.models.volume.layout import _Layout  # noqa: E402
from crossscale.models.volume.steps import _step_batch  # noqa: E402

T, N_STEPS = 1000, 10


def _scheduler():
    from monai.networks.schedulers import DDIMScheduler

    s = DDIMScheduler(num_train_timesteps=T, schedule="scaled_linear_beta", clip_sample=False)
    s.set_timesteps(N_STEPS)
    return s


class _TrueNoiseModel:
    """Duck-typed VolumeDiffusion: ratio, window, device, scheduler and a perfect noise predictor."""

    def __init__(self, x0: np.ndarray):
        self.x0 = torch.from_numpy(x0)
        self.ratio_ = 2
        self.params_ = {"window": x0.shape[-1]}
        self.device_ = torch.device("cpu")
        self.seen_t: list[int] = []

    def scheduler(self, kind: str = "ddim"):
        assert kind == "ddim"
        return _scheduler()

    def predict(self, x, t, genes):
        assert genes.shape[0] == x.shape[0]
        a = _scheduler().alphas_cumprod[t].to(x.dtype).view(-1, 1, 1, 1, 1)
        self.seen_t.extend(int(v) for v in t)
        return (x - a.sqrt() * self.x0) / (1 - a).sqrt()


def _genes():
    return SimpleNamespace(values=lambda rows, cols: np.zeros(
        (3, 2, rows.stop - rows.start, cols.stop - cols.start), np.float32))


@pytest.mark.parametrize("k", [0, 4, N_STEPS - 1])
def test_ddim_step_with_the_true_noise_lands_on_the_closed_form(tmp_path, k):
    rng = np.random.default_rng(k)
    win = 8
    x0 = rng.uniform(-1, 1, (1, 2, 2, win, win)).astype(np.float32)  # (batch, stains, planes, H, W)
    eps = rng.standard_normal(x0.shape[1:]).astype(np.float32)
    sched = _scheduler()
    timesteps = [int(t) for t in sched.timesteps]
    t = timesteps[k]
    prev = t - T // N_STEPS
    a_t = float(sched.alphas_cumprod[t])
    a_prev = float(sched.alphas_cumprod[prev]) if prev >= 0 else float(sched.final_alpha_cumprod)
    x_t = np.sqrt(a_t) * x0[0] + np.sqrt(1 - a_t) * eps
    layout = _Layout("overlap", win, win, win, win, 0)
    src, dst = str(tmp_path / "src.zarr"), str(tmp_path / "dst.zarr")
    for path, data in ((src, x_t), (dst, np.zeros_like(x_t))):
        arr = zarr.open_array(path, mode="w", shape=(1, 1, *x_t.shape), dtype="float32")
        arr[0, 0] = data
    model = _TrueNoiseModel(x0)
    _step_batch(model, _genes(), layout, src, dst, k, timesteps, [(0, 0)])
    got = np.asarray(zarr.open_array(dst, mode="r")[0, 0])
    assert model.seen_t == [t]
    # Song et al. (2021) eq. 12 with eta = 0: x0 predicted from the noise, then re-noised to prev
    x0_pred = (x_t - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
    expected = np.sqrt(a_prev) * x0_pred + np.sqrt(1 - a_prev) * eps
    np.testing.assert_allclose(x0_pred, x0[0], atol=1e-4)
    np.testing.assert_allclose(got, expected, atol=2e-4)
    np.testing.assert_allclose(got, np.sqrt(a_prev) * x0[0] + np.sqrt(1 - a_prev) * eps, atol=2e-4)
    # the step moved the sample towards x0 (less noise than before)
    assert np.abs(got - np.sqrt(a_prev) * x0[0]).mean() <= np.abs(x_t - np.sqrt(a_t) * x0[0]).mean()


def test_ddim_step_writes_only_the_core_of_independent_patches(tmp_path):
    rng = np.random.default_rng(1)
    core, h, w = 4, 8, 8
    x0 = rng.uniform(-1, 1, (1, 1, 1, h, w)).astype(np.float32)
    sched = _scheduler()
    timesteps = [int(t) for t in sched.timesteps]
    t, prev = timesteps[2], timesteps[2] - T // N_STEPS
    a_t, a_prev = float(sched.alphas_cumprod[t]), float(sched.alphas_cumprod[prev])
    eps = rng.standard_normal(x0.shape[1:]).astype(np.float32)
    x_t = np.sqrt(a_t) * x0[0] + np.sqrt(1 - a_t) * eps
    layout = _Layout("independent", h, w, core, core, 0)
    src, dst = str(tmp_path / "src.zarr"), str(tmp_path / "dst.zarr")
    zarr.open_array(src, mode="w", shape=x_t.shape, dtype="float32")[:] = x_t
    zarr.open_array(dst, mode="w", shape=x_t.shape, dtype="float32", fill_value=np.nan)
    model = _TrueNoiseModel(x0[..., :core, core:])  # patch (0, 1): rows 0..4, columns 4..8
    _step_batch(model, _genes(), layout, src, dst, 2, timesteps, [(0, 1)])
    got = np.asarray(zarr.open_array(dst, mode="r"))
    expected = np.sqrt(a_prev) * x0[0] + np.sqrt(1 - a_prev) * eps
    np.testing.assert_allclose(got[..., :core, core:], expected[..., :core, core:], atol=2e-4)
    assert np.isnan(got[..., core:, :]).all() and np.isnan(got[..., :core, :core]).all()


def test_the_model_schedulers_follow_the_scaled_linear_schedule():
    from crossscale.models.volume import VolumeDiffusion

    model = VolumeDiffusion(num_train_timesteps=200, num_inference_steps=8, clip_sample=False)
    # DDPM (Ho et al. 2020) with Stable Diffusion's "scaled linear" betas: sqrt-linear in t
    betas = np.linspace(1e-4**0.5, 0.02**0.5, 200) ** 2  # MONAI's defaults, 1e-4 to 0.02
    abar = np.cumprod(1 - betas)
    ddpm = model.scheduler("ddpm")
    assert type(ddpm).__name__ == "DDPMScheduler" and type(model.scheduler()).__name__ == "DDIMScheduler"
    assert ddpm.num_train_timesteps == 200 and ddpm.clip_sample is False
    np.testing.assert_allclose(ddpm.alphas_cumprod.numpy(), abar, rtol=1e-5)
    ddim = model.scheduler("ddim")
    assert ddim.num_train_timesteps == 200 and ddim.num_inference_steps == 8
    np.testing.assert_allclose(ddim.alphas_cumprod.numpy(), abar, rtol=1e-5)
    ts = np.asarray(ddim.timesteps)
    assert len(ts) == 8 and (np.diff(ts) < 0).all() and ts.max() < 200  # from noisy to clean
    assert not ddim.clip_sample
    assert VolumeDiffusion(num_inference_steps=5, clip_sample=True).scheduler().clip_sample
    assert len(VolumeDiffusion(num_inference_steps=5).scheduler("ddim").timesteps) == 5


@pytest.mark.parametrize("scheme", ["independent", "boundary", "overlap"])
def test_ddim_step_of_an_inner_patch_in_each_scheme(tmp_path, scheme):
    rng = np.random.default_rng(5)
    h, w, core, halo = 12, 16, 4, 2
    win = core if scheme == "independent" else core + 2 * halo
    x0 = rng.uniform(-1, 1, (2, 1, h, w)).astype(np.float32)  # (stains, planes, H, W)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    sched = _scheduler()
    timesteps = [int(t) for t in sched.timesteps]
    t, prev = timesteps[3], timesteps[3] - T // N_STEPS
    a_t, a_prev = float(sched.alphas_cumprod[t]), float(sched.alphas_cumprod[prev])
    x_t = np.sqrt(a_t) * x0 + np.sqrt(1 - a_t) * eps
    expected = np.sqrt(a_prev) * x0 + np.sqrt(1 - a_prev) * eps
    layout = _Layout(scheme, h, w, core, win, 0 if scheme == "independent" else halo)
    i, j = 1, 2  # an inner patch: its window is clamped for neither the first nor the last
    y0, x0w = layout.window(i, j)
    src, dst = str(tmp_path / "src.zarr"), str(tmp_path / "dst.zarr")
    if scheme == "overlap":  # one window per patch
        ny, nx = layout.grid
        shape = (ny, nx, 2, 1, win, win)
        a = zarr.open_array(src, mode="w", shape=shape, dtype="float32", fill_value=np.nan)
        a[i, j] = x_t[..., y0 : y0 + win, x0w : x0w + win]
    else:
        shape = x_t.shape
        zarr.open_array(src, mode="w", shape=shape, dtype="float32")[:] = x_t
    zarr.open_array(dst, mode="w", shape=shape, dtype="float32", fill_value=np.nan)
    model = _TrueNoiseModel(x0[None, ..., y0 : y0 + win, x0w : x0w + win])
    _step_batch(model, _genes(), layout, src, dst, 3, timesteps, [(i, j)])
    got = np.asarray(zarr.open_array(dst, mode="r"))
    if scheme == "overlap":
        np.testing.assert_allclose(got[i, j], expected[..., y0 : y0 + win, x0w : x0w + win], atol=2e-4)
        got[i, j] = np.nan
        assert np.isnan(got).all()  # no other patch written
        return
    rows, cols = slice(i * core, (i + 1) * core), slice(j * core, (j + 1) * core)
    np.testing.assert_allclose(got[..., rows, cols], expected[..., rows, cols], atol=2e-4)
    got[..., rows, cols] = np.nan
    assert np.isnan(got).all()  # only the patch's core is written


class _TrueNoiseModelEta(_TrueNoiseModel):
    """The true-noise model with a stochastic sampler (``params_["eta"]``)."""

    def __init__(self, x0: np.ndarray, eta: float):
        super().__init__(x0)
        self.params_ = {"window": x0.shape[-1], "eta": eta}


@pytest.mark.parametrize("k", [0, 5, N_STEPS - 1])
def test_stochastic_ddim_step_adds_the_posterior_noise_seeded_by_position(tmp_path, k):
    """eta = 1: x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - s^2) eps + s z (Song et al. 2021, eq. 16)."""
    from crossscale.models.volume.layout import position_noise

    rng = np.random.default_rng(10 + k)
    win, seed = 16, 7
    x0 = rng.uniform(-1, 1, (1, 2, 2, win, win)).astype(np.float32)
    eps = rng.standard_normal(x0.shape[1:]).astype(np.float32)
    sched = _scheduler()
    timesteps = [int(t) for t in sched.timesteps]
    t = timesteps[k]
    prev = t - T // N_STEPS
    a_t = float(sched.alphas_cumprod[t])
    a_prev = float(sched.alphas_cumprod[prev]) if prev >= 0 else float(sched.final_alpha_cumprod)
    s = np.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))  # DDPM posterior SD
    x_t = np.sqrt(a_t) * x0[0] + np.sqrt(1 - a_t) * eps
    layout = _Layout("overlap", win, win, win, win, 0)
    out = {}
    for eta in (0.0, 1.0):
        src, dst = str(tmp_path / f"src{eta}.zarr"), str(tmp_path / f"dst{eta}.zarr")
        for path, data in ((src, x_t), (dst, np.zeros_like(x_t))):
            zarr.open_array(path, mode="w", shape=(1, 1, *x_t.shape), dtype="float32")[0, 0] = data
        _step_batch(_TrueNoiseModelEta(x0, eta), _genes(), layout, src, dst, k, timesteps, [(0, 0)], seed=seed)
        out[eta] = np.asarray(zarr.open_array(dst, mode="r")[0, 0])
    z = position_noise(seed, 2, 2, slice(0, win), slice(0, win), step=k + 1)
    expected = np.sqrt(a_prev) * x0[0] + np.sqrt(max(1 - a_prev - s**2, 0.0)) * eps + s * z
    np.testing.assert_allclose(out[1.0], expected, atol=3e-4)
    np.testing.assert_allclose(out[0.0], np.sqrt(a_prev) * x0[0] + np.sqrt(1 - a_prev) * eps, atol=2e-4)
    if k == N_STEPS - 1:  # the last step lands on the clean image: no noise left to add
        assert s == 0.0
        np.testing.assert_allclose(out[1.0], out[0.0], atol=1e-5)
    else:
        assert s > 0.01 and np.abs(out[1.0] - out[0.0]).mean() > 0.005
        # the step noise is not the initial noise, nor another step's
        assert not np.allclose(z, position_noise(seed, 2, 2, slice(0, win), slice(0, win)))
        assert not np.allclose(z, position_noise(seed, 2, 2, slice(0, win), slice(0, win), step=k + 2))


@pytest.mark.parametrize("pred", ["epsilon", "sample", "v_prediction"])
def test_ddim_step_matches_monai_for_every_prediction_type(pred):
    from monai.networks.schedulers import DDIMScheduler

    from crossscale.models.volume.steps import ddim_step

    sched = DDIMScheduler(num_train_timesteps=T, schedule="scaled_linear_beta", clip_sample=False,
                          prediction_type=pred)  # fmt: skip
    sched.set_timesteps(N_STEPS)
    g = torch.Generator().manual_seed(0)
    x, out = torch.randn(2, 2, 1, 8, 8, generator=g), torch.randn(2, 2, 1, 8, 8, generator=g)
    t = 499
    want = sched.step(out, t, x, eta=0.7, generator=torch.Generator().manual_seed(3))[0]
    noise = torch.randn(out.shape, generator=torch.Generator().manual_seed(3))  # MONAI's draw
    np.testing.assert_allclose(ddim_step(sched, out, t, x, 0.7, noise).numpy(), want.numpy(), atol=1e-5)
    np.testing.assert_array_equal(ddim_step(sched, out, t, x).numpy(), sched.step(out, t, x)[0].numpy())


def test_stochastic_sampler_draws_noise_per_stain_and_plane(sample_factory, tmp_path):
    # 2 stains x 3 planes (the other tests have 2 x 2): the noise of a stochastic step has the
    # sample's (stain, plane) layout, seeded by position whatever the batching
    from crossscale.models.volume import VolumeDiffusion, generate

    sample = sample_factory(n_planes=3)
    model = VolumeDiffusion(channels=(4, 8), gene_dim=4, attn_dim=8, window=16, batch_size=4,
                            max_iter=2, num_inference_steps=2, eta=1.0, holdout_fraction=0.25,
                            device="cpu").fit(sample)  # fmt: skip
    a = generate(model, sample.genes, tmp_path / "a.ome.zarr", seed=1, batch_size=16).read()
    b = generate(model, sample.genes, tmp_path / "b.ome.zarr", seed=1, batch_size=3).read()
    assert a.shape[:2] == (2, 3)
    np.testing.assert_allclose(a, b, atol=1e-5)
