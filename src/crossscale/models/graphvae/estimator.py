"""``GraphVAE``: the user-facing estimator of the graph-regularised VAE (scikit-learn conventions)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from crossscale._errors import ModelStateError, ParameterError, RegionMismatchError
from crossscale.atlas.graph import RegionGraph
from crossscale.models._validation import align, check_expression
from crossscale.models.graphvae._stack import (
    PROTOCOLS,
    Projection,
    fold_inputs,
    max_stack,
    module_from_params,
    select_components,
    train_stack,
)
from crossscale.train.checkpoint import CheckpointMixin

logger = logging.getLogger(__name__)

#: The configuration of the reference model (Vaithianathan 2026) as crossscale reads it: a
#: two-layer GCN encoder over the region graph on the full standardised expression, ReLU, an MLP
#: decoder, λ = 0.1 latent smoothness, β = 0.01, early stopping on held-out regions.
REFERENCE_PARAMS: dict[str, Any] = {
    "n_latent": 8, "n_hidden": 32, "n_components": None, "whiten": False, "encoder": "gcn",
    "activation": "relu", "decoder_layers": 1, "smoothness": 0.1, "smoothness_on": "latent",
    "beta": 0.01, "dropout": 0.1, "lr": 1e-3, "weight_decay": 1e-4, "max_epochs": 1000,
    "early_stopping": True, "patience": 100, "min_epochs": 100, "val_fraction": 0.2,
    "refit": True, "n_ensemble": 1,
}  # fmt: skip
PRESETS = ("default", "reference")
#: the most principal axes n_components="auto" considers
AUTO_MAX_COMPONENTS = 25
#: axes added to the linear proxy's choice: the nonlinear encoder uses a few more than
#: principal-component regression (AD map: PRESS chooses ~12, the encoder is best at ~15)
AUTO_EXTRA_COMPONENTS = 3


def _resolve_device(device: str) -> str:
    import torch

    from crossscale._device import check_device

    check_device(device, option="device")  # a clear error for CUDA on a machine without it
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _align_maps(Y: pd.DataFrame, graph: RegionGraph) -> pd.DataFrame:
    from crossscale._errors import InputDataError

    if not isinstance(Y, pd.DataFrame):
        raise InputDataError(
            f"Y must be a DataFrame of maps (regions x maps); got {type(Y).__name__}."
        )
    missing = [r for r in graph.regions if r not in Y.index]
    if missing:
        raise RegionMismatchError(f"Y lacks {len(missing)} region(s) of the graph: {missing[:6]}.")
    Ya = Y.loc[list(graph.regions)].astype(float)
    if not np.isfinite(Ya.to_numpy()).all():
        raise InputDataError("Y has NaN or infinite values; every map must cover every region.")
    return Ya


def _seed(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng()
    return int(rng.integers(0, 2**31 - 1))


class GraphVAE(CheckpointMixin, BaseEstimator):
    """Graph-regularised variational autoencoder from regional expression to a regional map.

    Each region's expression, standardised and projected on the leading (whitened) principal axes
    of the training regions, is encoded into a latent program ``q(z_i) = N(μ_i, σ_i²)`` by an MLP
    or a graph-convolutional encoder; an MLP decoder maps ``z_i`` to the predicted vulnerability
    ``ŷ_i``. Loss: ``Σ (ŷ − y)² + λ Σ_(i,j)∈E w_ij ‖s_i − s_j‖² + β KL`` (s = μ or ŷ); Adam, full
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
    smoothness : float, default 0.0
        λ, weight of the spatial smoothness penalty over graph edges (the reference: 0.1; on the
        AHBA maps any λ > 0 lowered out-of-sample accuracy, see the ablation benchmark).
    smoothness_on : {"latent", "prediction"}, default "latent"
        Penalise differences of the latent programs μ across edges (the reference) or of the
        decoded map ŷ.
    beta : float, default 0.01
        β, weight of the KL divergence to N(0, I).
    dropout : float, default 0.0
        Dropout on the encoder's hidden layer while training.
    lr : float, default 1e-2
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
    n_ensemble : int, default 1
        Independently initialised members trained in the same stack; predictions are their mean.
    spatial_residual : bool, default False
        Out of sample (:meth:`fit_predict_folds`), add to each held-out region the harmonic
        interpolation over the region graph of the model's residuals on the training regions
        (regression kriging with a Laplacian / CAR-like smoother). In-sample predictions are the
        network's alone.
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
    in_sample_r2_ : float
        Explained variance of the fitted map (a warning is logged when it is below 0.1).
    n_components_chosen_ : numpy.ndarray of int
        With ``n_components="auto"``: the axes each model of the last fit used.
    fit_time_ : float
        Seconds.

    References
    ----------
    .. [1] Vaithianathan (2026). arXiv 2606.05870 (reference model and metrics).
    .. [2] Kipf T.N., Welling M. (2017). Semi-supervised classification with graph convolutional
       networks. ICLR.
    .. [3] Kingma D.P., Welling M. (2014). Auto-encoding variational Bayes. ICLR.
    """

    #: capability tags read by evaluate/ (instead of probing attributes)
    requires_graph = True
    interpolation_only = False
    stacked_refits = True

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
        smoothness: float = 0.0,
        smoothness_on: str = "latent",
        beta: float = 0.01,
        dropout: float = 0.0,
        lr: float = 1e-2,
        weight_decay: float = 1.0,
        max_epochs: int = 100,
        early_stopping: bool = False,
        patience: int = 100,
        min_epochs: int = 100,
        val_fraction: float = 0.2,
        refit: bool = True,
        n_ensemble: int = 1,
        spatial_residual: bool = False,
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
        def is_int(v: Any, lo: int) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lo

        checks = [
            ("n_latent", self.n_latent, is_int(self.n_latent, 1), "an integer >= 1"),
            ("n_hidden", self.n_hidden, is_int(self.n_hidden, 1), "an integer >= 1"),
            ("n_components", self.n_components, self.n_components is None or self.n_components == "auto" or is_int(self.n_components, 1), "'auto', None or an integer >= 1"),
            ("encoder", self.encoder, self.encoder in ("mlp", "gcn", "graphconv"), "'mlp', 'gcn' or 'graphconv'"),
            ("activation", self.activation, self.activation in ("softplus", "relu", "tanh", "identity"), "'softplus', 'relu', 'tanh' or 'identity'"),
            ("decoder_layers", self.decoder_layers, is_int(self.decoder_layers, 0), "an integer >= 0"),
            ("smoothness", self.smoothness, self.smoothness >= 0, ">= 0"),
            ("smoothness_on", self.smoothness_on, self.smoothness_on in ("latent", "prediction"), "'latent' or 'prediction'"),
            ("beta", self.beta, self.beta >= 0, ">= 0"),
            ("dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
            ("lr", self.lr, self.lr > 0, "> 0"),
            ("weight_decay", self.weight_decay, self.weight_decay >= 0, ">= 0"),
            ("max_epochs", self.max_epochs, is_int(self.max_epochs, 1), "an integer >= 1"),
            ("patience", self.patience, is_int(self.patience, 1), "an integer >= 1"),
            ("min_epochs", self.min_epochs, is_int(self.min_epochs, 0), "an integer >= 0"),
            ("val_fraction", self.val_fraction, 0 <= self.val_fraction < 0.5, "in [0, 0.5)"),
            ("n_ensemble", self.n_ensemble, is_int(self.n_ensemble, 1), "an integer >= 1"),
            ("spatial_residual", self.spatial_residual, isinstance(self.spatial_residual, (bool, np.bool_)), "True or False"),
            ("memory_gb", self.memory_gb, self.memory_gb > 0, "> 0"),
        ]  # fmt: skip
        for name, value, ok, allowed in checks:
            if not ok:
                raise ParameterError(
                    f"GraphVAE parameter '{name}' must be {allowed}; got {value!r}."
                )
        _resolve_device(self.device)

    # -- core ---------------------------------------------------------------------------------
    def _fit_stack(
        self,
        values: np.ndarray,
        targets: np.ndarray,
        train_masks: np.ndarray,
        graph: RegionGraph,
        *,
        protocol: str,
        seed: int,
        description: str,
    ) -> tuple[dict[str, np.ndarray], Any, np.ndarray, np.ndarray, np.ndarray, list[Projection], np.ndarray]:
        """Train ``n_ensemble`` members per row of `train_masks` (rows of `targets` alike).

        Returns params, history, y_mean, y_scale (per model), predictions (n_rows, n_regions;
        ensemble means), projections and the projection index of each row. Stacks larger than
        ``memory_gb`` are split into sub-stacks run one after the other.
        """
        if protocol not in PROTOCOLS:
            raise ParameterError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
        device = _resolve_device(self.device)
        auto = self.n_components == "auto"
        x, projs, index = fold_inputs(
            values, train_masks, protocol=protocol,
            n_components=AUTO_MAX_COMPONENTS if auto else self.n_components, whiten=self.whiten,
        )  # fmt: skip
        if auto:  # per model: the leading axes its own training targets support
            chosen = select_components(x, index, np.asarray(targets, float), train_masks,
                                       extra=AUTO_EXTRA_COMPONENTS)  # fmt: skip
            x = x[index].copy()
            x *= (np.arange(x.shape[-1])[None, :] < chosen[:, None])[:, None, :]
            projs = [Projection(projs[j].mean, projs[j].scale,
                                np.where(np.arange(projs[j].basis.shape[1]) < c, projs[j].basis, 0.0))
                     for j, c in zip(index, chosen, strict=True)]  # fmt: skip
            index = np.arange(len(chosen))
            self.n_components_chosen_ = chosen
        e = int(self.n_ensemble)
        rows = len(train_masks)
        # member j of row r is model r * e + j
        y_all = np.repeat(np.asarray(targets, float), e, axis=0)
        m_all = np.repeat(train_masks, e, axis=0)
        i_all = np.repeat(index, e)
        limit = max_stack(x.shape[-1], self.n_hidden, self.n_latent, self.memory_gb * 2**30)
        limit = max(e, limit - limit % e)
        rng = np.random.default_rng(seed)
        parts = []
        for start in range(0, rows * e, limit):
            sl = slice(start, min(start + limit, rows * e))
            sub_seed = seed if start == 0 else int(rng.integers(2**31 - 1))
            parts.append(train_stack(
                self, x, i_all[sl], y_all[sl], m_all[sl], graph, protocol=protocol,
                seed=sub_seed, description=description, device=device,
            ))  # fmt: skip
        params = {n: np.concatenate([p[0][n] for p in parts]) for n in parts[0][0]}
        hist = parts[0][1]
        ym = np.concatenate([p[2] for p in parts])
        ys = np.concatenate([p[3] for p in parts])
        pred = np.concatenate([p[4] for p in parts]).reshape(rows, e, -1).mean(1)
        return params, hist, ym, ys, pred, projs, index

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
        self.fit_time_ = float(fit_time)
        return self

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

    def fit_predict_folds(
        self,
        X: pd.DataFrame,
        y: pd.Series | pd.DataFrame,
        graph: RegionGraph,
        test_masks: np.ndarray,
        *,
        protocol: str = "inductive",
    ) -> np.ndarray:
        """Fit one model per fold (and map) as a single batched tensor program; predict all regions.

        Parameters
        ----------
        X, graph : as in :meth:`fit`.
        y : pandas.Series, shape (n_regions,), or pandas.DataFrame, shape (n_regions, n_maps)
        test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
            Regions held out in each fold: their map values are never seen by that fold's model.
        protocol : {"inductive", "transductive"}, default "inductive"
            Inductive: gene standardisation, principal axes, graph propagation and penalties use
            the fold's training regions only (a held-out region enters only through its own
            input row). Transductive: the expression of every region is known (targets of
            held-out regions are still hidden).

        Returns
        -------
        predictions : numpy.ndarray, shape (n_maps, n_folds, n_regions)
            Every region's prediction by each fold's model, in the units of `y`; n_maps = 1 for a
            Series. With ``n_ensemble > 1`` each prediction is the members' mean.
        """
        self.check_params()
        test_masks = np.asarray(test_masks, dtype=bool)
        if isinstance(y, pd.DataFrame):
            Xa, _ = align(X, None, graph)
            Ya = _align_maps(y, graph).to_numpy().T  # (n_maps, n_regions)
        else:
            Xa, ya = align(X, y, graph)
            Ya = ya.to_numpy()[None]
        n_maps, n_folds = Ya.shape[0], len(test_masks)
        targets = np.repeat(Ya, n_folds, axis=0)
        train = np.tile(~test_masks, (n_maps, 1))
        *_, pred, _, _ = self._fit_stack(
            Xa.to_numpy(dtype=float), targets, train, graph, protocol=protocol,
            seed=_seed(self.random_state), description=f"GraphVAE, {len(train)} models",
        )  # fmt: skip
        if self.spatial_residual:
            from crossscale.models._spatial import harmonic_interpolation

            resid = harmonic_interpolation(graph.laplacian().toarray(), targets - pred, ~train)
            pred = pred + np.where(train, 0.0, resid)
        return pred.reshape(n_maps, n_folds, -1)

    def fit_many(
        self,
        X: pd.DataFrame,
        Y: pd.DataFrame,
        graph: RegionGraph,
        *,
        train_masks: np.ndarray | None = None,
    ) -> list[GraphVAE]:
        """Fit one model per column of `Y` as a single batched tensor program.

        For null refits (one model per spun map), seeds or replicates. Each returned model is a
        fitted ``GraphVAE`` (predict, transform, save) with the parameters of this one; all share
        the seed stream of ``random_state`` and the projection learned from all regions of `X`.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
        Y : pandas.DataFrame, shape (n_regions, n_maps)
            One target map per column, index regions.
        graph : RegionGraph
        train_masks : numpy.ndarray of bool, shape (n_maps, n_regions), optional
            Regions whose map value each model sees (default all).

        Returns
        -------
        models : list of GraphVAE, length n_maps
        """
        self.check_params()
        Xa, _ = align(X, None, graph)
        Ya = _align_maps(Y, graph)
        n_maps = Ya.shape[1]
        masks = (np.ones((n_maps, graph.n_regions), dtype=bool) if train_masks is None
                 else np.asarray(train_masks, dtype=bool))  # fmt: skip
        if masks.shape != (n_maps, graph.n_regions):
            raise ParameterError(
                f"train_masks must have shape (n_maps, n_regions) = {(n_maps, graph.n_regions)}; "
                f"got {masks.shape}."
            )
        t0 = time.perf_counter()
        seed = _seed(self.random_state)
        params, hist, ym, ys, _, projs, _ = self._fit_stack(
            Xa.to_numpy(dtype=float), Ya.to_numpy().T, masks, graph, protocol="transductive",
            seed=seed, description=f"GraphVAE, {n_maps} maps",
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
        e = int(self.n_ensemble)
        models = []
        for i, col in enumerate(Ya.columns):
            m = clone(self)._set_fitted(
                seed=seed, graph=graph, genes=Xa.columns, projection=projs[i] if len(projs) > 1 else projs[0],
                params={n: v[i * e:(i + 1) * e] for n, v in params.items()},
                y_mean=ym[i * e], y_scale=ys[i * e], y_name=str(col), history=hist,
                n_epochs=int(hist.best_epoch[i * e]), fit_time=elapsed / n_maps,
            )  # fmt: skip
            m.train_mask_ = masks[i]
            models.append(m)
        return models

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelStateError("This GraphVAE is not fitted yet; call fit(X, y, graph) first.")

    def standardized_expression(self, X: pd.DataFrame) -> np.ndarray:
        """Expression of the fitted regions and genes, standardised as in training.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)

        Returns
        -------
        Z : numpy.ndarray, shape (n_regions, n_genes)
            In the order of ``regions_`` and ``genes_``; the encoder's input is
            ``Z @ projection_.basis``.

        Raises
        ------
        RegionMismatchError
            `X` lacks genes or regions of the fitted model.
        """
        self._check_fitted()
        check_expression(X)
        missing = [g for g in self.genes_ if g not in X.columns]
        if missing or len(X.columns) != len(self.genes_):
            raise RegionMismatchError(
                f"X must have the {len(self.genes_)} genes the model was fitted on; {len(missing)} are "
                f"missing (e.g. {missing[:5]}) and it has {len(X.columns)} columns. Select them with "
                "X[model.genes_]."
            )
        Xa, _ = align(X[list(self.genes_)], None, self.graph_)
        p = self.projection_
        return (Xa.to_numpy(dtype=float) - p.mean) / p.scale

    def encoder_module(self) -> tuple[Any, Any]:
        """The fitted network and its propagation matrix.

        Returns
        -------
        module : GraphVAEModule
            In eval mode; ``module(x, a_hat)`` has shape (n_ensemble, n_regions) (standardised
            units: multiply by ``y_scale_`` and add ``y_mean_``).
        a_hat : torch.Tensor, shape (n_regions, n_regions), or None for the MLP encoder
        """
        import torch

        from crossscale.models.graphvae.module import gcn_normalized_adjacency

        self._check_fitted()
        mod = module_from_params(self, self.params_, self.projection_.basis.shape[1])
        a_hat = None
        if self.encoder != "mlp":
            a_hat = gcn_normalized_adjacency(
                torch.as_tensor(self.graph_.edges),
                torch.as_tensor(self.graph_.edge_weights, dtype=torch.float32),
                self.graph_.n_regions,
            )
        return mod, a_hat

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Predicted map (mean over ensemble members), in the units of the fitted `y`.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
            Expression of the fitted regions and genes.

        Returns
        -------
        y_pred : pandas.Series, shape (n_regions,)
        """
        import torch

        Z = self.standardized_expression(X)
        mod, a_hat = self.encoder_module()
        with torch.no_grad():
            pred = mod(torch.as_tensor(Z @ self.projection_.basis, dtype=torch.float32), a_hat)
        return pd.Series(
            pred.mean(0).numpy() * self.y_scale_ + self.y_mean_,
            index=self.regions_,
            name=f"{self.y_name_} predicted",
        )

    def transform(self, X: pd.DataFrame, *, member: int = 0) -> pd.DataFrame:
        """Latent programs (posterior means) of each region.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
        member : int, default 0
            Ensemble member whose programs to return (members' latent spaces are not aligned,
            so they are not averaged).

        Returns
        -------
        programs : pandas.DataFrame, shape (n_regions, n_latent)
            Columns ``z0`` … ``z{n_latent-1}``.
        """
        import torch

        self._check_fitted()
        n_members = self.params_["w1"].shape[0]
        if not (isinstance(member, (int, np.integer)) and 0 <= member < n_members):
            raise ParameterError(f"member must be an integer in [0, {n_members}); got {member!r}.")
        Z = self.standardized_expression(X)
        mod, a_hat = self.encoder_module()
        with torch.no_grad():
            mu, _ = mod.inference(torch.as_tensor(Z @ self.projection_.basis, dtype=torch.float32), a_hat)
        cols = [f"z{i}" for i in range(self.n_latent)]
        return pd.DataFrame(mu[member].numpy(), index=self.regions_, columns=cols)

    # -- persistence --------------------------------------------------------------------------
    # save(path) and load(path, graph=None) come from CheckpointMixin (crossscale.train.checkpoint)
    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and config of ``save(path)``: ``model.safetensors`` + ``config.json`` (no pickle)."""
        p = self.projection_
        tensors = {f"param.{k}": v for k, v in self.params_.items()}
        tensors |= {"gene_mean": p.mean, "gene_scale": p.scale, "basis": p.basis,
                    "graph_edges": self.graph_.edges, "graph_weights": self.graph_.edge_weights,
                    "graph_coords": self.graph_.coords.to_numpy(), "graph_sphere": self.graph_.sphere_coords.to_numpy()}  # fmt: skip
        config = {
            "params": self.get_params(),
            "seed": self.seed_,
            "regions": list(self.regions_),
            "genes": list(self.genes_),
            "graph_hash": self.graph_.hash(),
            "graph_kind": self.graph_.kind,
            "y_mean": self.y_mean_,
            "y_scale": self.y_scale_,
            "y_name": self.y_name_,
            "n_epochs": self.n_epochs_,
        }
        return tensors, config

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, np.ndarray], config: dict[str, Any], *,
                         path: Path, graph: RegionGraph | None = None) -> GraphVAE:  # fmt: skip
        """Rebuild a model saved with :meth:`save` (``load(path, graph=None)``).

        Parameters
        ----------
        path : path-like
            The checkpoint folder.
        graph : RegionGraph or None
            If given, must be the graph the model was fitted on (same hash).

        Raises
        ------
        ModelStateError
            Not a GraphVAE checkpoint of this version, or a different graph.
        """
        import scipy.sparse as sp

        known = set(cls().get_params())
        unknown = sorted(set(config["params"]) - known)
        if unknown or "param.d_out" not in tensors:
            raise ModelStateError(
                f"'{path}' was written by crossscale {config.get('crossscale_version')} with a "
                f"different GraphVAE layout (parameters {unknown or 'of the old decoder'}); refit "
                "the model with this version."
            )
        model = cls(**config["params"])
        regions = pd.Index(config["regions"], name="region")
        n = len(regions)
        e, w = tensors["graph_edges"], tensors["graph_weights"]
        adj = sp.coo_matrix(
            (np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)
        )
        stored = RegionGraph(
            regions, adj, tensors["graph_coords"], tensors["graph_sphere"], kind=config["graph_kind"]
        )
        if graph is not None and graph.hash() != config["graph_hash"]:
            raise ModelStateError(
                f"The graph passed ({graph}) differs from the one the model at '{path}' was fitted on "
                f"({config['graph_kind']}, hash {config['graph_hash'][:12]}). Pass the same graph or none."
            )
        return model._set_fitted(
            seed=config["seed"], graph=stored, genes=pd.Index(config["genes"]),
            projection=Projection(tensors["gene_mean"], tensors["gene_scale"], tensors["basis"]),
            params={k.removeprefix("param."): v for k, v in tensors.items() if k.startswith("param.")},
            y_mean=config["y_mean"], y_scale=config["y_scale"], y_name=config["y_name"],
            history=None, n_epochs=config["n_epochs"], fit_time=float("nan"),
        )  # fmt: skip
