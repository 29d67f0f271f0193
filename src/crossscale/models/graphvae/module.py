"""Maths of the graph-regularised variational autoencoder (torch ``nn.Module``; no I/O, no policy).

The module holds ``n_models`` independent copies of the network as stacked parameters, so that
cross-validation folds, seeds or null refits train as one tensor program. With ``n_models = 1``
it is the single model of the reference.

Model (Vaithianathan 2026, after Kipf & Welling 2016/2017):

* encoder: two graph convolutions over the region graph,
  ``H = ReLU(X W1ʳ + Â X W1 + b1)``, ``μ = Â H Wμ + bμ``, ``log σ² = Â H Wσ + bσ``, where
  ``Â = D^-1/2 (A + I) D^-1/2`` (GCN normalisation) and ``X`` the standardised expression. The
  first layer has a root weight ``W1ʳ`` for the region's own profile (GraphConv, Morris et al.
  2019): with plain GCN aggregation a region's own expression weighs only 1/(degree+1) and,
  on the AHBA data, neighbour-averaged expression predicts atrophy much worse than the region's
  own (ridge LORO R² 0.33 vs 0.60);
* latent program of region i: ``q(z_i) = N(μ_i, σ_i²)``;
* decoder: an MLP ``ŷ_i = MLP(z_i)``;
* loss: ``Σ_i (ŷ_i − y_i)² + λ Σ_(i,j)∈E w_ij ‖μ_i − μ_j‖² + β Σ_i KL(q(z_i) ‖ N(0, I))``, every term a
  sum over regions (or edges), so that λ and β weigh the penalties against the summed squared
  error (with a mean squared error, λ = 0.1 summed over ~175 edges swamps the data term).

The first layer's gene weights are parametrised in the row space of the training expression matrix
(``W1 = V W1'``, ``V`` the right singular vectors of ``X``): for inputs in that space this is the same
function class as an unconstrained ``W1`` (``X W1 = X V Vᵀ W1``), 13x cheaper with 889 genes and 68
regions. Keeping only the leading singular vectors (the estimator's ``n_components``) restricts
the first layer to the main axes of expression variation (a regulariser). The gene-space weights
``V W1'`` are available for interpretation.

References
----------
.. [1] Kipf T.N., Welling M. (2017). Semi-supervised classification with graph convolutional
   networks. ICLR.
.. [2] Kipf T.N., Welling M. (2016). Variational graph auto-encoders. NIPS Bayesian Deep Learning
   Workshop.
.. [3] Kingma D.P., Welling M. (2014). Auto-encoding variational Bayes. ICLR.
.. [4] Vaithianathan (2026). arXiv 2606.05870 (the reference model).
.. [5] Morris C. et al. (2019). Weisfeiler and Leman go neural: higher-order graph neural
   networks. AAAI (GraphConv with root weight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class LossRecord:
    """Per-model loss terms, each of shape (n_models,)."""

    total: Tensor
    mse: Tensor
    smoothness: Tensor
    kl: Tensor

    def detached(self) -> dict[str, Tensor]:
        """Terms detached from the graph, as a dict."""
        return {k: getattr(self, k).detach() for k in ("total", "mse", "smoothness", "kl")}


def gcn_normalized_adjacency(edges: Tensor, weights: Tensor, n_nodes: int) -> Tensor:
    """Dense ``D^-1/2 (A + I) D^-1/2`` computed with torch_geometric's ``gcn_norm``.

    Parameters
    ----------
    edges : Tensor, shape (n_edges, 2)
        Undirected edges (each once).
    weights : Tensor, shape (n_edges,)
        Edge weights.
    n_nodes : int

    Returns
    -------
    a_hat : Tensor, shape (n_nodes, n_nodes)
        Dense: with ~70 regions dense products are faster than sparse message passing.
    """
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    ei = torch.cat([edges.T, edges.T.flip(0)], dim=1).long()
    w = torch.cat([weights, weights]).to(torch.get_default_dtype())
    ei, w = gcn_norm(ei, w, num_nodes=n_nodes, add_self_loops=True)
    a_hat = torch.zeros(n_nodes, n_nodes, dtype=w.dtype)
    a_hat.index_put_((ei[1], ei[0]), w, accumulate=True)
    return a_hat


def _init(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class GraphVAEModule(nn.Module):
    """Stacked graph-convolutional VAE encoders with MLP decoders.

    Parameters
    ----------
    n_inputs : int
        Input dimension after projection (rank of the expression matrix).
    n_latent : int
        Latent programs per region.
    n_hidden : int
        Width of the hidden graph-convolution layer and of the decoder's hidden layer.
    n_models : int
        Independent copies trained together.
    dropout : float
        Dropout on the hidden layer during training.
    generator : torch.Generator
        Seeds the initial weights.
    fan_in : int or None
        Fan-in used to scale the first layer's initial weights (the number of genes when the
        inputs are projected on the row space of the expression matrix); default `n_inputs`.
    """

    def __init__(
        self,
        n_inputs: int,
        n_latent: int,
        n_hidden: int,
        n_models: int,
        *,
        dropout: float,
        generator: torch.Generator,
        fan_in: int | None = None,
    ) -> None:
        super().__init__()
        k, g, h, z = n_models, n_inputs, n_hidden, n_latent
        p = {
            "w1": ((k, g, h), fan_in or g), "w1_root": ((k, g, h), fan_in or g),
            "b1": ((k, 1, h), fan_in or g),
            "w_mu": ((k, h, z), h), "b_mu": ((k, 1, z), h),
            "w_lv": ((k, h, z), h), "b_lv": ((k, 1, z), h),
            "d1": ((k, z, h), z), "db1": ((k, 1, h), z),
            "d2": ((k, h, 1), h), "db2": ((k, 1, 1), h),
        }  # fmt: skip
        for name, (shape, fan_in) in p.items():
            self.register_parameter(name, nn.Parameter(_init(shape, fan_in, generator)))
        with torch.no_grad():  # start with small posterior variances
            self.b_lv.fill_(-2.0)
        self.n_models, self.n_latent, self.dropout = n_models, n_latent, dropout

    def inference(self, x: Tensor, a_hat: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior parameters.

        Parameters
        ----------
        x : Tensor, shape (n_regions, n_inputs)
            Projected standardised expression (shared by all models).
        a_hat : Tensor, shape (n_regions, n_regions)

        Returns
        -------
        mu, logvar : Tensor, shape (n_models, n_regions, n_latent)
        """
        ax = a_hat @ x  # (n, g): Â X W1 = (Â X) W1
        h = torch.einsum("ng,kgh->knh", ax, self.w1) + torch.einsum("ng,kgh->knh", x, self.w1_root)
        h = torch.relu(h + self.b1)
        if self.training and self.dropout > 0:
            h = nn.functional.dropout(h, self.dropout)
        ah = torch.einsum("nm,kmh->knh", a_hat, h)
        mu = ah @ self.w_mu + self.b_mu
        logvar = (ah @ self.w_lv + self.b_lv).clamp(-10.0, 5.0)
        return mu, logvar

    def generative(self, z: Tensor) -> Tensor:
        """Decoder: predicted (standardised) vulnerability.

        Parameters
        ----------
        z : Tensor, shape (n_models, n_regions, n_latent)

        Returns
        -------
        y_hat : Tensor, shape (n_models, n_regions)
        """
        h = torch.relu(z @ self.d1 + self.db1)
        return (h @ self.d2 + self.db2).squeeze(-1)

    def forward(self, x: Tensor, a_hat: Tensor) -> Tensor:
        """Deterministic prediction from the posterior means, shape (n_models, n_regions)."""
        mu, _ = self.inference(x, a_hat)
        return self.generative(mu)

    def loss(
        self,
        x: Tensor,
        y: Tensor,
        a_hat: Tensor,
        edges: Tensor,
        edge_weights: Tensor,
        train_mask: Tensor,
        *,
        smoothness: float,
        beta: float,
        generator: torch.Generator | None = None,
    ) -> LossRecord:
        """Loss of each model on its training regions.

        Parameters
        ----------
        x : Tensor, shape (n_regions, n_inputs)
        y : Tensor, shape (n_models, n_regions)
            Standardised targets (each model may standardise with its own training regions).
        a_hat : Tensor, shape (n_regions, n_regions)
        edges : Tensor, shape (n_edges, 2)
        edge_weights : Tensor, shape (n_edges,)
        train_mask : Tensor of bool, shape (n_models, n_regions)
            Regions whose target enters the MSE of each model.
        smoothness : float
            λ, weight of the graph smoothness penalty (sum over edges of ‖μ_i − μ_j‖²).
        beta : float
            β, weight of the KL term (sum over regions and latent dimensions).
        generator : torch.Generator or None
            Seeds the reparameterisation noise.

        Returns
        -------
        LossRecord
        """
        mu, logvar = self.inference(x, a_hat)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + std * eps
        y_hat = self.generative(z)
        m = train_mask.to(y.dtype)
        sse = ((y_hat - y) ** 2 * m).sum(1)
        diff = mu[:, edges[:, 0], :] - mu[:, edges[:, 1], :]
        smooth = (edge_weights * (diff**2).sum(-1)).sum(-1)
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp())).sum(-1).sum(-1)
        total = sse + smoothness * smooth + beta * kl
        mse = sse.detach() / m.sum(1).clamp_min(1.0)
        return LossRecord(total=total, mse=mse, smoothness=smooth, kl=kl)
