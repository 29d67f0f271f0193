"""Physics-informed spreading models on region graphs.

Network diffusion and Fisher-KPP dynamics, a simulator of cohorts with spreading subtypes, and :class:`SpreadMixtureVAE`, a VAE mixture whose
decoders are the dynamics.

Importing this package does not import torch; the estimator loads it when fitting.
"""

from __future__ import annotations

from crossscale.models.spread.dynamics import (
    conserved_weights,
    graph_laplacian,
    network_diffusion,
    seed_vector,
    solve_scipy,
)
from crossscale.models.spread.estimator import SpreadMixtureVAE
from crossscale.models.spread.selection import SubtypeSelection, select_n_subtypes
from crossscale.models.spread.simulate import (
    AD_VARIANT_EPICENTRES,
    SimulatedCohort,
    Subtype,
    simulate_cohort,
)

__all__ = [
    "AD_VARIANT_EPICENTRES",
    "SimulatedCohort",
    "SpreadMixtureVAE",
    "Subtype",
    "SubtypeSelection",
    "conserved_weights",
    "graph_laplacian",
    "network_diffusion",
    "seed_vector",
    "select_n_subtypes",
    "simulate_cohort",
    "solve_scipy",
]
