"""Program measures: active units, participation ratio, duplicates, Hungarian-matched stability."""

import numpy as np
import pandas as pd
import pytest

from crossscale._errors import InputDataError, ParameterError
from crossscale.evaluate.program_measures import (
    active_units,
    distinct_programs,
    matched_correlations,
    participation_ratio,
    program_stability,
)
from crossscale.evaluate.programs import summarize_programs


def _with_duplicates(synthetic, seed=0):
    """The fixture's 3 known programs plus 2 duplicates of z0 and z1, one dead unit."""
    rng = np.random.default_rng(seed)
    Z = synthetic.latent.copy()
    n = len(Z)
    Z["z3"] = -0.8 * Z["z0"] + 0.1 * rng.normal(size=n)  # duplicate of z0 (|r| ~ 0.99), smaller
    Z["z4"] = 0.5 * Z["z1"] + 0.05 * rng.normal(size=n)  # duplicate of z1
    Z["z5"] = 0.001 * rng.normal(size=n)  # inactive: the posterior mean does not vary
    return Z


def test_duplicates_detected_on_constructed_case(synthetic):
    Z = _with_duplicates(synthetic)
    kept, merged = distinct_programs(Z)
    assert sorted(kept) == ["z0", "z1", "z2"]
    assert merged == {"z3": "z0", "z4": "z1"}
    s = summarize_programs(Z)
    assert s.n_distinct == 3 and s.n_active == 5 and s.n_latent == 6
    assert s.max_abs_r_all > 0.95 and s.max_abs_r < 0.5
    assert list(s.table.index) == kept
    assert s.table.loc["z0", "merged"] == "z3"
    assert s.warning is None


def test_one_program_warns():
    rng = np.random.default_rng(1)
    base = rng.normal(size=30)
    Z = pd.DataFrame({f"z{i}": (i + 1) * base + 0.01 * rng.normal(size=30) for i in range(4)})
    s = summarize_programs(Z)
    assert s.n_distinct == 1 and s.distinct == ["z3"]  # the largest-variance copy is kept
    assert s.warning is not None and "one program" in s.warning
    assert participation_ratio(Z) == pytest.approx(1.0, abs=0.01)


def test_participation_ratio_counts_independent_directions():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(200, 4))
    Q, _ = np.linalg.qr(A - A.mean(0))  # centred orthonormal columns: equal, uncorrelated variances
    assert participation_ratio(Q * np.sqrt(200)) == pytest.approx(4.0, abs=1e-6)
    assert participation_ratio(Q * [1, 1, 0, 0]) == pytest.approx(2.0, abs=1e-6)


def test_active_units_threshold():
    Z = pd.DataFrame({"a": np.r_[0.0, 0.3, -0.3, 0.0], "b": np.r_[0.0, 0.05, -0.05, 0.0]})
    assert active_units(Z).tolist() == [True, False]


def test_stability_recovers_known_programs(synthetic):
    """Refits that find the known programs in another order, sign and scale: matched |r| ~ 1."""
    rng = np.random.default_rng(3)
    truth = synthetic.latent
    n = len(truth)
    refits = []
    for _ in range(5):
        perm = rng.permutation(3)
        sign = rng.choice([-1, 1], 3)
        R = truth.to_numpy()[:, perm] * sign * rng.uniform(0.5, 2, 3) + 0.1 * rng.normal(size=(n, 3))
        extra = rng.normal(size=(n, 2))  # refits may have more units than the reference
        refits.append(pd.DataFrame(np.c_[R, extra]))
    stab = program_stability(truth, refits)
    assert (stab > 0.9).all()
    # programs of refits that are noise are not matched well
    noise = [pd.DataFrame(rng.normal(size=(n, 5))) for _ in range(5)]
    assert program_stability(truth, noise).median() < 0.6
    # the Hungarian assignment is one-to-one: a refit holding only copies of z0 matches one program
    copies = pd.DataFrame(np.c_[truth["z0"], truth["z0"] * 2, -truth["z0"]])
    m = matched_correlations(truth, copies)
    assert np.isclose(m, 1.0).sum() == 1 and m.max() == pytest.approx(1.0)
    s = summarize_programs(truth, seed_refits=refits, bootstrap_refits=noise, graph=synthetic.graph)
    assert s.seed_stability > 0.9 and s.bootstrap_stability < 0.6
    # the smooth ring programs have positive Moran's I on the ring graph
    assert (s.table.loc[["z0", "z1"], "morans_i"] > 0.5).all()


def test_errors():
    with pytest.raises(ParameterError, match="threshold must be in"):
        distinct_programs(pd.DataFrame(np.eye(4)), threshold=0)
    with pytest.raises(InputDataError, match="NaN"):
        summarize_programs(pd.DataFrame([[np.nan, 1.0], [1.0, 2.0], [3.0, 1.0]]))
    with pytest.raises(InputDataError, match="same regions"):
        matched_correlations(np.ones((5, 2)), np.ones((4, 2)))
