"""Building and training the amortised ``SpreadMixtureVAE`` module by the shared plan.

The policy (Adam, cosine schedule, clipping, KL and assignment warm-ups) is
:mod:`crossscale.train.plan`'s; this module only says what one step's loss is.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from crossscale._errors import RegionMismatchError
from crossscale.models.spread import refine
from crossscale.models.spread._common import DEFAULT_PRIOR
from crossscale.models.spread.dynamics import graph_laplacian
from crossscale.models.spread.initialisation import init_epicentres
from crossscale.train.plan import TrainPlan, fit_epochs, in_warmup, linear_warmup
from crossscale.train.record import TrainHistory


def train_plan(est: Any) -> TrainPlan:
    """The plan of the amortised phase.

    Adam at ``est.lr``, cosine schedule to 5% of it over ``est.max_epochs``, gradient norm
    clipped to 100.
    """
    return TrainPlan(lr=est.lr, max_epochs=est.max_epochs, schedule="cosine",
                     final_lr_factor=0.05, clip_norm=100.0)  # fmt: skip


def build_module(est: Any, arr: Any, graph: Any, production: pd.Series | None, seed: int):
    """The module with its initial epicentres (:func:`init_epicentres`), and the initial labels.

    Raises
    ------
    RegionMismatchError
        `production` is not indexed by the graph's regions.
    """
    import torch

    from crossscale.models.spread.module import SpreadMixtureModule

    regions = list(graph.regions)
    prod = None
    if production is not None:
        production = pd.Series(production)
        if set(production.index) != set(regions):
            raise RegionMismatchError("production must be indexed by the graph's regions.")
        prod = torch.as_tensor(production.loc[regions].to_numpy(float), dtype=torch.float32)
    lap = graph_laplacian(graph, est.laplacian)
    loc, scale = DEFAULT_PRIOR[est.model]
    loc = tuple(est.prior_loc) if est.prior_loc is not None else loc
    scale = tuple(est.prior_scale) if est.prior_scale is not None else scale
    seeds, init_labels = init_epicentres(arr.y, arr.mask, lap, est.n_subtypes, seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module = SpreadMixtureModule(
            torch.as_tensor(lap, dtype=torch.float32), est.n_subtypes, model=est.model,
            prior_loc=loc, prior_scale=scale, n_hidden=est.n_hidden,
            seed_mass=est.seed_mass, production=prod,
        )  # fmt: skip
    module.seeds.copy_(torch.as_tensor(seeds))
    return module, init_labels


def train_amortised(est: Any, module, y, dt, mask, init_labels, generator) -> TrainHistory:
    """Train encoder and decoders on the negative ELBO by :func:`train_plan`.

    Each epoch is one pass over the subjects in shuffled mini-batches of ``est.batch_size``; the
    KL weight rises over the first ``est.kl_warmup`` of the epochs
    (:func:`~crossscale.train.plan.linear_warmup`); during the first ``est.assign_warmup``
    (:func:`~crossscale.train.plan.in_warmup`) subjects are held to their initial clusters;
    ``est.epicentre_updates`` coordinate-ascent updates of the epicentres are spread over the
    epochs after that warm-up.
    """
    import torch

    s = y.shape[0]
    bs = min(s, est.batch_size if est.batch_size is not None else 256)
    n_batches = math.ceil(s / bs)
    fixed_q = torch.nn.functional.one_hot(
        torch.as_tensor(init_labels, dtype=torch.long), est.n_subtypes
    ).to(torch.float32)
    n_warm = int(est.assign_warmup * est.max_epochs)
    update_at = {
        n_warm + int((est.max_epochs - n_warm) * i / max(1, est.epicentre_updates))
        for i in range(est.epicentre_updates)
    }

    def steps(epoch: int):
        kl_w = linear_warmup(epoch, est.kl_warmup, est.max_epochs)
        held = in_warmup(epoch, est.assign_warmup, est.max_epochs)
        perm = torch.randperm(s, generator=generator) if n_batches > 1 else torch.arange(s)
        for b in range(n_batches):
            idx = perm[b * bs : (b + 1) * bs]
            yield module.loss(y[idx], dt[idx], mask[idx], generator=generator, kl_weight=kl_w,
                              fixed_q=fixed_q[idx] if held else None)  # fmt: skip

    def on_epoch(epoch: int) -> None:
        if epoch in update_at:
            refine.update_epicentres(module, y, dt, mask, est.n_candidates)

    return fit_epochs(module, train_plan(est), steps, on_epoch=on_epoch,
                      description="Fitting SpreadMixtureVAE")  # fmt: skip
