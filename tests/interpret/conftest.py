import pytest

#: Small GraphVAE settings that keep this folder's tests fast (one network, as the thresholds were measured).
FAST = dict(max_epochs=30, min_epochs=10, patience=10, n_hidden=16, n_ensemble=1)


@pytest.fixture(scope="session")
def fast_params():
    return dict(FAST)
