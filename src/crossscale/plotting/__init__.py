"""Figures: regional maps on the fsaverage5 surface, training curves, null distributions.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global state,
Agg canvas), so it works headless; save it with ``figure.savefig(path)`` or embed it in a report
with :meth:`crossscale.report.Report.add_figure`. matplotlib is imported only when a function is
called.
"""

from crossscale.plotting.brain import plot_brain_map, plot_brain_maps
from crossscale.plotting.curves import plot_observed_vs_predicted, plot_training_curves
from crossscale.plotting.nulls import plot_null_distribution

__all__ = [
    "plot_brain_map",
    "plot_brain_maps",
    "plot_observed_vs_predicted",
    "plot_null_distribution",
    "plot_training_curves",
]
