"""Null-graph test of spreading models (moved to :mod:`crossscale.evaluate.spread_groups`).

The connectome is tested against degree- and edge-length-preserving rewirings (the headline)
and degree-preserving rewirings (beside it), never pooled, together with the baselines that
decide (offsets alone, a graph-free distance kernel, a distance-only graph, random epicentres):
see :func:`~crossscale.evaluate.spread_groups.compare_group_fits`.
"""

from crossscale.evaluate.spread_groups import GroupComparison, compare_group_fits, null_graph_r2

__all__ = ["GroupComparison", "compare_group_fits", "null_graph_r2"]
