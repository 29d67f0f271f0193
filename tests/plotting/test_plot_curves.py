import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from crossscale import InputDataError
from crossscale.plotting import plot_observed_vs_predicted, plot_training_curves


@pytest.fixture
def history():
    epoch = np.arange(60)
    return pd.DataFrame(
        {
            "epoch": epoch,
            "train_loss": 2 * np.exp(-epoch / 10) + 0.1,
            "val_loss": 2 * np.exp(-epoch / 12) + 0.2 + 0.004 * epoch,
            "train_kl": np.linspace(1, 0.5, 60),
            "val_kl": np.linspace(1.2, 0.6, 60),
            "lr": np.full(60, 1e-3),
        }
    )


def test_training_curves_panels_and_best_epoch(history):
    fig = plot_training_curves(history, title="GraphVAE")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "kl", "lr"]
    loss_ax = visible[0]
    labels = [line.get_label() for line in loss_ax.get_lines()]
    best = int(history["epoch"][history["val_loss"].idxmin()])
    assert labels[:2] == ["train_loss", "val_loss"]
    assert f"best epoch {best}" in labels
    (train,) = [line for line in loss_ax.get_lines() if line.get_label() == "train_loss"]
    np.testing.assert_allclose(train.get_ydata(), history["train_loss"])


def test_training_curves_without_epoch_column():
    fig = plot_training_curves(pd.DataFrame({"train_loss": [3.0, 2.0, 1.0]}))
    assert fig.axes[0].get_xlabel() == "step"
    with pytest.raises(InputDataError, match="non-empty DataFrame"):
        plot_training_curves(pd.DataFrame())
    with pytest.raises(InputDataError, match="no numeric column"):
        plot_training_curves(pd.DataFrame({"epoch": [1, 2], "note": ["a", "b"]}))


def test_observed_vs_predicted(ad_map):
    rng = np.random.default_rng(0)
    predicted = pd.DataFrame(
        {"in-sample": ad_map + rng.normal(0, 0.5, 68), "LORO": rng.normal(size=68)},
        index=ad_map.index,
    ).iloc[::-1]  # rows are matched by region, not position
    fig = plot_observed_vs_predicted(ad_map, predicted)
    (ax,) = fig.axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2
    np.testing.assert_allclose(scatters[0].get_offsets()[:, 0], ad_map.to_numpy())
    r = np.corrcoef(ad_map, predicted.loc[ad_map.index, "in-sample"])[0, 1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"in-sample (r = {r:.2f}, n = 68)"
    assert "y = x" in legend
    (identity,) = ax.get_lines()
    x, y = identity.get_data()
    np.testing.assert_allclose(x, y)


def test_observed_vs_predicted_needs_shared_regions(ad_map):
    other = pd.Series([1.0, 2.0], index=["a", "b"])
    with pytest.raises(InputDataError, match="share 0 region"):
        plot_observed_vs_predicted(ad_map, other)


def test_no_legend_entry_without_a_curve_and_no_panel_for_a_disabled_term():
    """A fit without held-out regions has val_loss all NaN; λ = 0 makes smoothness 0 throughout."""
    epoch = np.arange(30)
    history = pd.DataFrame({
        "epoch": epoch, "train_loss": np.exp(-epoch / 8) + 0.1, "val_loss": np.nan,
        "reconstruction": np.exp(-epoch / 8), "kl": np.linspace(0.3, 0.1, 30), "smoothness": 0.0,
    })  # fmt: skip
    fig = plot_training_curves(history)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "reconstruction", "kl"]
    labels = [t.get_text() for t in visible[0].get_legend().get_texts()]
    assert labels == ["train_loss"]  # no val_loss entry, no best-epoch line from an all-NaN column
    assert "term disabled): smoothness" in fig._supxlabel.get_text()
    # a term that is 0 only at some epochs is drawn
    history["smoothness"] = np.r_[0.0, np.full(29, 0.01)]
    assert "smoothness" in [ax.get_title() for ax in plot_training_curves(history).axes]
