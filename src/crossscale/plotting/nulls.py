"""Null distributions (spin tests, Moran randomisation, null refits) with the observed value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crossscale._errors import InputDataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_null_distribution"]


def plot_null_distribution(
    null: np.ndarray,
    observed: float,
    *,
    label: str,
    p_value: float | None = None,
    title: str | None = None,
    bins: int | str = "auto",
    ax: Axes | None = None,
) -> Figure:
    """Histogram of a null distribution with the observed statistic marked.

    Parameters
    ----------
    null : numpy.ndarray, shape (n_perm,)
        The statistic under the null (for example Pearson's r of a model refitted to each of
        `n_perm` spun maps). Non-finite values are dropped (and counted in the legend).
    observed : float
        The statistic on the real data.
    label : str
        Name of the statistic (x-axis label), for example ``"out-of-sample r"``.
    p_value : float, optional
        Shown in the legend, as computed by the caller (for example ``p_spin``).
    title : str, optional
        Axes title.
    bins : int or str
        Passed to :func:`numpy.histogram_bin_edges`.
    ax : matplotlib Axes, optional
        Draw into this axes (of an existing figure) instead of a new figure.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure holding the histogram; the observed value is a vertical line.

    Raises
    ------
    InputDataError
        If `null` has no finite value or `observed` is not a finite number.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between
       maps of human brain structure and function. NeuroImage 178, 540-551.
    .. [2] Markello R.D., Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    from matplotlib.figure import Figure

    values = np.asarray(null, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise InputDataError(
            f"'null' has no finite values ({values.size} given); the null refits probably all "
            "failed. Check the null maps and the refit log."
        )
    try:
        observed = float(observed)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"'observed' must be a number, got {observed!r}.") from exc
    if not np.isfinite(observed):
        raise InputDataError(f"'observed' must be finite, got {observed}.")
    if ax is None:
        fig = Figure(figsize=(4.6, 3.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    edges = np.histogram_bin_edges(np.append(finite, observed), bins=bins)
    dropped = values.size - finite.size
    null_label = f"null (n = {finite.size}" + (
        f", {dropped} non-finite dropped)" if dropped else ")"
    )
    ax.hist(finite, bins=edges, color="#9aa7b8", edgecolor="white", linewidth=0.4, label=null_label)
    obs_label = f"observed = {observed:.3g}"
    if p_value is not None:
        obs_label += f"\np = {p_value:.3g}" if p_value >= 1e-3 else f"\np = {p_value:.1e}"
    ax.axvline(observed, color="#c0392b", lw=2.0, label=obs_label)
    ax.set_xlabel(label, fontsize=9)
    ax.set_ylabel("count", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7.5, frameon=False)
    ax.grid(alpha=0.3, lw=0.5, axis="y")
    return fig
