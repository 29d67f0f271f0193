"""A damaged generation state is never resumed silently (issue 24).

The marker of each finished step lists the sha256 of every chunk file of that step. Before, a
resume whose state had lost chunk files read them as zeros (the fill value) and finished with
exit 0 and an output that differed around the missing chunks.
"""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("zarr")

from crossscale import ParameterError  # noqa: E402
from crossscale.models.volume import GenerationStateError, generate  # noqa: E402
from crossscale.models.volume.state import check_step  # noqa: E402


class Interrupt(Exception):
    pass


def _stop_at(n):
    def stop(step):
        if step == n:
            raise Interrupt

    return stop


def _chunks(step_dir):
    return sorted(p for p in (step_dir / "c").rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def reference(tiny_model, tiny_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.ome.zarr"
    return generate(tiny_model, tiny_sample.genes, out, seed=7).read()


def _interrupted(tiny_model, tiny_sample, tmp_path, at):
    out = tmp_path / "run.ome.zarr"
    with pytest.raises(Interrupt):
        generate(tiny_model, tiny_sample.genes, out, seed=7, on_step=_stop_at(at))
    return out, tmp_path / "run.ome.zarr.state"


def test_markers_list_every_chunk_with_its_sha256(tiny_model, tiny_sample, tmp_path):
    import hashlib

    _, state = _interrupted(tiny_model, tiny_sample, tmp_path, 2)
    marker = json.loads((state / "step_0002.done").read_text())
    assert marker["manifest"] == "step_0002.sha256"
    lines = (state / "step_0002.sha256").read_text().splitlines()  # sha256sum -c format
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    step = state / "step_0002.zarr"
    chunks = _chunks(step)
    assert len(chunks) >= 2 and "zarr.json" in listed and marker["n_files"] == len(lines)
    for c in chunks:
        assert listed[c.relative_to(step).as_posix()] == hashlib.sha256(c.read_bytes()).hexdigest()
    assert check_step(state, 2) == []


def test_missing_chunks_are_refused_then_overwrite_starts_again(tiny_model, tiny_sample, tmp_path,
                                                                reference):  # fmt: skip
    out, state = _interrupted(tiny_model, tiny_sample, tmp_path, 2)
    lost = _chunks(state / "step_0002.zarr")[:2]
    for p in lost:
        p.unlink()
    with pytest.raises(GenerationStateError, match=r"is damaged: step 2 has 2 chunk file\(s\) missing .*--overwrite"):
        generate(tiny_model, tiny_sample.genes, out, seed=7)
    assert not out.exists() and not lost[0].exists()  # nothing written, the state left as it was
    res = generate(tiny_model, tiny_sample.genes, out, seed=7, overwrite=True)
    assert res.steps_run == 3  # from the start
    np.testing.assert_array_equal(res.read(), reference)


def test_a_changed_chunk_is_refused(tiny_model, tiny_sample, tmp_path):
    out, state = _interrupted(tiny_model, tiny_sample, tmp_path, 2)
    chunk = _chunks(state / "step_0002.zarr")[0]
    raw = bytearray(chunk.read_bytes())
    raw[-1] ^= 0xFF
    chunk.write_bytes(bytes(raw))
    with pytest.raises(GenerationStateError, match=r"1 chunk file\(s\) changed"):
        generate(tiny_model, tiny_sample.genes, out, seed=7)


def test_a_damaged_initial_noise_is_recomputed(tiny_model, tiny_sample, tmp_path, reference,
                                               monkeypatch):  # fmt: skip
    """Step 0 is the seeded noise: a damaged one is simply written again."""
    from crossscale.models.volume import steps

    def crash(*a, **k):
        raise Interrupt

    out, state = tmp_path / "run.ome.zarr", tmp_path / "run.ome.zarr.state"
    with monkeypatch.context() as m:
        m.setattr(steps._Runner, "run", crash)  # stops during step 1: step 0 is the last done
        with pytest.raises(Interrupt):
            generate(tiny_model, tiny_sample.genes, out, seed=7)
    assert (state / "step_0000.done").exists() and not (state / "step_0001.done").exists()
    _chunks(state / "step_0000.zarr")[0].unlink()
    assert check_step(state, 0)
    res = generate(tiny_model, tiny_sample.genes, out, seed=7)
    assert res.steps_run == 3
    np.testing.assert_array_equal(res.read(), reference)


def test_generate_checks_its_numbers_before_any_state(tiny_model, tiny_sample, tmp_path):
    out = tmp_path / "x.ome.zarr"
    for kw, match in [({"seed": -1}, "seed must be an integer seed"),
                      ({"batch_size": 0}, "batch_size must be an integer >= 1"),
                      ({"chunk_px": 0}, "chunk_px must be an integer >= 1")]:  # fmt: skip
        with pytest.raises(ParameterError, match=match):
            generate(tiny_model, tiny_sample.genes, out, **kw)
    assert list(tmp_path.iterdir()) == []
