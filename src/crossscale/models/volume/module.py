"""Gene-conditioned tissue morphology: gene-gene attention, gene feature pyramid, anisotropic 3D UNet.

Shapes: stains ``(B, n_stains, n_planes, H, W)`` standardised per stain; gene fields
``(B, n_genes, n_planes, H / r, W / r)`` with ``r`` stain pixels per gene bin. The plane axis
(two MERFISH imaging planes here) is never downsampled: 3D convolutions mix neighbouring planes
with kernel 3 along it, while down/up-sampling acts on the two in-plane axes only. MONAI's 3D
``DiffusionModelUNet`` halves every axis and therefore fails with 2 planes, which is why the UNet
is written here.

References
----------
.. [1] Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain simulation via spatial
   mRNA-guided diffusion. arXiv:2503.01220 (gene-gene attention, gene-morph UNet).
.. [2] Ho J., Jain A., Abbeel P. (2020). Denoising diffusion probabilistic models. NeurIPS.
.. [3] Ronneberger O., Fischer P., Brox T. (2015). U-Net. MICCAI.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps, shape (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / max(half, 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class PlaneConv(nn.Module):
    """Anisotropic (2+1)-D convolution of (B, C, P, H, W): 3x3 in-plane, then kernel 3 across planes.

    The in-plane part may stride (down-sampling H, W only); the plane axis keeps its size. The
    factorisation runs on 2-D convolutions, which are much faster on CPUs than ``Conv3d``.
    """

    def __init__(self, cin: int, cout: int, *, stride: int = 1, kernel: int = 3, mix_planes: bool = True) -> None:
        super().__init__()
        self.inplane = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)
        self.planes = nn.Conv2d(cout, cout, (3, 1), padding=(1, 0)) if mix_planes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, P, H, W) -> (B, cout, P, H / stride, W / stride)."""
        b, c, p, h, w = x.shape
        y = self.inplane(x.transpose(1, 2).reshape(b * p, c, h, w))
        c2, h2, w2 = y.shape[1:]
        y = y.reshape(b, p, c2, h2, w2).transpose(1, 2)
        if self.planes is None:
            return y
        return self.planes(y.reshape(b, c2, p, h2 * w2)).reshape(b, c2, p, h2, w2)


class Pointwise(nn.Module):
    """1x1x1 convolution of (B, C, P, H, W) as a channel matrix product."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / math.sqrt(cin))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, P, H, W) -> (B, cout, P, H, W)."""
        return torch.einsum("oc,bcphw->bophw", self.weight, x) + self.bias[:, None, None, None]


class GeneGeneAttention(nn.Module):
    """Self-attention whose tokens are genes.

    Token ``i`` is gene ``i``'s local field in the window, pooled to ``(n_planes, pool, pool)``,
    flattened and projected to `dim`, plus a learned gene embedding. The (n_genes x n_genes)
    attention weights mix the gene fields themselves: ``out_i = g_i + gamma * sum_j A_ij g_j``, so
    ``A_ij`` reads as "how much of gene j's field informs gene i's channel".

    Parameters
    ----------
    n_genes, n_planes : int
        Gene channels and imaging planes.
    dim : int
        Token width.
    pool : int
        In-plane size of the pooled field of each token (window-size agnostic).
    """

    def __init__(self, n_genes: int, n_planes: int, *, dim: int = 32, pool: int = 4) -> None:
        super().__init__()
        self.pool, self.n_planes = pool, n_planes
        self.embed = nn.Linear(n_planes * pool * pool, dim)
        self.gene_embedding = nn.Parameter(torch.randn(n_genes, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.gamma = nn.Parameter(torch.tensor(0.1))
        self.scale = dim**-0.5

    def weights(self, g: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, n_genes, n_genes); rows sum to 1."""
        b, n = g.shape[:2]
        pooled = F.adaptive_avg_pool3d(g, (self.n_planes, self.pool, self.pool)).reshape(b, n, -1)
        tok = self.norm(self.embed(pooled) + self.gene_embedding)
        logits = self.query(tok) @ self.key(tok).transpose(1, 2) * self.scale
        return torch.softmax(logits, dim=-1)

    def forward(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixed gene fields (same shape as `g`) and the attention weights (B, G, G)."""
        a = self.weights(g)
        mixed = torch.einsum("bij,bjphw->biphw", a, g)
        return g + self.gamma * mixed, a


class ResBlock3d(nn.Module):
    """GroupNorm-SiLU-conv residual block with a timestep shift; (2+1)-D kernels 3 on every axis."""

    def __init__(self, cin: int, cout: int, temb: int) -> None:
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(_groups(cin), cin), PlaneConv(cin, cout)
        self.t = nn.Linear(temb, cout)
        self.n2, self.c2 = nn.GroupNorm(_groups(cout), cout), PlaneConv(cout, cout)
        self.skip = Pointwise(cin, cout) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """(B, cin, P, H, W) -> (B, cout, P, H, W)."""
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(temb)[:, :, None, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + self.skip(x)


def _groups(c: int) -> int:
    for g in (8, 4, 2, 1):
        if c % g == 0:
            return g
    return 1


class GeneMorphUNet(nn.Module):
    """Anisotropic 3D UNet denoising all stains of all planes, conditioned on gene features.

    The gene fields pass the gene-gene attention block, a 1x1x1 projection, and a feature pyramid
    (one resampled, convolved copy per UNet level) that is concatenated to the UNet's features at
    every level of the encoder and decoder.

    Parameters
    ----------
    n_genes, n_stains, n_planes : int
        Input sizes.
    channels : tuple of int
        UNet widths per level; ``len(channels) - 1`` in-plane halvings, so windows must be
        multiples of ``2 ** (len(channels) - 1)`` stain pixels.
    gene_dim : int
        Width of the gene features at each pyramid level.
    attn_dim, attn_pool : int
        See :class:`GeneGeneAttention`.
    time_dim : int, optional
        Width of the sinusoidal timestep embedding (default ``channels[0]``); the embedding MLP
        is 4 times the larger of this and ``channels[0]`` wide.
    noisy_input : bool
        True for the diffusion model (input: noisy stains + timestep); False for the deterministic
        regression baseline (input: gene fields only, same backbone).
    """

    def __init__(
        self,
        n_genes: int,
        n_stains: int,
        n_planes: int,
        *,
        channels: tuple[int, ...] = (16, 32, 64),
        gene_dim: int = 16,
        attn_dim: int = 32,
        attn_pool: int = 4,
        time_dim: int | None = None,
        noisy_input: bool = True,
    ) -> None:
        super().__init__()
        self.channels, self.noisy_input = tuple(channels), noisy_input
        self.n_stains = n_stains
        self.time_dim = int(time_dim or channels[0])
        temb = max(channels[0], self.time_dim) * 4
        self.temb = nn.Sequential(nn.Linear(self.time_dim, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.attention = GeneGeneAttention(n_genes, n_planes, dim=attn_dim, pool=attn_pool)
        self.gene_in = Pointwise(n_genes, gene_dim)
        self.pyramid = nn.ModuleList(PlaneConv(gene_dim, gene_dim, mix_planes=False) for _ in channels)
        self.inp = PlaneConv(n_stains, channels[0])
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        prev = channels[0]
        for i, c in enumerate(channels):
            self.down_blocks.append(ResBlock3d(prev + gene_dim, c, temb))
            prev = c
            if i < len(channels) - 1:
                self.downs.append(PlaneConv(c, c, stride=2, mix_planes=False))
        self.mid = ResBlock3d(prev, prev, temb)
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(channels) - 1)):
            self.up_blocks.append(ResBlock3d(prev + channels[i] + gene_dim, channels[i], temb))
            prev = channels[i]
        self.out = nn.Sequential(
            nn.GroupNorm(_groups(prev), prev), nn.SiLU(), PlaneConv(prev, n_stains)
        )

    def gene_features(self, genes: torch.Tensor, size: tuple[int, int]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The gene feature pyramid at stain size `size` / 2**level, and the attention weights."""
        attn = self.attention.weights(genes)
        # gene_in(g + gamma * A g), computed as W g + gamma * (W A) g: never forms the mixed
        # (B, n_genes, P, h, w) tensor, which costs n_genes times more than the folded product.
        w = self.gene_in.weight
        wa = torch.einsum("ci,bij->bcj", w, attn)
        base = self.gene_in(genes) + self.attention.gamma * torch.einsum("bcj,bjphw->bcphw", wa, genes)
        feats = []
        for lvl, conv in enumerate(self.pyramid):
            hw = (size[0] >> lvl, size[1] >> lvl)
            f = F.interpolate(base, size=(base.shape[2], *hw), mode="trilinear", align_corners=False)
            feats.append(F.silu(conv(f)))
        return feats, attn

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, genes: torch.Tensor, *, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Predict the noise (diffusion) or the stains (regression).

        Parameters
        ----------
        x : torch.Tensor, shape (B, n_stains, n_planes, H, W)
            Noisy stains (ignored, may be zeros, when ``noisy_input`` is False).
        t : torch.Tensor, shape (B,)
            Integer timesteps.
        genes : torch.Tensor, shape (B, n_genes, n_planes, H / r, W / r)
            Scaled gene fields of the same window.
        return_attention : bool
            Also return the (B, n_genes, n_genes) gene-gene attention weights.

        Returns
        -------
        out : torch.Tensor, shape (B, n_stains, n_planes, H, W)
        """
        size = (x.shape[-2], x.shape[-1])
        k = 2 ** (len(self.channels) - 1)
        if size[0] % k or size[1] % k:
            raise ValueError(f"window {size} must be a multiple of {k} stain pixels")
        feats, attn = self.gene_features(genes, size)
        if not self.noisy_input:
            x = torch.zeros_like(x)
            t = torch.zeros_like(t)
        temb = self.temb(timestep_embedding(t, self.time_dim))
        h = self.inp(x)
        skips = []
        for i, block in enumerate(self.down_blocks):
            h = block(torch.cat([h, feats[i]], 1), temb)
            if i < len(self.downs):
                skips.append(h)
                h = self.downs[i](h)
        h = self.mid(h, temb)
        for j, block in enumerate(self.up_blocks):
            lvl = len(self.channels) - 2 - j
            h = F.interpolate(h, scale_factor=(1, 2, 2), mode="nearest")
            h = block(torch.cat([h, skips[lvl], feats[lvl]], 1), temb)
        out = self.out(h)
        return (out, attn) if return_attention else out
