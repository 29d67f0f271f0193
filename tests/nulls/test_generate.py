import numpy as np
import pandas as pd
import pytest

from crossscale._errors import InputDataError, ParameterError
from crossscale.nulls import NULL_METHODS, generate_nulls, spin_permutations


@pytest.mark.parametrize("method", NULL_METHODS)
def test_every_method_gives_null_maps(ad_map, method):
    n_perm = 6 if method in ("alexander_bloch", "vertex") else 50
    nulls = generate_nulls(ad_map, method, n_perm=n_perm, random_state=0)
    assert nulls.shape == (68, n_perm) and nulls.dtype == float
    assert np.isfinite(nulls).all()
    np.testing.assert_array_equal(
        nulls, generate_nulls(ad_map, method, n_perm=n_perm, random_state=0)
    )
    x = ad_map.to_numpy()
    if method in ("hungarian", "vasa"):  # permutations within hemisphere keep each half's values
        for half in (slice(0, 34), slice(34, 68)):
            np.testing.assert_allclose(
                np.sort(nulls[half], axis=0), np.sort(x[half])[:, None].repeat(n_perm, 1)
            )
    if method == "alexander_bloch":  # majority-label spins: every null value is a region's value
        assert np.isin(nulls, x).all()
    if method == "vertex":  # vertex-weighted averages of the map's values, within their range
        assert (nulls >= x.min() - 1e-12).all() and (nulls <= x.max() + 1e-12).all()
        assert not np.isin(nulls, x).all()
    if method in ("moran", "moran_pair"):  # Moran surrogates keep the mean and the SD exactly
        np.testing.assert_allclose(nulls.mean(axis=0), x.mean())
        np.testing.assert_allclose(nulls.std(axis=0), x.std())


def test_rows_follow_the_order_and_names_of_the_input(ad_map):
    shuffled = ad_map.sample(frac=1.0, random_state=0)
    shuffled.index = ["ctx-lh-" + r[2:] if r.startswith("L_") else r for r in shuffled.index]
    nulls = generate_nulls(shuffled, "hungarian", n_perm=20, random_state=1)
    perm = spin_permutations(
        pd.Index(shuffled.index.str.replace("ctx-lh-", "L_")), n_perm=20, random_state=1
    )
    np.testing.assert_array_equal(nulls, shuffled.to_numpy()[perm])


def test_generator_seed(ad_map):
    a = generate_nulls(ad_map, "vasa", n_perm=10, random_state=np.random.default_rng(3))
    b = generate_nulls(ad_map, "vasa", n_perm=10, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_errors(ad_map):
    with pytest.raises(ParameterError, match="method must be one of"):
        generate_nulls(ad_map, "brainsmash")
    with pytest.raises(ParameterError, match="n_perm must be a positive integer"):
        generate_nulls(ad_map, n_perm=-3)
    with pytest.raises(InputDataError, match="pandas Series"):
        generate_nulls(ad_map.to_numpy())
    with pytest.raises(InputDataError, match="constant"):
        generate_nulls(pd.Series(0.0, index=ad_map.index))
