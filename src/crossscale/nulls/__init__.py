"""Spatial null models: spin tests on the fsaverage5 sphere and Moran spectral randomisation.

Spin functions return permutation indices of shape (n_regions, n_perm) (``values[perm[:, k]]`` is
the ``k``-th null map); :func:`generate_nulls` returns null maps (values) of the same shape for any
method and any atlas (cortex spun, subcortex by Moran over distances; :func:`describe_nulls`);
:func:`compare_maps` correlates two maps with a spatial-null p-value. Null *graphs*
(degree- and length-preserving rewiring, a distance-only graph) are in :mod:`crossscale.nulls.graphs`.
"""

from crossscale.nulls.compare import MapComparison, compare_maps, permutation_p_value
from crossscale.nulls.generate import NULL_METHODS, describe_nulls, generate_nulls
from crossscale.nulls.graphs import (
    combined_graph,
    degree_table,
    distance_graph,
    rewire_degree_preserving,
)
from crossscale.nulls.moran import moran_eigenvectors, moran_randomization, morans_i
from crossscale.nulls.rotations import random_rotations, reflect_rotations, sphere_centroids
from crossscale.nulls.spins import SPIN_METHODS, spin_hungarian, spin_permutations, spin_vasa
from crossscale.nulls.vertex_spins import spin_alexander_bloch, spin_vertex_average

__all__ = [
    "NULL_METHODS",
    "SPIN_METHODS",
    "MapComparison",
    "combined_graph",
    "compare_maps",
    "degree_table",
    "describe_nulls",
    "distance_graph",
    "generate_nulls",
    "moran_eigenvectors",
    "moran_randomization",
    "morans_i",
    "permutation_p_value",
    "random_rotations",
    "reflect_rotations",
    "rewire_degree_preserving",
    "sphere_centroids",
    "spin_alexander_bloch",
    "spin_hungarian",
    "spin_permutations",
    "spin_vasa",
    "spin_vertex_average",
]
