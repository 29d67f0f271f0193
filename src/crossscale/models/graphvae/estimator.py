"""``GraphVAE``: the user-facing estimator of the graph-regularised VAE (scikit-learn conventions)."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from crossscale._errors import ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.models._validation import align
from crossscale.models.graphvae._batch import BatchFits
from crossscale.models.graphvae._blend import fit_stack
from crossscale.models.graphvae._inference import FittedGraphVAE
from crossscale.models.graphvae._params import (
    PRESETS,
    REFERENCE_PARAMS,
    _resolve_device,
    _seed,
    check_params,
)
from crossscale.models.graphvae._persist import GraphVAECheckpoint
from crossscale.models.graphvae._projection import Projection
from crossscale.models.tags import ModelTags

logger = logging.getLogger(__name__)


class GraphVAE(BatchFits, GraphVAECheckpoint, FittedGraphVAE, BaseEstimator):
    """Graph-regularised variational autoencoder from regional expression to a regional map.

    Each region's expression, standardised and projected on the leading (whitened) principal axes
    of the training regions, is encoded into a latent program ``q(z_i) = N(μ_i, σ_i²)`` by an MLP
    or a graph-convolutional encoder; an MLP decoder maps ``z_i`` to the predicted vulnerability
    ``ŷ_i``; a linear expression decoder reconstructs the region's standardised genes from
    ``z_i`` (p(x | z) beside p(y | z)), so that the programs are axes of transcriptomic variation.
    Loss: ``Σ (ŷ − y)² + α Σ ‖x̂ − x‖² + λ Σ_(i,j)∈E w_ij ‖s_i − s_j‖² + β KL`` (s = μ or ŷ); Adam, full
    batch, a fixed number of epochs (or early stopping on held-out regions and a refit, as in the
    reference). The target is standardised for training and reported in its own units.

    The defaults were chosen by cross-validation on training folds only
    (``benchmarks/bench_graphvae_ablation.py``); :meth:`reference` gives the reference's
    configuration (GCN encoder, ReLU, full-rank inputs, early stopping).

    Parameters
    ----------
    n_latent : int, default 8
        Latent programs per region.
    n_hidden : int, default 32
        Width of the encoder's hidden layer and of the decoder's hidden layers.
    n_components : "auto", int or None, default "auto"
        Principal axes of the standardised training expression the encoder sees. ``"auto"``:
        for every model (fold, map), the number that minimises the leave-one-out error (PRESS)
        of principal-component regression on its own training regions, plus 3, at most 25 —
        weak maps get few axes, strong maps more. An int fixes it; None uses all (the full-rank
        model).
    whiten : bool, default True
        Scale every principal axis to unit variance over the training regions.
    encoder : {"mlp", "gcn", "graphconv"}, default "mlp"
        ``"gcn"``: two graph convolutions over the region graph (the reference); ``"graphconv"``:
        GCN with a root weight in the first layer; ``"mlp"``: no message passing (the graph enters
        through the smoothness penalty only).
    activation : {"softplus", "relu", "tanh", "identity"}, default "softplus"
    decoder_layers : int, default 1
        Hidden layers of the decoder (0: linear decoder).
    smoothness : float, default 0.1
        λ, weight of the spatial smoothness penalty over graph edges (the reference's 0.1: with
        the expression decoder it costs no out-of-sample accuracy on the tuning maps, see
        ``benchmarks/results/graphvae_programs.md`` and ``graphvae_ablation.md``). 0 turns the
        graph off for the MLP encoder (the methods text then no longer calls the model
        graph-regularised).
    expression_weight : float, default 3.0
        α, weight of the expression reconstruction (mean squared error per standardised gene,
        summed over regions) beside the map's summed squared error. 0: no expression decoder
        (the map alone; the latent units then tend to collapse onto one direction).
    smoothness_on : {"latent", "prediction"}, default "latent"
        Penalise differences of the latent programs μ across edges (the reference) or of the
        decoded map ŷ.
    beta : float, default 0.01
        β, weight of the KL divergence to N(0, I).
    dropout : float, default 0.0
        Dropout on the encoder's hidden layer while training.
    lr : float, default 0.03
        Adam learning rate.
    weight_decay : float, default 1.0
        L2 penalty on all weights (Adam's coupled weight decay).
    max_epochs : int, default 100
        Epochs (the maximum, with early stopping). With the default learning rate and weight
        decay, 100 full-batch epochs fit the map without over-fitting it; 1000 lowered LORO R².
    early_stopping : bool, default False
        Hold out `val_fraction` of the training regions to choose the number of epochs (the
        reference's policy; on ~70 regions it often stops far too early).
    patience, min_epochs : int, default 100, 100
        Early-stopping patience and the epochs before it may act.
    val_fraction : float, default 0.2
        Fraction of training regions held out for early stopping.
    refit : bool, default True
        After early stopping, retrain on all training regions for the chosen number of epochs.
    n_ensemble : int, default 3
        Independently initialised members trained in the same stack; predictions are their mean
        (the latent programs and :meth:`transform` are those of the first member).
    spatial_residual : bool or "auto", default "auto"
        Out of sample (:meth:`fit_predict_folds`), add to each held-out region the harmonic
        interpolation over the region graph of the model's residuals on the training regions
        (regression kriging with a Laplacian / CAR-like smoother). True: for every model;
        ``"auto"``: only for the models whose ``shrinkage="stack"`` chose the network-led blend
        (chosen on the 36 tuning maps: it helps maps where the network leads and costs maps where
        ridge leads, ``benchmarks/results/graphvae_stack.md``); False: never. In-sample
        predictions are the blend's alone.
    shrinkage : {"stack", "fixed", "auto", "scaled", "none"}, default "stack"
        How the network's prediction is shrunk towards simpler predictors: every model's
        prediction is ``ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ)``, the network, ridge regression on the
        standardised genes (penalty by leave-one-out CV, on the model's training regions) and the
        training mean ȳ. ``"stack"``: for every model (fold, map), (a, b) is the network-led
        (0.8, 0.2) or the ridge-led (0.3, 0.6) blend, whichever has the smaller squared error in a
        10-fold cross-validation (random folds) on that model's training regions only (nested CV,
        stacked regression, Breiman 1996; 10 inner single-member network fits per model), the
        network-led one only where its inner-CV R² is at least 0.5 (weaker maps get the
        ridge-led blend). The candidates and the 0.5 were fixed on the 36 tuning maps
        (``benchmarks/results/graphvae_stack.md``).
        ``"fixed"``: (a, b) = `blend_weights` for every map and fold. ``"auto"``: (a, b) ≥ 0,
        a + b ≤ 1 (step 0.1) chosen by an inner 5-block spatial cross-validation on the model's
        training regions. ``"scaled"``: `blend_weights` times one factor s ∈ {0, 0.1, …, 1} chosen
        by that inner CV. ``"none"``: the network alone. With ~68 regions free inner-CV weights
        (``"auto"``) are noisy; a choice between two blends is not (``graphvae_stack.md``). The
        latent programs are the network's whatever the blend.
    blend_weights : tuple of float, default (0.3, 0.6)
        (a, b) of the ``"fixed"`` and ``"scaled"`` blends: a, b ≥ 0, a + b ≤ 1. Chosen once on
        the 36 tuning maps (``benchmarks/results/graphvae_fixed_blend.md``), never on a map being
        evaluated.
    memory_gb : float, default 4.0
        Working memory of one stacked program; larger stacks (many folds x maps) are split.
    random_state : int or None
        Seed of every stochastic step (initial weights, validation split, sampling); None draws
        fresh entropy.
    device : {"auto", "cpu", "cuda"}
        "auto" uses CUDA when available.

    Attributes
    ----------
    regions_ : pandas.Index, shape (n_regions,)
    genes_ : pandas.Index, shape (n_genes,)
    projection_ : Projection
        Gene standardisation and principal axes learned from the fitted regions.
    params_ : dict of str to numpy.ndarray
        Network weights, leading dimension n_ensemble.
    history_ : TrainHistory
    n_epochs_ : int
        Epochs of the final model.
    blend_ : dict of str to numpy.ndarray or None
        Unless ``shrinkage="none"``: ``weights`` (a, b), ``ridge_coef`` (n_genes,),
        ``ridge_intercept`` and ``y_mean`` of the fitted blend (:meth:`predict` applies it).
    in_sample_r2_ : float
        Explained variance of the fitted map (a warning is logged when it is below 0.1).
    program_center_, program_rotation_ : numpy.ndarray, shape (n_ensemble, n_latent) and
        (n_ensemble, n_latent, n_latent)
        Centre and rotation of the posterior means onto their principal axes (see
        :meth:`transform`): the reported programs are uncorrelated across the fitted regions.
    n_components_chosen_ : numpy.ndarray of int
        With ``n_components="auto"``: the axes each model of the last fit used.
    fit_time_s_ : float
        Seconds.

    References
    ----------
    .. [1] Vaithianathan (2026). arXiv 2606.05870 (reference model and metrics).
    .. [2] Kipf T.N., Welling M. (2017). Semi-supervised classification with graph convolutional
       networks. ICLR.
    .. [3] Kingma D.P., Welling M. (2014). Auto-encoding variational Bayes. ICLR.
    """

    def __crossscale_tags__(self) -> ModelTags:
        """Capabilities read by evaluate/, pipeline/ and the registry."""
        return ModelTags(requires_graph=True, fold_predictions=True, stacked_refits=True, latent_programs=True,
                         interpretable=True, saveable=True, stochastic=True)  # fmt: skip

    def __init__(
        self,
        *,
        n_latent: int = 8,
        n_hidden: int = 32,
        n_components: int | str | None = "auto",
        whiten: bool = True,
        encoder: str = "mlp",
        activation: str = "softplus",
        decoder_layers: int = 1,
        smoothness: float = 0.1,
        smoothness_on: str = "latent",
        expression_weight: float = 3.0,
        beta: float = 0.01,
        dropout: float = 0.0,
        lr: float = 0.03,
        weight_decay: float = 1.0,
        max_epochs: int = 100,
        early_stopping: bool = False,
        patience: int = 100,
        min_epochs: int = 100,
        val_fraction: float = 0.2,
        refit: bool = True,
        n_ensemble: int = 3,
        spatial_residual: bool | str = "auto",
        shrinkage: str = "stack",
        blend_weights: tuple[float, float] = (0.3, 0.6),
        memory_gb: float = 4.0,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_latent = n_latent
        self.n_hidden = n_hidden
        self.n_components = n_components
        self.whiten = whiten
        self.encoder = encoder
        self.activation = activation
        self.decoder_layers = decoder_layers
        self.smoothness = smoothness
        self.smoothness_on = smoothness_on
        self.expression_weight = expression_weight
        self.beta = beta
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.patience = patience
        self.min_epochs = min_epochs
        self.val_fraction = val_fraction
        self.refit = refit
        self.n_ensemble = n_ensemble
        self.spatial_residual = spatial_residual
        self.shrinkage = shrinkage
        self.blend_weights = blend_weights
        self.memory_gb = memory_gb
        self.random_state = random_state
        self.device = device

    @classmethod
    def reference(cls, **overrides: Any) -> GraphVAE:
        """The reference configuration (Vaithianathan 2026): GCN encoder, ReLU, early stopping.

        Parameters
        ----------
        **overrides
            Any parameter to change (e.g. ``random_state``).
        """
        return cls(**(REFERENCE_PARAMS | overrides))

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> GraphVAE:
        """``"default"`` (the constructor's defaults) or ``"reference"`` (:meth:`reference`)."""
        if preset not in PRESETS:
            raise ParameterError(f"preset must be one of {PRESETS}; got {preset!r}.")
        return cls.reference(**overrides) if preset == "reference" else cls(**overrides)

    # -- validation ---------------------------------------------------------------------------
    def check_params(self) -> None:
        """Validate every parameter.

        Raises
        ------
        ParameterError
            Naming the parameter, what is allowed and what was given.
        """
        check_params(self)


    # -- core ---------------------------------------------------------------------------------
    def _fit_stack(self, values: np.ndarray, targets: np.ndarray, train_masks: np.ndarray,
                   graph: RegionGraph, *, protocol: str, seed: int, description: str) -> tuple:  # fmt: skip
        """Train ``n_ensemble`` members per row of `train_masks` (see ``_blend.fit_stack``)."""
        return fit_stack(self, values, targets, train_masks, graph, protocol=protocol, seed=seed,
                         description=description, device=_resolve_device(self.device))  # fmt: skip

    def _set_fitted(
        self,
        *,
        seed: int,
        graph: RegionGraph,
        genes: pd.Index,
        projection: Projection,
        params: dict[str, np.ndarray],
        y_mean: float,
        y_scale: float,
        y_name: str,
        history: Any,
        n_epochs: int,
        fit_time: float,
    ) -> GraphVAE:
        """The one place that sets the fitted state."""
        self.seed_ = seed
        self.regions_ = pd.Index(graph.regions, name="region")
        self.genes_ = pd.Index(genes, name="gene_symbol")
        self.n_features_in_ = len(self.genes_)
        self.graph_ = graph
        self.projection_ = projection
        self.params_ = params
        self.y_mean_, self.y_scale_, self.y_name_ = float(y_mean), float(y_scale), y_name
        self.history_ = history
        self.n_epochs_ = int(n_epochs)
        self.fit_time_s_ = float(fit_time)
        self.program_center_ = self.program_rotation_ = None  # set by _set_program_rotation
        self.blend_ = None  # set by _set_blend
        return self

    def _set_blend(self, blend: dict[str, np.ndarray] | None, row: int) -> None:
        """Keep row `row` of a blend with ridge and the mean (``_blend.fit_stack``) for :meth:`predict`."""
        if blend is None:
            self.blend_ = None
            return
        self.blend_ = {k: np.asarray(v[row], dtype=float) for k, v in blend.items()}

    # -- public API ---------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph) -> GraphVAE:
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
            Regional expression; index region names, columns gene symbols.
        y : pandas.Series, shape (n_regions,)
            Regional vulnerability map (any units).
        graph : RegionGraph
            Region graph over the same regions.

        Returns
        -------
        self : GraphVAE

        Raises
        ------
        RegionMismatchError
            `X`, `y` and `graph` do not describe the same regions.
        InputDataError
            NaN in `X` or `y`, constant `y`.
        ParameterError
            A parameter is out of range.
        """
        self.check_params()
        Xa, ya = align(X, y, graph)
        t0 = time.perf_counter()
        seed = _seed(self.random_state)
        yv = ya.to_numpy()
        masks = np.ones((1, graph.n_regions), dtype=bool)
        params, hist, ym, ys, pred, projs, _ = self._fit_stack(
            Xa.to_numpy(dtype=float), yv[None], masks, graph, protocol="transductive",
            seed=seed, description="Fitting GraphVAE",
        )  # fmt: skip
        self._set_fitted(
            seed=seed, graph=graph, genes=Xa.columns, projection=projs[0], params=params,
            y_mean=ym[0], y_scale=ys[0], y_name=str(y.name) if y.name is not None else "map",
            history=hist, n_epochs=int(np.max(hist.best_epoch)),
            fit_time=time.perf_counter() - t0,
        )  # fmt: skip
        self._set_blend(self._last_blend, 0)
        self._set_program_rotation(Xa)
        ss = ((yv - yv.mean()) ** 2).sum()
        self.in_sample_r2_ = float(1 - ((yv - pred[0]) ** 2).sum() / ss)
        if self.in_sample_r2_ < 0.1:
            logger.warning(
                "GraphVAE fitted the map poorly: in-sample R² = %.3f after %d epochs%s. Its "
                "predictions carry almost no signal; try more epochs%s.",
                self.in_sample_r2_, self.n_epochs_,
                " (early stopping)" if self.early_stopping else "",
                " or early_stopping=False" if self.early_stopping else " or a smaller weight_decay",
            )  # fmt: skip
        return self
