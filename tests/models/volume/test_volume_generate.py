import errno
import json
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("zarr")
pytest.importorskip("ome_zarr")

from crossscale import ModelStateError, ParameterError  # noqa: E402
from crossscale.models.volume import (  # noqa: E402
    GenerationStateError,
    StorageError,
    VolumeDiffusion,
    generate,
    position_noise,
    predict_canvas,
)


class Interrupt(Exception):
    pass


def test_position_noise_depends_only_on_position():
    big = position_noise(3, 2, 2, slice(0, 48), slice(0, 64))
    np.testing.assert_array_equal(position_noise(3, 2, 2, slice(5, 37), slice(20, 41)), big[:, :, 5:37, 20:41])
    assert not np.allclose(position_noise(4, 2, 2, slice(0, 48), slice(0, 64)), big)


@pytest.mark.slow
def test_resume_after_interrupt_equals_uninterrupted(tiny_model, tiny_sample, tmp_path):
    genes = tiny_sample.genes
    ref = generate(tiny_model, genes, tmp_path / "ref.ome.zarr", seed=7)
    assert ref.steps_run == 3 and not (tmp_path / "ref.ome.zarr.state").exists()

    def stop(step):
        if step == 2:
            raise Interrupt

    out = tmp_path / "run.ome.zarr"
    with pytest.raises(Interrupt):
        generate(tiny_model, genes, out, seed=7, on_step=stop)
    state = tmp_path / "run.ome.zarr.state"
    assert not out.exists() and (state / "step_0002.done").exists()
    # a crash in the middle of step 3 leaves a partial array without a marker: it is redone
    (state / "step_0003.zarr").mkdir()
    (state / "step_0003.zarr" / "zarr.json").write_text("{broken")
    # a resume with other parameters is refused
    with pytest.raises(GenerationStateError, match="seed: 7 -> 8"):
        generate(tiny_model, genes, out, seed=8)
    res = generate(tiny_model, genes, out, seed=7)
    assert res.steps_run == 1
    np.testing.assert_array_equal(res.read(), ref.read())
    meta = json.loads((out / "zarr.json").read_text())["attributes"]
    assert meta["ome"]["version"] == "0.5" and meta["crossscale"]["stains"] == ["dapi", "polyT"]
    # another seed gives another image
    other = generate(tiny_model, genes, tmp_path / "other.ome.zarr", seed=8)
    assert not np.allclose(other.read(), ref.read())


@pytest.mark.slow
def test_schemes_and_borders(tiny_model, tiny_sample, tmp_path):
    g = tiny_sample.genes
    for scheme in ("independent", "overlap"):
        res = generate(tiny_model, g, tmp_path / f"{scheme}.ome.zarr", scheme=scheme, seed=1)
        img = res.read()
        assert img.shape == (2, 2, 32, 48) and np.isfinite(img).all()
        assert res.borders["x"] and all(0 < b < 48 for b in res.borders["x"])
    assert generate(tiny_model, g, tmp_path / "b.ome.zarr").borders == {"y": [8, 16, 24], "x": [8, 16, 24, 32, 40]}
    with pytest.raises(ParameterError, match="scheme must be one of"):
        generate(tiny_model, g, tmp_path / "x.ome.zarr", scheme="collage")
    with pytest.raises(ParameterError, match="multiple of core"):
        generate(tiny_model, g.crop(slice(0, 15), slice(0, 24)), tmp_path / "y.ome.zarr")
    with pytest.raises(ParameterError, match="already exists"):
        generate(tiny_model, g, tmp_path / "b.ome.zarr")


@pytest.mark.slow
def test_dask_scheduler_gives_identical_bytes(tiny_model, tiny_sample, tmp_path):
    pytest.importorskip("distributed")
    a = generate(tiny_model, tiny_sample.genes, tmp_path / "a.ome.zarr", seed=2, batch_size=4)
    b = generate(tiny_model, tiny_sample.genes, tmp_path / "b.ome.zarr", seed=2, batch_size=4,
                 scheduler="local")
    np.testing.assert_array_equal(a.read(), b.read())


@pytest.mark.slow
def test_other_gene_panel_is_refused(tiny_model, tiny_sample, tmp_path):
    g = tiny_sample.genes
    other = g.select(["G0", "G1", "G2"])
    with pytest.raises(ModelStateError, match="lacks 2 of the 5 genes.*G3, G4"):
        generate(tiny_model, other, tmp_path / "o.ome.zarr")
    # a checkpoint keeps the panel and refuses too; it predicts the same numbers
    tiny_model.save(tmp_path / "model")
    loaded = VolumeDiffusion.load(tmp_path / "model", device="cpu")
    assert loaded.genes_ == tiny_model.genes_ and loaded.fingerprint() == tiny_model.fingerprint()
    np.testing.assert_array_equal(loaded.gene_scale_, tiny_model.gene_scale_)
    np.testing.assert_array_equal(loaded.stain_mean_, tiny_model.stain_mean_)
    a = generate(tiny_model, g, tmp_path / "a.ome.zarr", seed=3)
    b = generate(loaded, g, tmp_path / "b.ome.zarr", seed=3)
    np.testing.assert_array_equal(a.read(), b.read())
    with pytest.raises(ModelStateError, match="another gene panel"):
        loaded.check_genes(other.genes)


def test_full_disk_is_a_clear_error_and_leaves_no_output(tiny_model, tiny_sample, tmp_path, monkeypatch):
    import sys

    steps = sys.modules["crossscale.models.volume.steps"]  # where a step's patches are denoised

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(steps, "_step_batch", full)
    with pytest.raises(StorageError, match="disk is full.*resume"):
        generate(tiny_model, tiny_sample.genes, tmp_path / "f.ome.zarr")
    assert not (tmp_path / "f.ome.zarr").exists()
    assert (tmp_path / "f.ome.zarr.state" / "step_0000.done").exists()


@pytest.mark.slow
def test_memory_does_not_grow_with_canvas(tiny_sample, sample_factory, tmp_path, monkeypatch):
    import sys

    one_step = VolumeDiffusion(channels=(4, 8), gene_dim=4, attn_dim=8, window=16, batch_size=4,
                               max_iter=1, num_inference_steps=1, device="cpu").fit(tiny_sample)

    # collect zarr's cyclic garbage after every batch so that tiny canvases are comparable
    monkeypatch.setattr(sys.modules["crossscale.models.volume.generate"], "GC_EVERY", 1)
    generate(one_step, sample_factory(16, 16).genes, tmp_path / "warm.ome.zarr")  # imports
    peaks = []
    for k, (hg, wg) in enumerate([(16, 16), (32, 64)]):  # 8x the canvas
        genes = sample_factory(hg, wg, seed=1).genes
        tracemalloc.start()
        generate(one_step, genes, tmp_path / f"m{k}.ome.zarr", batch_size=4, chunk_px=16)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # one step of the large canvas is 2 x 2 x 64 x 128 float32 = 131 kB: never held whole
    state_bytes = 2 * 2 * 64 * 128 * 4
    assert peaks[1] < peaks[0] + 0.6 * state_bytes, peaks


def test_regression_canvas(tiny_sample):
    reg = VolumeDiffusion(objective="regression", channels=(4, 8), gene_dim=4, attn_dim=8,
                          window=16, batch_size=4, max_iter=2, device="cpu").fit(tiny_sample)
    out = predict_canvas(reg, tiny_sample.genes)
    assert out.shape == (2, 2, 32, 48) and np.isfinite(out).all()
    with pytest.raises(ParameterError, match="needs a diffusion model"):
        generate(reg, tiny_sample.genes, "unused.ome.zarr")


def test_stochastic_sampler_is_seeded_by_position_and_changes_the_sample(tiny_model, tiny_sample, tmp_path):
    import copy

    g = tiny_sample.genes
    det = generate(tiny_model, g, tmp_path / "det.ome.zarr", seed=2).read()
    sto = copy.deepcopy(tiny_model).set_sampler(eta=1.0)
    assert sto.params_["eta"] == 1.0 and tiny_model.params_["eta"] == 0.0
    a = generate(sto, g, tmp_path / "a.ome.zarr", seed=2, batch_size=16).read()
    b = generate(sto, g, tmp_path / "b.ome.zarr", seed=2, batch_size=3).read()  # another batching
    c = generate(sto, g, tmp_path / "c.ome.zarr", seed=5).read()
    np.testing.assert_allclose(a, b, atol=1e-5)  # noise depends on (seed, position, step) only
    assert np.abs(a - det).mean() > 1e-3 and np.abs(a - c).mean() > 1e-3
    with pytest.raises(ParameterError, match="eta must be in"):
        copy.deepcopy(tiny_model).set_sampler(eta=1.5)


def test_contrast_scales_the_deviation_from_the_training_mean_image(tiny_model, tiny_sample, tmp_path):
    import copy

    g = tiny_sample.genes
    full = generate(tiny_model, g, tmp_path / "full.ome.zarr", seed=4).read()
    half_model = copy.deepcopy(tiny_model).set_sampler(contrast=0.5)
    half = generate(half_model, g, tmp_path / "half.ome.zarr", seed=4).read()
    mu = tiny_model.stain_mean_[:, :, None, None]  # (n_stains, n_planes, 1, 1), intensities
    np.testing.assert_allclose(half, mu + 0.5 * (full - mu), atol=1e-5)
    with pytest.raises(ParameterError, match="contrast must be in"):
        copy.deepcopy(tiny_model).set_sampler(contrast=0.0)
