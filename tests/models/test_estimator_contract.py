"""Every registered estimator follows the scikit-learn contract (clone, get/set_params)."""

import pytest
from sklearn.base import clone

from crossscale.models import registry
from crossscale.models.baselines import default_baselines


def _estimators():
    for name in registry.available():
        entry = registry.get(name)
        for preset in entry.presets:
            yield f"{name}:{preset}", entry.create(preset)
    for name, est in default_baselines().items():
        yield name, est


@pytest.mark.parametrize(("name", "est"), list(_estimators()), ids=lambda v: v if isinstance(v, str) else "")
def test_clone_and_params_round_trip(name, est):
    params = est.get_params()
    twin = clone(est)
    assert type(twin) is type(est) and twin is not est
    assert twin.get_params() == params
    assert est.set_params(**params) is est and est.get_params() == params
    # __init__ stores parameters only: a constructor call with the parameters is the same
    assert type(est)(**params).get_params() == params


def test_graphvae_is_registered_and_lazy():
    entry = registry.get("GraphVAE")  # case-insensitive
    assert entry.name == registry.DEFAULT_MODEL == "graphvae" and entry.label == "GraphVAE"
    assert set(entry.presets) == {"default", "reference"} and entry.interpretable
    ref = entry.create("reference", random_state=1)
    assert ref.encoder == "gcn" and ref.early_stopping and ref.random_state == 1
