import numpy as np
import pytest

from crossscale import InputDataError
from crossscale.plotting import plot_null_distribution


def test_histogram_counts_and_observed_line():
    null = np.random.default_rng(1).normal(size=400)
    null[:3] = np.nan
    fig = plot_null_distribution(null, 2.5, label="out-of-sample r", p_value=0.004)
    (ax,) = fig.axes
    assert sum(p.get_height() for p in ax.patches) == 397
    (line,) = ax.get_lines()
    assert line.get_xdata()[0] == 2.5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "3 non-finite dropped" in legend[0]
    assert "p = 0.004" in legend[1]
    assert ax.get_xlabel() == "out-of-sample r"
    lo, hi = ax.get_xlim()
    assert lo < null[3:].min() and hi > 2.5  # the observed value is inside the axes


def test_draws_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    axes = fig.subplots(1, 2)
    out = plot_null_distribution(np.arange(10.0), 3.0, label="r", ax=axes[1])
    assert out is fig and len(axes[1].patches) > 0 and len(axes[0].patches) == 0


def test_bad_inputs():
    with pytest.raises(InputDataError, match="no finite values"):
        plot_null_distribution(np.full(5, np.nan), 1.0, label="r")
    with pytest.raises(InputDataError, match="finite"):
        plot_null_distribution(np.arange(5.0), np.inf, label="r")
