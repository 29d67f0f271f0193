"""Training curves and observed-versus-predicted scatter plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_training_curves", "plot_observed_vs_predicted"]

_NON_LOSS = {"epoch", "step", "lr", "learning_rate", "time", "time_s", "seconds"}


def plot_training_curves(
    history: pd.DataFrame,
    *,
    title: str | None = None,
    log_scale: bool | None = None,
    best_epoch: int | None = None,
) -> Figure:
    """Plot loss terms against epoch.

    Parameters
    ----------
    history : pandas.DataFrame, shape (n_epochs, n_columns)
        One row per epoch. Column ``epoch`` (else the index) gives the x axis; ``train_loss`` and
        ``val_loss`` go in the first panel; every other numeric column (loss terms such as
        ``reconstruction``, ``kl``, ``smoothness``; ``lr``) gets a panel of its own, with
        ``train_``/``val_`` pairs of the same term drawn together. Columns without a finite value
        are left out (no legend entry without a curve); terms that are 0 at every epoch (a
        disabled term, e.g. smoothness with λ = 0) get no panel and are named below the figure.
    title : str, optional
        Figure title.
    log_scale : bool, optional
        Logarithmic y axis. Default: when all plotted values are positive and span more than two
        orders of magnitude.
    best_epoch : int, optional
        Epoch to mark with a vertical line (for example the early-stopping choice). Default: the
        epoch of the smallest ``val_loss`` when that column exists.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes per panel.

    Raises
    ------
    InputDataError
        If `history` is not a DataFrame, is empty, or has no numeric column with a finite,
        non-zero value to plot.
    """
    from matplotlib.figure import Figure

    if not isinstance(history, pd.DataFrame) or history.empty:
        raise InputDataError(
            "'history' must be a non-empty DataFrame with one row per epoch (columns epoch, "
            f"train_loss, val_loss ...), got {type(history).__name__}"
            + (" with no rows." if isinstance(history, pd.DataFrame) else ".")
        )
    x = history["epoch"].to_numpy() if "epoch" in history else history.index.to_numpy()
    numeric = [
        c for c in history.columns if c != "epoch" and pd.api.types.is_numeric_dtype(history[c])
    ]
    if not numeric:
        raise InputDataError(
            f"'history' has no numeric column to plot (columns: {list(history.columns)})."
        )
    # a legend entry needs a curve: columns without a finite value (e.g. val_loss of a fit
    # without held-out regions) are left out; so are terms that are 0 at every epoch (a
    # disabled term such as smoothness with λ = 0), named under the figure instead
    drawn, disabled = [], []
    for c in numeric:
        v = history[c].to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            continue
        if c not in ("loss", "train_loss") and np.all(finite == 0):
            disabled.append(c)
            continue
        drawn.append(c)
    if not drawn:
        raise InputDataError(
            f"'history' has no column with a finite, non-zero value to plot (columns: "
            f"{list(history.columns)})."
        )
    panels = _group_panels(drawn)
    ncols = min(3, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    fig = Figure(figsize=(3.6 * ncols, 2.7 * nrows + (0.3 if title else 0)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    if best_epoch is None and "val_loss" in history and history["val_loss"].notna().any():
        best_epoch = x[int(np.nanargmin(history["val_loss"].to_numpy(dtype=float)))]
    for ax, (name, cols) in zip(axes, panels, strict=False):
        values = []
        for col in cols:
            y = history[col].to_numpy(dtype=float)
            values.append(y[np.isfinite(y)])
            style = "--" if col.startswith("val") else "-"
            ax.plot(x, y, style, lw=1.4, label=col)
        ax.set_title(name, fontsize=9.5)
        ax.set_xlabel("epoch" if "epoch" in history else str(history.index.name or "step"))
        flat = np.concatenate(values) if values else np.array([])
        use_log = log_scale
        if use_log is None:
            use_log = bool(
                flat.size and flat.min() > 0 and flat.max() / max(flat.min(), 1e-300) > 100
            )
        if use_log:
            ax.set_yscale("log")
        if best_epoch is not None and name != "lr":
            ax.axvline(best_epoch, color="0.4", lw=0.8, ls=":", label=f"best epoch {best_epoch}")
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(fontsize=7.5, frameon=False)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    if disabled:
        fig.supxlabel(f"Not shown (0 at every epoch: term disabled): {', '.join(disabled)}",
                      fontsize=8, color="0.35")  # fmt: skip
    return fig


def _group_panels(columns: list[str]) -> list[tuple[str, list[str]]]:
    """Group columns into panels: loss first, then train_/val_ pairs, then the rest."""
    panels: dict[str, list[str]] = {}
    for col in columns:
        key = col
        for prefix in ("train_", "val_", "valid_", "test_"):
            if col.startswith(prefix):
                key = col[len(prefix) :]
                break
        if key in _NON_LOSS and key not in ("lr", "learning_rate"):
            continue
        panels.setdefault(key, []).append(col)
    order = sorted(panels, key=lambda k: (k != "loss", k in ("lr", "learning_rate")))
    return [(k, panels[k]) for k in order]


def plot_observed_vs_predicted(
    observed: pd.Series,
    predicted: pd.DataFrame | pd.Series,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str = "predicted",
) -> Figure:
    """Scatter each prediction of a regional map against the observed map.

    Parameters
    ----------
    observed : pandas.Series, shape (n_regions,)
        The observed map, indexed by region.
    predicted : pandas.DataFrame, shape (n_regions, n_predictions), or pandas.Series
        One column per prediction (for example ``in-sample``, ``leave-one-region-out``,
        ``PLS``, ``ridge``), indexed by region. Rows are matched to `observed` by index; regions
        missing from either are left out (NaN values too).
    title : str, optional
        Axes title; defaults to ``observed.name``.
    xlabel : str, optional
        x-axis label; defaults to ``"observed"`` plus ``observed.attrs["units"]`` when set.
    ylabel : str
        y-axis label.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes with one scatter series per column, labelled with Pearson's r and the number of
        regions, and the identity line ``y = x``.

    Raises
    ------
    InputDataError
        If `observed` and `predicted` share fewer than 3 regions.
    """
    from matplotlib.figure import Figure

    if isinstance(predicted, pd.Series):
        predicted = predicted.to_frame(name=predicted.name or "predicted")
    if not isinstance(observed, pd.Series) or not isinstance(predicted, pd.DataFrame):
        raise InputDataError(
            "'observed' must be a pandas Series and 'predicted' a DataFrame (or Series), indexed "
            f"by region; got {type(observed).__name__} and {type(predicted).__name__}."
        )
    common = observed.index.intersection(predicted.index)
    if len(common) < 3:
        raise InputDataError(
            f"'observed' and 'predicted' share {len(common)} region(s); at least 3 are needed. "
            "Index both by the same (canonical) region names."
        )
    obs = observed.loc[common].astype(float)
    fig = Figure(figsize=(4.6, 4.3), layout="constrained")
    ax = fig.add_subplot()
    lo, hi = np.inf, -np.inf
    markers = "os^Dv<>P*X"
    for i, col in enumerate(predicted.columns):
        pred = predicted.loc[common, col].astype(float)
        ok = np.isfinite(obs.to_numpy()) & np.isfinite(pred.to_numpy())
        xo, yp = obs.to_numpy()[ok], pred.to_numpy()[ok]
        r = float(np.corrcoef(xo, yp)[0, 1]) if ok.sum() >= 3 and np.std(yp) > 0 else np.nan
        ax.scatter(
            xo,
            yp,
            s=18,
            alpha=0.75,
            marker=markers[i % len(markers)],
            label=f"{col} (r = {r:.2f}, n = {int(ok.sum())})",
            edgecolors="none",
        )
        if ok.any():
            lo = min(lo, xo.min(), yp.min())
            hi = max(hi, xo.max(), yp.max())
    if np.isfinite(lo) and np.isfinite(hi):
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        ax.plot(
            [lo - pad, hi + pad], [lo - pad, hi + pad], color="0.35", lw=0.9, ls="--", label="y = x"
        )
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    units = observed.attrs.get("units")
    ax.set_xlabel(xlabel or ("observed" + (f"\n{units}" if units else "")), fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    name = title if title is not None else observed.name
    if name:
        ax.set_title(str(name), fontsize=10)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=7.5, frameon=False, loc="upper left")
    return fig
