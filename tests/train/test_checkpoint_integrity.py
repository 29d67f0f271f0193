"""Checkpoints read back whole and unedited: safetensors header and length, config sha256 (issue 24)."""

import json

import numpy as np
import pytest

from crossscale import ModelStateError
from crossscale.train.checkpoint import INTEGRITY_KEY, load_checkpoint, save_checkpoint

CONFIG = {"model": "Toy", "genes": ["GFAP", "SNAP25", "PVALB"], "regions": ["L_a", "L_b"],
          "parameters": {"n_latent": 4}}  # fmt: skip


@pytest.fixture
def ckpt(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "model"
    save_checkpoint(path, {"w": rng.standard_normal((3, 4)).astype(np.float32),
                           "b": np.arange(4, dtype=np.float32)}, CONFIG)  # fmt: skip
    return path


def test_roundtrip_with_checksums(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    assert set(cfg[INTEGRITY_KEY]) == {"config_sha256", "safetensors_sha256", "safetensors_bytes"}
    tensors, config = load_checkpoint(ckpt, "Toy")
    assert config == CONFIG  # the checksums are not part of what the model sees
    assert tensors["w"].shape == (3, 4)
    rng = np.random.default_rng(0)  # the fixture's arrays, bit for bit
    np.testing.assert_array_equal(tensors["w"], rng.standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(tensors["b"], np.arange(4, dtype=np.float32))


def test_a_reordered_gene_list_is_refused(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["genes"] = ["SNAP25", "GFAP", "PVALB"]  # same genes, other order: wrong inputs
    (ckpt / "config.json").write_text(json.dumps(cfg, indent=2))
    with pytest.raises(ModelStateError, match=r"config.json' was edited after the model was saved.*reordered gene list"):
        load_checkpoint(ckpt, "Toy")


def test_an_edited_parameter_is_refused(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["parameters"]["n_latent"] = 5
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelStateError, match="was edited after the model was saved"):
        load_checkpoint(ckpt)


def test_reformatting_config_json_is_not_an_edit(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    (ckpt / "config.json").write_text(json.dumps(cfg, indent=8, sort_keys=True))
    load_checkpoint(ckpt, "Toy")


@pytest.mark.parametrize("keep", [0, 5, 30, -4])
def test_a_truncated_safetensors_file_is_refused(ckpt, keep):
    path = ckpt / "model.safetensors"
    raw = path.read_bytes()
    path.write_bytes(raw[:keep] if keep >= 0 else raw[:keep])
    with pytest.raises(ModelStateError, match=r"model.safetensors' is damaged: .*Copy the checkpoint again"):
        load_checkpoint(ckpt, "Toy")


def test_extra_bytes_and_swapped_weights_are_refused(ckpt, tmp_path):
    path = ckpt / "model.safetensors"
    raw = path.read_bytes()
    path.write_bytes(raw + b"\0\0\0\0")
    with pytest.raises(ModelStateError, match="extra bytes at the end"):
        load_checkpoint(ckpt)
    # same size, other numbers: the sha256 differs
    path.write_bytes(raw[:-4] + bytes(4))
    with pytest.raises(ModelStateError, match="is not the file saved with this config.json"):
        load_checkpoint(ckpt)


def test_old_checkpoints_without_checksums_still_load(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    del cfg[INTEGRITY_KEY]
    (ckpt / "config.json").write_text(json.dumps(cfg))
    _, config = load_checkpoint(ckpt, "Toy")
    assert config["genes"] == CONFIG["genes"]


def test_a_config_that_is_not_json_is_a_clear_error(ckpt):
    (ckpt / "config.json").write_text("{genes: [")
    with pytest.raises(ModelStateError, match="is not valid JSON"):
        load_checkpoint(ckpt)
