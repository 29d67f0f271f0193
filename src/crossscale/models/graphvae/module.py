"""Maths of the graph-regularised variational autoencoder (torch ``nn.Module``; no I/O, no policy).

The module holds ``n_models`` independent copies of the network as stacked parameters, so that
cross-validation folds, seeds, ensemble members or null refits train as one tensor program. Each
model may see its own inputs (``x`` of shape (n_models, n_regions, n_inputs)): under the inductive
protocol every fold standardises and projects the expression with its own training regions.

Model (Vaithianathan 2026, after Kipf & Welling 2016/2017):

* inputs: each region's standardised expression projected on the leading principal axes of the
  training expression (optionally whitened), ``x_i``;
* encoder, one of
  - ``"mlp"``: ``H = φ(x W1 + b1)``, ``μ = H Wμ + bμ``, ``log σ² = H Wσ + bσ``;
  - ``"gcn"`` (the reference): ``H = φ(Â X W1 + b1)``, ``μ = Â H Wμ + bμ``, ``log σ² = Â H Wσ + bσ``
    with ``Â = D^-1/2 (A + I) D^-1/2`` (Kipf & Welling 2017);
  - ``"graphconv"``: the GCN with a root weight in the first layer,
    ``H = φ(X W1ʳ + Â X W1 + b1)`` (Morris et al. 2019);
* latent program of region i: ``q(z_i) = N(μ_i, σ_i²)``;
* decoders: the map, an MLP with ``decoder_layers`` hidden layers, ``ŷ_i = MLP(z_i)``; and
  (with ``n_expression > 0``) the expression, linear, ``x̂_i = z_i V + c`` — p(x | z) beside
  p(y | z), as in a supervised VAE (scVI's decoder reconstructs the counts the same way), so
  that the programs must be axes of transcriptomic variation and not one direction that serves
  the map alone. The expression target is the region's standardised genes expressed in the
  orthonormal principal axes of the training expression (unwhitened scores divided by
  √n_genes), so that ``‖x̂_i − x_i‖²`` equals the mean squared error per standardised gene up
  to the variance outside those axes (a constant);
* loss: ``Σ_i (ŷ_i − y_i)² + α Σ_i ‖x̂_i − x_i‖² + λ Σ_(i,j)∈E w_ij ‖s_i − s_j‖²
  + β Σ_i KL(q(z_i) ‖ N(0, I))``, with
  ``s = μ`` (smoothness of the latent programs, the reference) or ``s = ŷ`` (smoothness of the
  decoded map); every term a sum over regions (or edges), so that λ and β weigh the penalties
  against the summed squared error. Masks restrict each term to what the model may see.

φ is the activation (softplus, ReLU, tanh or the identity).

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
.. [6] Lopez R. et al. (2018). Deep generative modeling for single-cell transcriptomics. Nat
   Methods 15, 1053-1058 (scVI: the decoder reconstructs the expression).
.. [7] Kingma D.P. et al. (2014). Semi-supervised learning with deep generative models. NIPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from crossscale.train.record import LossRecord as BaseLossRecord

ENCODERS = ("mlp", "gcn", "graphconv")
ACTIVATIONS = ("softplus", "relu", "tanh", "identity")


@dataclass(frozen=True)
class LossRecord(BaseLossRecord):
    """Per-model loss terms, each of shape (n_models,); ``loss`` carries the gradient."""

    mse: Tensor
    smoothness: Tensor
    kl: Tensor
    reconstruction: Tensor | None = None


def gcn_normalized_adjacency(edges: Tensor, weights: Tensor, n_nodes: int) -> Tensor:
    """Dense ``D^-1/2 (A + I) D^-1/2`` computed with torch_geometric's ``gcn_norm``.

    Parameters
    ----------
    edges : Tensor, shape (n_edges, 2)
        Undirected edges (each once).
    weights : Tensor, shape (n_edges,)
        Edge weights.
    n_nodes : int
        Number of nodes (regions).

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


def inductive_adjacency(adjacency: Tensor, train_masks: Tensor) -> Tensor:
    """Propagation matrices that never pass a held-out region's features to another region.

    Training regions aggregate over the training subgraph (GCN normalisation of it); a held-out
    region aggregates its own features and those of its training neighbours (row-normalised),
    so no model's prediction for one region depends on the expression of another held-out one.

    Parameters
    ----------
    adjacency : Tensor, shape (n_regions, n_regions)
        Symmetric weighted adjacency without self-loops.
    train_masks : Tensor of bool, shape (n_models, n_regions)
        Training regions of each stacked model.

    Returns
    -------
    a_hat : Tensor, shape (n_models, n_regions, n_regions)
    """
    m = train_masks.to(adjacency.dtype)
    a_tt = adjacency[None] * m[:, :, None] * m[:, None, :]
    eye = torch.eye(adjacency.shape[0], dtype=adjacency.dtype)[None]
    a_tt = a_tt + eye * m[:, :, None]
    d = a_tt.sum(-1).clamp_min(1e-12).rsqrt() * m
    sym = d[:, :, None] * a_tt * d[:, None, :]
    # held-out rows: self + training neighbours, row-normalised
    rows = adjacency[None] * m[:, None, :] + eye
    rows = rows / rows.sum(-1, keepdim=True)
    held = (1 - m)[:, :, None]
    return sym * (1 - held) + rows * held


def _init(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


def _activation(name: str):  # noqa: ANN202
    return {
        "softplus": nn.functional.softplus,
        "relu": torch.relu,
        "tanh": torch.tanh,
        "identity": lambda t: t,
    }[name]


def _propagate(a_hat: Tensor, h: Tensor) -> Tensor:
    """``Â H`` for a shared (n, n) or per-model (k, n, n) ``Â`` and H of shape (k, n, d)."""
    if a_hat.dim() == 2:
        return torch.einsum("nm,kmd->knd", a_hat, h)
    return torch.bmm(a_hat, h)


class GraphVAEModule(nn.Module):
    """Stacked VAE encoders (MLP or graph-convolutional) with MLP decoders.

    Parameters
    ----------
    n_inputs : int
        Input dimension (principal axes of expression).
    n_latent : int
        Latent programs per region.
    n_hidden : int
        Width of the encoder's hidden layer and of the decoder's hidden layers.
    n_models : int
        Independent copies trained together.
    encoder : {"mlp", "gcn", "graphconv"}
    activation : {"softplus", "relu", "tanh", "identity"}
    decoder_layers : int
        Hidden layers of the decoder (0 = linear decoder).
    dropout : float
        Dropout on the encoder's hidden layer during training.
    generator : torch.Generator
        Seeds the initial weights.
    fan_in : int or None
        Fan-in used to scale the first layer's initial weights; default `n_inputs`.
    n_expression : int, default 0
        Dimension of the expression target of the linear expression decoder p(x | z) (0: none).
    """

    def __init__(
        self,
        n_inputs: int,
        n_latent: int,
        n_hidden: int,
        n_models: int,
        *,
        encoder: str = "mlp",
        activation: str = "softplus",
        decoder_layers: int = 1,
        dropout: float = 0.0,
        generator: torch.Generator,
        fan_in: int | None = None,
        n_expression: int = 0,
    ) -> None:
        super().__init__()
        k, g, h, z = n_models, n_inputs, n_hidden, n_latent
        p: dict[str, tuple[tuple[int, ...], int]] = {
            "w1": ((k, g, h), fan_in or g), "b1": ((k, 1, h), fan_in or g),
            "w_mu": ((k, h, z), h), "b_mu": ((k, 1, z), h),
            "w_lv": ((k, h, z), h), "b_lv": ((k, 1, z), h),
        }  # fmt: skip
        if encoder == "graphconv":
            p["w1_root"] = ((k, g, h), fan_in or g)
        width = z
        for i in range(decoder_layers):
            p[f"d{i + 1}"] = ((k, width, h), width)
            p[f"db{i + 1}"] = ((k, 1, h), width)
            width = h
        p["d_out"] = ((k, width, 1), width)
        p["db_out"] = ((k, 1, 1), width)
        if n_expression:
            p["x_out"] = ((k, z, n_expression), z)
            p["xb_out"] = ((k, 1, n_expression), z)
        for name, (shape, fi) in p.items():
            self.register_parameter(name, nn.Parameter(_init(shape, fi, generator)))
        with torch.no_grad():  # start with small posterior variances
            self.b_lv.fill_(-2.0)
        self.n_models, self.n_latent, self.dropout = n_models, n_latent, dropout
        self.encoder, self.decoder_layers = encoder, decoder_layers
        self.n_expression = n_expression
        self._act = _activation(activation)

    def _w(self, name: str, models: Tensor | None) -> Tensor:
        p = getattr(self, name)
        return p if models is None else p[models]

    def inference(
        self, x: Tensor, a_hat: Tensor | None = None, models: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Posterior parameters.

        Parameters
        ----------
        x : Tensor, shape (n_regions, n_inputs) or (n, n_regions, n_inputs)
            Projected standardised expression (shared by all models, or one per model; with
            `models`, one per selected model).
        a_hat : Tensor, shape (n_regions, n_regions) or (n, n_regions, n_regions), or None
            Propagation matrix of the graph encoders (ignored by the MLP encoder).
        models : Tensor of int, shape (n,), optional
            Evaluate only these stacked models (default all).

        Returns
        -------
        mu, logvar : Tensor, shape (n, n_regions, n_latent)
        """
        w = lambda name: self._w(name, models)  # noqa: E731
        if x.dim() == 2:
            x = x.expand(self.n_models if models is None else len(models), *x.shape)
        if self.encoder == "mlp":
            h = torch.bmm(x, w("w1"))
        else:
            if a_hat is None:
                raise ValueError(f"the '{self.encoder}' encoder needs the propagation matrix a_hat")
            h = torch.bmm(_propagate(a_hat, x), w("w1"))
            if self.encoder == "graphconv":
                h = h + torch.bmm(x, w("w1_root"))
        h = self._act(h + w("b1"))
        if self.training and self.dropout > 0:
            h = nn.functional.dropout(h, self.dropout)
        if self.encoder != "mlp":
            h = _propagate(a_hat, h)
        mu = torch.bmm(h, w("w_mu")) + w("b_mu")
        logvar = (torch.bmm(h, w("w_lv")) + w("b_lv")).clamp(-10.0, 5.0)
        return mu, logvar

    def generative(self, z: Tensor, models: Tensor | None = None) -> Tensor:
        """Decoder: predicted (standardised) vulnerability.

        Parameters
        ----------
        z : Tensor, shape (n, n_regions, n_latent)
            Latent programs (samples or posterior means).
        models : Tensor of int, shape (n,), optional
            The stacked models `z` belongs to (default all).

        Returns
        -------
        y_hat : Tensor, shape (n, n_regions)
        """
        h = z
        for i in range(self.decoder_layers):
            h = self._act(h @ self._w(f"d{i + 1}", models) + self._w(f"db{i + 1}", models))
        return (h @ self._w("d_out", models) + self._w("db_out", models)).squeeze(-1)

    def expression(self, z: Tensor, models: Tensor | None = None) -> Tensor:
        """Linear expression decoder: ``x̂ = z V + c``.

        Parameters
        ----------
        z : Tensor, shape (n, n_regions, n_latent)
            Latent programs of each stacked model.
        models : Tensor of int, shape (n,), optional
            Which stacked models' decoders to use (default: all, in order).

        Returns
        -------
        x_hat : Tensor, shape (n, n_regions, n_expression)
        """
        if not self.n_expression:
            raise ValueError("this module has no expression decoder (n_expression=0)")
        return z @ self._w("x_out", models) + self._w("xb_out", models)

    def forward(
        self, x: Tensor, a_hat: Tensor | None = None, models: Tensor | None = None
    ) -> Tensor:
        """Deterministic prediction from the posterior means, shape (n_models, n_regions)."""
        mu, _ = self.inference(x, a_hat, models)
        return self.generative(mu, models)

    def loss(
        self,
        x: Tensor,
        y: Tensor,
        a_hat: Tensor | None,
        edges: Tensor,
        edge_weights: Tensor,
        train_mask: Tensor,
        *,
        smoothness: float,
        beta: float,
        smoothness_on: str = "latent",
        region_mask: Tensor | None = None,
        edge_mask: Tensor | None = None,
        generator: torch.Generator | None = None,
        models: Tensor | None = None,
        x_target: Tensor | None = None,
        alpha: float = 0.0,
    ) -> LossRecord:
        """Loss of each model on its training regions.

        Parameters
        ----------
        x : Tensor, shape (n_regions, n_inputs) or (n_models, n_regions, n_inputs)
            Encoder inputs, shared by the models or one per model.
        y : Tensor, shape (n_models, n_regions)
            Standardised targets (each model may standardise with its own training regions).
        a_hat : Tensor or None
            As in :meth:`inference`.
        edges : Tensor, shape (n_edges, 2)
            Undirected edges of the region graph (each once).
        edge_weights : Tensor, shape (n_edges,)
            Their weights.
        train_mask : Tensor of bool, shape (n_models, n_regions)
            Regions whose target enters the squared error of each model.
        smoothness : float
            λ, weight of the graph smoothness penalty (sum over edges of ``w_ij ‖s_i − s_j‖²``).
        beta : float
            β, weight of the KL term (sum over regions and latent dimensions).
        smoothness_on : {"latent", "prediction"}
            ``s = μ`` (the reference) or ``s = ŷ`` (the decoded map).
        region_mask : Tensor of bool, shape (n_models, n_regions), optional
            Regions whose KL enters the loss (default all).
        edge_mask : Tensor of bool, shape (n_models, n_edges), optional
            Edges whose smoothness enters the loss (default all).
        generator : torch.Generator or None
            Seeds the reparameterisation noise.
        models : Tensor of int, shape (n,), optional
            Only these stacked models (the other per-model arguments are then for them alone).
        x_target : Tensor, shape (n_regions, n_expression) or (n_models, n_regions, n_expression)
            Expression the expression decoder reconstructs (needed when ``alpha > 0``).
        alpha : float, default 0
            α, weight of the expression reconstruction (summed squared error over regions in
            `region_mask`, default all, and expression dimensions).

        Returns
        -------
        LossRecord
        """
        mu, logvar = self.inference(x, a_hat, models)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        z = mu + std * eps
        y_hat = self.generative(z, models)
        m = train_mask.to(y.dtype)
        sse = ((y_hat - y) ** 2 * m).sum(1)
        recon = None
        if alpha > 0:
            if x_target is None or not self.n_expression:
                raise ValueError("alpha > 0 needs x_target and a module with n_expression > 0")
            rm = region_mask.to(y.dtype) if region_mask is not None else torch.ones_like(m)
            recon = (((self.expression(z, models) - x_target) ** 2).sum(-1) * rm).sum(1)
        if smoothness > 0 and len(edges):
            s = mu if smoothness_on == "latent" else self.generative(mu, models)[..., None]
            diff = ((s[:, edges[:, 0], :] - s[:, edges[:, 1], :]) ** 2).sum(-1)
            w = edge_weights[None] * (edge_mask.to(y.dtype) if edge_mask is not None else 1.0)
            smooth = (w * diff).sum(-1)
        else:
            smooth = torch.zeros_like(sse)
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp())).sum(-1)
        if region_mask is not None:
            kl = kl * region_mask.to(y.dtype)
        kl = kl.sum(-1)
        total = sse + smoothness * smooth + beta * kl
        if recon is not None:
            total = total + alpha * recon
            recon = recon.detach()
        mse = sse.detach() / m.sum(1).clamp_min(1.0)
        return LossRecord(loss=total, mse=mse, smoothness=smooth.detach(), kl=kl.detach(),
                          reconstruction=recon)
