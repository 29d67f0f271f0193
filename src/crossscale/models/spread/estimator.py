"""``SpreadMixtureVAE``: infer spreading subtypes and per-subject mechanism parameters.

Input maps are a :class:`pandas.DataFrame` with one row per visit and one column per region. The
index is either a ``MultiIndex`` ``(subject, time)`` (time in years; only differences between a
subject's visits matter) or a plain index of subjects (one visit each).

The estimator orchestrates: padding (:mod:`~crossscale.models.spread.visits`), initial epicentres
(:mod:`~crossscale.models.spread.initialisation`), training by the shared plan
(:mod:`crossscale.train`), refinement and EM (:mod:`~crossscale.models.spread.refine`),
checkpoints (:class:`~crossscale.train.checkpoint.CheckpointMixin`); the methods of a fitted
model are :class:`~crossscale.models.spread.inference.SpreadInference`'s.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from crossscale._errors import InputDataError
from crossscale._threads import torch_threads
from crossscale.models.spread import refine
from crossscale.models.spread._common import (
    resolve_seed,
    validate_params,
)
from crossscale.models.spread.inference import SpreadInference
from crossscale.models.spread.persist import SpreadCheckpoint
from crossscale.models.spread.training import build_module, train_amortised
from crossscale.models.spread.visits import to_visit_arrays
from crossscale.models.tags import ModelTags

logger = logging.getLogger(__name__)

__all__ = ["SpreadMixtureVAE"]


class SpreadMixtureVAE(SpreadInference, SpreadCheckpoint, BaseEstimator):
    """Physics-informed VAE mixture: each subtype spreads from its own epicentre on the connectome.

    ``X`` is a visits table, one row per visit and one column per region (shape
    ``(n_visits, n_regions)``), unlike :class:`~crossscale.models.graphvae.GraphVAE`, whose ``X``
    is regional gene expression (``(n_regions, n_genes)``) with the map as ``y``.

    An encoder maps a subject's visits to ``q(subtype)`` and, per subtype, log-normal posteriors of
    the diffusivity ``rho``, the growth rate ``alpha`` (Fisher-KPP) and the ``onset`` (years from
    seeding to the first visit); each subtype's decoder solves the dynamics from its epicentre.
    After the amortised training, ``n_em`` rounds of expectation-maximisation with per-subject
    Laplace posteriors (:mod:`crossscale.models.spread.posterior`) re-estimate the subtype
    weights, the prior means and spreads, and the noise, so that the noise level and the priors
    are those of fully fitted subjects rather than of the amortised encoder.

    Parameters
    ----------
    n_subtypes : int
        Number of subtypes K >= 1 (choose it with :func:`select_n_subtypes`).
    model : {"fisher_kpp", "diffusion"}
        Decoder dynamics.
    laplacian : {"combinatorial", "normalized"}
        Graph Laplacian (see :func:`~crossscale.models.spread.dynamics.graph_laplacian`).
    n_hidden : int
        Encoder width (>= 1).
    max_epochs : int
        Full passes over the subjects (>= 1). The EM rounds after training do most of the
        fitting, so 30-100 epochs are enough (in simulations 40 and 300 gave the same results).
    lr : float
        Adam learning rate (> 0).
    batch_size : int or None
        Subjects per step (>= 1; None: all subjects, up to 256).
    epicentre_updates : int
        Number of coordinate-ascent updates of the epicentres during training (>= 0, after
        warm-up). Default 0: the epicentres stay at their initialisation (the region whose
        diffusion pattern best matches each initial cluster), because an update scores candidate
        regions with parameters fitted for the current epicentre, which in simulations moved
        correct epicentres to neighbours. The final :attr:`epicentre_proba_` is always computed.
    n_candidates : int
        Candidate epicentres scored per subtype (>= 1): the regions whose network-diffusion
        pattern best matches the subtype's responsibility-weighted mean map.
    prior_loc, prior_scale : sequence of float or None
        Prior mean (initial; learned per subtype, the onset's shared) and sd (> 0; the rates'
        re-estimated by the EM rounds, the onset's kept) of ``(log rho, log alpha, log onset)``
        (``diffusion``: no alpha).
    seed_mass : float
        Initial pathology at the epicentre (> 0).
    kl_warmup : float
        Fraction of epochs (in [0, 1]) over which the KL weight rises linearly from 0 to 1.
    assign_warmup : float
        Fraction of epochs (in [0, 1)) during which subjects are held to their initial cluster
        (k-means on last-visit patterns) while the decoders and encoder warm up; afterwards
        ``q(c | y)`` is free. Guards against one subtype absorbing every subject early on.
    posterior : {"laplace", "amortised"}
        Posterior used by :meth:`predict_proba`, :meth:`transform` and :meth:`score_samples`:
        ``laplace`` (default) refines every subject's posterior under every subtype
        (MAP + full-covariance Laplace, semi-amortised); ``amortised`` uses the encoder alone
        (fast, but its intervals are not calibrated). Only used after fitting, so it can be
        switched on a fitted model with ``set_params(posterior=...)``.
    n_em : int
        EM rounds after training (>= 0; 0 keeps the amortised estimates of noise and priors).
    lm_iter : int
        Levenberg-Marquardt iterations of each per-subject refinement (>= 1).
    n_importance : int
        Importance samples per subject and subtype in :meth:`score_samples` (>= 0; 0: the
        Laplace evidence alone).
    n_threads : int or None
        Torch threads while fitting (None: leave torch's setting; 1 is fastest for 68 regions).
    random_state : int, numpy.random.Generator or None
        Seed for initialisation, k-means and reparameterisation noise. None (default) draws a
        fresh seed from OS entropy at each fit (as :class:`~crossscale.models.graphvae.GraphVAE`);
        the seed used is stored in :attr:`seed_`, so a fit can be repeated by passing it.

    Attributes
    ----------
    regions_ : pandas.Index
    epicentres_ : list of str, shape (K,)
    epicentre_proba_ : pandas.DataFrame, shape (K, n_regions)
        Posterior over each subtype's epicentre (flat prior), from the refined subject fits.
    subtype_params_ : pandas.DataFrame, shape (K, n_latent + 2)
        Learned prior medians of each subtype's parameters, its weight and epicentre.
    noise_ : float
        Learned noise standard deviation.
    seed_ : int
        The seed the fit used.
    fit_time_s_ : float
        Wall-clock seconds of the fit (training, EM rounds and epicentre scores).
    history_ : crossscale.train.record.TrainHistory
        Loss terms per epoch of the amortised training (``history_.to_frame()``).
    em_history_ : pandas.DataFrame
        Noise, prior spreads and mean log evidence after each EM round.

    References
    ----------
    .. [1] Pinnawala et al. (2025). Learning mechanistic subtypes of neurodegeneration with a
       physics-informed variational autoencoder mixture model. arXiv:2509.15124.
    .. [2] Raj A. et al. (2012). Neuron 73, 1204-1215.
    .. [3] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
    .. [4] Kim Y. et al. (2018). Semi-amortized variational autoencoders. ICML.
    .. [5] Dempster A.P., Laird N.M., Rubin D.B. (1977). Maximum likelihood from incomplete data
       via the EM algorithm. J R Stat Soc B 39, 1-38.
    """

    def __init__(
        self,
        n_subtypes: int = 2,
        *,
        model: str = "fisher_kpp",
        laplacian: str = "combinatorial",
        n_hidden: int = 64,
        max_epochs: int = 100,
        lr: float = 1e-2,
        batch_size: int | None = None,
        epicentre_updates: int = 0,
        n_candidates: int = 8,
        prior_loc: Sequence[float] | None = None,
        prior_scale: Sequence[float] | None = None,
        seed_mass: float = 0.05,
        kl_warmup: float = 0.2,
        assign_warmup: float = 0.3,
        posterior: str = "laplace",
        n_em: int = 3,
        lm_iter: int = 15,
        n_importance: int = 16,
        n_threads: int | None = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_subtypes = n_subtypes
        self.model = model
        self.laplacian = laplacian
        self.n_hidden = n_hidden
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.epicentre_updates = epicentre_updates
        self.n_candidates = n_candidates
        self.prior_loc = prior_loc
        self.prior_scale = prior_scale
        self.seed_mass = seed_mass
        self.kl_warmup = kl_warmup
        self.assign_warmup = assign_warmup
        self.posterior = posterior
        self.n_em = n_em
        self.lm_iter = lm_iter
        self.n_importance = n_importance
        self.n_threads = n_threads
        self.random_state = random_state

    def __crossscale_tags__(self) -> ModelTags:
        """Capabilities (see :mod:`crossscale.models.tags`)."""
        return ModelTags(accepts_graph=True, saveable=True, stochastic=True)

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, graph=None, *, production: pd.Series | None = None):
        """Fit subtypes, epicentres and the amortised posterior to a cohort.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_visits, n_regions)
            Visits table: regional pathology, one row per visit, MultiIndex
            ``(subject, time)``; columns are the graph's regions. Values should be on the
            dynamics' scale (0 = healthy, 1 = saturated). (Not expression, as in
            :meth:`GraphVAE.fit <crossscale.models.graphvae.GraphVAE.fit>`.)
        graph : RegionGraph or None
            Default ``RegionGraph.from_connectome()`` (ENIGMA HCP structural, 68 regions).
        production : pandas.Series or None, shape (n_regions,)
            Regional production weight of the Fisher-KPP reaction term (e.g. a gene's expression
            scaled to mean 1).

        Returns
        -------
        self : SpreadMixtureVAE

        Raises
        ------
        ParameterError, InputDataError, RegionMismatchError
        """
        validate_params(self)
        with torch_threads(self.n_threads):
            return self._fit(X, graph, production)

    def _fit(self, X, graph, production):
        import torch

        if graph is None:
            from crossscale.atlas import RegionGraph

            graph = RegionGraph.from_connectome()
        regions = list(graph.regions)
        arr = to_visit_arrays(X, regions)
        s = len(arr.subjects)
        if s < self.n_subtypes:
            raise InputDataError(
                f"X has {s} subjects but n_subtypes={self.n_subtypes}; every subtype needs "
                "subjects: lower n_subtypes or add subjects."
            )
        if s == 1:
            logger.warning(
                "X holds the visits of one subject: SpreadMixtureVAE models a cohort; the "
                "subtype, rates and onset of one subject rest on the priors (check '*_identified')."
            )
        rs = resolve_seed(self.random_state)
        self.seed_ = rs
        t0 = _time.perf_counter()
        module, init_labels = build_module(self, arr, graph, production, rs)
        gen = torch.Generator().manual_seed(rs)
        y, dt, mask = self._tensors(arr)
        hist = train_amortised(self, module, y, dt, mask, init_labels, gen)
        em_rows, post = refine.em_rounds(module, y, dt, mask, self.n_em, self.lm_iter)
        scores = refine.update_epicentres(module, y, dt, mask, self.n_candidates, final=True,
                                          post=post)  # fmt: skip
        self.fit_time_s_ = _time.perf_counter() - t0
        self.module_ = module
        self.em_history_ = pd.DataFrame(em_rows).rename_axis("round")
        self.regions_ = pd.Index(regions, name="region")
        self.graph_hash_ = graph.hash()
        self.graph_kind_ = graph.kind
        self.history_ = hist
        self.init_labels_ = init_labels
        self._set_summary(scores)
        logger.info("Fitted %d subtypes in %.1f s", self.n_subtypes, self.fit_time_s_)
        return self

    def simulate(self, n_subjects: int, timepoints: Sequence[float] = (0.0, 2.0, 4.0), *,
                 noise: float | None = None, random_state: int | None = None):  # fmt: skip
        """Draw a cohort from the fitted generative model (subtypes, priors, epicentres, noise).

        Returns
        -------
        cohort : crossscale.models.spread.simulate.SimulatedCohort
            As :func:`~crossscale.models.spread.simulate.simulate_cohort` returns.
        """
        from crossscale.models.spread.simulate import simulate_from_fit

        self._check_fitted()
        return simulate_from_fit(self, n_subjects, timepoints, noise=noise,
                                 random_state=random_state)  # fmt: skip

