"""Null graphs for spreading models (moved to :mod:`crossscale.nulls.graphs`; re-exported here)."""

from crossscale.nulls.graphs import (
    combined_graph,
    degree_table,
    distance_graph,
    rewire_degree_preserving,
)

__all__ = ["combined_graph", "degree_table", "distance_graph", "rewire_degree_preserving"]
