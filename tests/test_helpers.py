"""The one helper of each kind (seed, device, permutation p-value, Benjamini-Hochberg, markdown
table), checked on hand-computed cases, and that every former copy now uses it."""

import numpy as np
import pandas as pd
import pytest

from crossscale import ParameterError
from crossscale._device import resolve_device
from crossscale._format import markdown_table
from crossscale._stats import fdr_bh, p_value_upper
from crossscale._validate import resolve_seed


def test_resolve_seed_takes_ints_and_draws_from_generators():
    assert resolve_seed(5) == 5 and resolve_seed(np.int64(7)) == 7 and resolve_seed(0) == 0
    assert resolve_seed(2**32 - 1) == 2**32 - 1
    expected = int(np.random.default_rng(3).integers(0, 2**31 - 1))
    assert resolve_seed(np.random.default_rng(3)) == expected
    drawn = resolve_seed(None)
    assert isinstance(drawn, int) and 0 <= drawn < 2**31 - 1


@pytest.mark.parametrize("bad", [True, False, np.bool_(True), -1, 2**32, 1.0, "3"])
def test_resolve_seed_refuses_bools_floats_and_out_of_range(bad):
    with pytest.raises(ParameterError, match=r"random_state must be an integer seed from 0 to 4294967295"):
        resolve_seed(bad)


def test_every_seed_path_uses_the_one_helper(synthetic):
    from crossscale.evaluate.nullrefit import null_distribution
    from crossscale.models.baselines import PLSBaseline
    from crossscale.models.graphvae._params import _seed
    from crossscale.models.spread._common import resolve_seed as spread_seed

    for f in (_seed, spread_seed):
        assert f(11) == 11
        assert f(np.random.default_rng(3)) == resolve_seed(np.random.default_rng(3))
        with pytest.raises(ParameterError, match="integer seed"):
            f(True)  # a bool was a seed of 1 for two of them before
    with pytest.raises(ParameterError, match="integer seed"):  # the null refits' seed
        null_distribution(PLSBaseline(1), synthetic.X, synthetic.y, synthetic.graph, "spin",
                          n_perm=3, random_state=True)  # fmt: skip


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == "cpu" and resolve_device(" CPU ") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ParameterError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="asks for a GPU"):
            resolve_device("cuda")
        from crossscale.models.volume.fitted import _resolve_device  # checks too now

        with pytest.raises(ParameterError, match="asks for a GPU"):
            _resolve_device("cuda")


def test_p_value_upper_hand_cases():
    null = [1.0, 2.0, 3.0, 4.0]
    assert p_value_upper(null, 3.0) == pytest.approx((1 + 2) / 5)  # 3 and 4 reach 3
    assert p_value_upper(null, 10.0) == pytest.approx(1 / 5)  # never zero
    assert p_value_upper(null, 0.0) == 1.0
    assert p_value_upper([1.0, np.nan, 3.0], 3.0) == pytest.approx(2 / 3)  # NaN dropped
    assert p_value_upper([1.0, np.nan, 3.0], 3.0, nonfinite="count") == pytest.approx(2 / 4)
    assert p_value_upper([0.3 - 1e-13], 0.3) == 0.5  # just below: not a tie ...
    assert p_value_upper([0.3 - 1e-13], 0.3, atol=1e-12) == 1.0  # ... unless within atol
    assert np.isnan(p_value_upper(null, np.nan)) and np.isnan(p_value_upper([np.nan], 1.0))
    with pytest.raises(ParameterError, match="nonfinite must be 'drop' or 'count'"):
        p_value_upper(null, 3.0, nonfinite="COUNT")  # not silently read as "count"


def test_former_inline_p_values_use_the_helper():
    from crossscale.nulls.compare import permutation_p_value

    # two-sided: |null| >= |statistic|; NaN (constant null maps) counted, never exceeding
    assert permutation_p_value(-0.5, np.array([0.1, -0.6, 0.5, np.nan])) == pytest.approx(3 / 5)


def test_fdr_bh_hand_case():
    p = [0.01, 0.04, 0.03, 0.2, np.nan]
    # sorted 0.01, 0.03, 0.04, 0.2 -> x 4/rank: 0.04, 0.06, 0.0533, 0.2 -> running min from the top
    expected = [0.04, 0.16 / 3, 0.16 / 3, 0.2, np.nan]
    np.testing.assert_allclose(fdr_bh(p), expected, rtol=1e-12)
    assert fdr_bh([0.9, 0.95]).tolist() == [0.95, 0.95] and np.isnan(fdr_bh([np.nan])).all()
    # a missing p-value given as None (an object column of a table) is left out like NaN
    missing = pd.Series([0.01, None, 0.04], dtype=object)
    np.testing.assert_allclose(fdr_bh(missing), [0.02, np.nan, 0.04], rtol=1e-12)
    from crossscale.interpret import fdr_bh as interpret_fdr

    assert interpret_fdr is fdr_bh  # one implementation


def test_markdown_table_hand_case():
    t = pd.DataFrame({"model": ["A", "B"], "r2": [0.12345, np.nan], "n": [3, 4],
                      "p_spin": [0.012345, 1.0], "fit_s": [1.26, 20.0]})  # fmt: skip
    assert markdown_table(t) == (
        "| model | r2 | n | p_spin | fit_s |\n|---|---|---|---|---|\n"
        "| A | 0.123 | 3 | 0.0123 | 1.26 |\n| B |  | 4 | 1 | 20 |"
    )
    got = markdown_table(t, formats={"p_spin": "{:.3g}", "fit_s": "{:.1f}", "n": "{:.3f}"}, na="–")
    assert got.splitlines()[2:] == ["| A | 0.123 | 3.000 | 0.0123 | 1.3 |", "| B | – | 4.000 | 1 | 20.0 |"]
    from crossscale.evaluate.spread_metrics import markdown_table as spread_table
    from crossscale.report.benchmark import markdown_table as benchmark_table

    assert spread_table(t, 2).splitlines()[2] == "| A | 0.12 | 3 | 0.012 | 1.3 |"
    assert benchmark_table(t).splitlines()[2:] == [
        "| A | 0.123 | 3.000 | 0.0123 | 1.3 |", "| B | – | 4.000 | 1 | 20.0 |"]
