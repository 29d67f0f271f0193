"""Checkpoints record the atlas they were fitted on and refuse another one."""

import json

import numpy as np
import pytest

from crossscale import ModelStateError
from crossscale.atlas import RegionGraph, get_atlas
from crossscale.maps import load_bigbrain_map
from crossscale.models.graphvae import GraphVAE
from crossscale.transcriptomics import load_expression


@pytest.fixture(scope="module")
def saved_schaefer_model(tmp_path_factory):
    X, _ = load_expression("schaefer100")
    y = load_bigbrain_map("schaefer100").loc[X.index]
    graph = RegionGraph.from_surface(X.index, atlas="schaefer100")
    model = GraphVAE(max_epochs=3, min_epochs=1, n_latent=2, random_state=0, device="cpu")
    model.fit(X, y, graph)
    path = tmp_path_factory.mktemp("ckpt") / "model"
    model.save(path)
    return path, model, X


def test_checkpoint_records_the_atlas(saved_schaefer_model):
    path, _, _ = saved_schaefer_model
    config = json.loads((path / "config.json").read_text())
    assert config["atlas"]["name"] == "schaefer100"
    assert config["atlas"]["hash"] == get_atlas("schaefer100").hash()


def test_checkpoint_refused_on_another_atlas(saved_schaefer_model):
    path, model, X = saved_schaefer_model
    with pytest.raises(ModelStateError, match="fitted on the 'schaefer100' atlas .* not on 'dk'"):
        GraphVAE.load(path, atlas="dk")
    # a graph of another atlas (Schaefer-200 shares many parcel names with Schaefer-100)
    other = RegionGraph.from_surface(atlas="schaefer200")
    with pytest.raises(ModelStateError, match="not on 'schaefer200'"):
        GraphVAE.load(path, graph=other)
    loaded = GraphVAE.load(path, atlas="schaefer100")
    assert loaded.graph_.atlas is get_atlas("schaefer100")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
    # without atlas= the built-in atlas of the checkpoint is attached
    assert GraphVAE.load(path).graph_.atlas.name == "schaefer100"


def test_checkpoint_without_atlas_key_is_a_dk_model(saved_schaefer_model, tmp_path):
    from crossscale.train.checkpoint import check_checkpoint_atlas

    path = tmp_path / "old"
    check_checkpoint_atlas({}, "dk", path=path)  # written before atlases: DK, accepted
    with pytest.raises(ModelStateError, match="fitted on the 'dk' atlas"):
        check_checkpoint_atlas({}, "glasser360", path=path)
