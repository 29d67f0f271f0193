"""The 20-region synthetic fixture has the structure the model tests rely on."""

import numpy as np
from synthetic_data import make_synthetic


def test_synthetic_set_has_the_documented_structure(synthetic):
    s = synthetic
    assert s.X.shape == (20, 40) and s.n_regions == 20 and s.graph.n_regions == 20
    assert list(s.X.index) == list(s.y.index) == list(s.graph.regions)
    assert s.graph.n_edges == 20 and s.graph.n_components() == 2  # a ring per hemisphere
    # each program's genes follow it; the noise genes follow none
    r = np.corrcoef(s.latent.T.to_numpy(), s.X.T.to_numpy())[:3, 3:]
    for k in range(3):
        assert np.abs(r[k, 10 * k : 10 * (k + 1)]).min() > 0.8
    assert np.abs(r[:, 30:]).max() < 0.8
    # the map is 1.5 z0 - z1: programs 0 and 1, not 2
    beta = np.linalg.lstsq(s.latent.to_numpy(), s.y - s.y.mean(), rcond=None)[0]
    np.testing.assert_allclose(beta, [1.5, -1.0, 0.0], atol=0.05)
    # programs are smooth on the graph: neighbours differ far less than random pairs
    e = s.graph.edges
    z = s.latent["z0"].to_numpy()
    assert np.mean((z[e[:, 0]] - z[e[:, 1]]) ** 2) < 0.5 * 2 * z.var()


def test_seeds_redraw_the_noise_only():
    a, b = make_synthetic(0), make_synthetic(1)
    np.testing.assert_array_equal(a.latent, b.latent)
    assert not np.allclose(a.X, b.X)
