"""Inference on a fitted GraphVAE: expression in, predicted map or latent programs out.

A mixin of :class:`~crossscale.models.graphvae.estimator.GraphVAE` (no user API of its own).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ModelStateError, ParameterError, RegionMismatchError
from crossscale.models._validation import align, check_expression
from crossscale.models.graphvae._stack import module_from_params


class FittedGraphVAE:
    """Methods that need a fitted model: ``predict``, ``transform`` and what they build on."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelStateError("This GraphVAE is not fitted yet; call fit(X, y, graph) first.")

    def standardized_expression(self, X: pd.DataFrame) -> np.ndarray:
        """Expression of the fitted regions and genes, standardised as in training.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
            Regional expression with the genes the model was fitted on.

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
        values = pred.mean(0).numpy().astype(float) * self.y_scale_ + self.y_mean_
        blend = getattr(self, "blend_", None)
        if blend is not None:  # the blend with ridge and the training mean
            a, b = blend["weights"]
            m = float(blend["y_mean"])
            raw = Z * self.projection_.scale + self.projection_.mean  # genes in their own units
            linear = raw @ blend["ridge_coef"] + float(blend["ridge_intercept"])
            values = m + a * (values - m) + b * (linear - m)
        return pd.Series(values, index=self.regions_, name=f"{self.y_name_} predicted")

    def _posterior_means(self, X: pd.DataFrame) -> np.ndarray:
        """Unrotated posterior means of every member, shape (n_members, n_regions, n_latent)."""
        import torch

        Z = self.standardized_expression(X)
        mod, a_hat = self.encoder_module()
        with torch.no_grad():
            mu, _ = mod.inference(torch.as_tensor(Z @ self.projection_.basis, dtype=torch.float32), a_hat)
        return mu.numpy().astype(float)

    def _set_program_rotation(self, X: pd.DataFrame) -> None:
        """Rotate the latent space of each member onto the principal axes of its programs.

        The ELBO is unchanged by a rotation of z (isotropic prior; the decoders absorb it), so
        the raw units of two refits are arbitrary rotations of each other. The programs reported
        by :meth:`transform` are instead ``(μ − c) R``: centred on the fitted regions' mean ``c``
        and rotated by the eigenvectors ``R`` of the covariance of ``μ`` across those regions
        (decreasing variance), each signed to correlate positively with the fitted prediction.
        They are uncorrelated by construction and identifiable up to ties of their variances.
        """
        mu = self._posterior_means(X)
        centers, rots = [], []
        pred = self.predict(X).to_numpy()
        for m in mu:
            c = m.mean(0)
            w, V = np.linalg.eigh(np.cov(m - c, rowvar=False).reshape(m.shape[1], m.shape[1]))
            V = V[:, np.argsort(w)[::-1]]
            P = (m - c) @ V
            r = (P - P.mean(0)).T @ (pred - pred.mean())
            V = V * np.where(r < 0, -1.0, 1.0)
            centers.append(c)
            rots.append(V)
        self.program_center_ = np.stack(centers)
        self.program_rotation_ = np.stack(rots)

    def transform(self, X: pd.DataFrame, *, member: int = 0) -> pd.DataFrame:
        """Latent programs (posterior means, rotated onto their principal axes) of each region.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
            Regional expression with the genes the model was fitted on.
        member : int, default 0
            Ensemble member whose programs to return (members' latent spaces are not aligned,
            so they are not averaged).

        Returns
        -------
        programs : pandas.DataFrame, shape (n_regions, n_latent)
            Columns ``z0`` … ``z{n_latent-1}``: ``(μ − c) R`` with ``c`` and ``R`` the centre
            and rotation learned at fit (``program_center_``, ``program_rotation_``), so ``z0``
            is the program with the largest variance across the fitted regions.
        """
        self._check_fitted()
        n_members = self.params_["w1"].shape[0]
        if not (isinstance(member, (int, np.integer)) and 0 <= member < n_members):
            raise ParameterError(f"member must be an integer in [0, {n_members}); got {member!r}.")
        mu = self._posterior_means(X)[member]
        if getattr(self, "program_rotation_", None) is not None:
            mu = (mu - self.program_center_[member]) @ self.program_rotation_[member]
        cols = [f"z{i}" for i in range(self.n_latent)]
        return pd.DataFrame(mu, index=self.regions_, columns=cols)
