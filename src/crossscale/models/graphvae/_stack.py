"""Stacked training of GraphVAE models (no user API; see ``estimator.py``).

One call trains ``n_models`` independent networks as one tensor program: cross-validation folds x
maps x ensemble members. Inputs come from ``_projection`` (one projection per distinct training
set); the blend with ridge and the mean is ``_blend.fit_stack``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.models.graphvae._params import AUTO_EXTRA_COMPONENTS, AUTO_MAX_COMPONENTS
from crossscale.models.graphvae._projection import (
    Gram,
    Projection,
    expression_target,
    fold_inputs,
    select_components,
)
from crossscale.train.loop import fit_stacked, fit_then_refit
from crossscale.train.plan import TrainPlan
from crossscale.train.record import TrainHistory

PROTOCOLS = ("inductive", "transductive")

# Working memory of one stacked model of ~70 regions (activations, gradients, Adam state), per
# unit of (n_hidden + n_latent + n_inputs); used to split very large stacks into sub-stacks.
_BYTES_PER_MODEL_UNIT = 68 * 4 * 12


def max_stack(n_inputs: int, n_hidden: int, n_latent: int, memory_bytes: float) -> int:
    """How many models fit in one stack within `memory_bytes` of working memory."""
    unit = _BYTES_PER_MODEL_UNIT * (n_inputs + 4 * n_hidden + 4 * n_latent)
    return max(1, int(memory_bytes // unit))


def train_stack(
    est: Any,
    x: np.ndarray,
    x_index: np.ndarray,
    y: np.ndarray,
    train_masks: np.ndarray,
    graph: Any,
    *,
    protocol: str,
    seed: int,
    description: str,
    device: str,
    x_target: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], TrainHistory, np.ndarray, np.ndarray, np.ndarray]:
    """Train one model per row of `train_masks` with the hyper-parameters of `est`.

    Parameters
    ----------
    est : GraphVAE
        Supplies the hyper-parameters.
    x : numpy.ndarray, shape (n_distinct, n_regions, n_inputs)
        Encoder inputs, one per distinct projection (fold).
    x_index : numpy.ndarray of int, shape (n_models,)
        Row of `x` each model uses.
    y : numpy.ndarray, shape (n_models, n_regions)
        Standardised target map of each model.
    train_masks : numpy.ndarray of bool, shape (n_models, n_regions)
        Regions whose target each model sees.
    graph : RegionGraph
        Region graph (edges of the smoothness penalty and graph encoder).
    protocol : {"inductive", "transductive"}
        Inductive: the KL and smoothness terms and the graph encoder's propagation use only the
        training regions (held-out regions are reached only through their own input row).
    x_target : numpy.ndarray, shape (n_distinct, n_regions, n_expression), optional
        Expression target of the expression decoder (rows indexed by `x_index`, like `x`); used
        when ``est.expression_weight > 0``.
    seed : int
        Seed of the initial weights and the reparameterisation noise.
    device : str
        Torch device (``"cpu"``, ``"cuda"``).
    description : str
        Progress bar label.

    Returns
    -------
    params : dict of str to numpy.ndarray, each with leading dimension n_models
    history : TrainHistory
    y_mean, y_scale : numpy.ndarray, shape (n_models,)
        Standardisation of each model's target on its training regions.
    predictions : numpy.ndarray, shape (n_models, n_regions)
        Every region's prediction by each model, in the units of `y`.
    """
    import torch

    from crossscale.models.graphvae.module import (
        GraphVAEModule,
        gcn_normalized_adjacency,
        inductive_adjacency,
    )

    k = len(train_masks)
    rng = np.random.default_rng(seed)
    ym = np.array([row[m].mean() for row, m in zip(y, train_masks, strict=True)])
    ys = np.array([row[m].std() for row, m in zip(y, train_masks, strict=True)])
    ys = np.where(ys > 0, ys, 1.0)
    dtype = torch.float32
    y_t = torch.as_tensor((y - ym[:, None]) / ys[:, None], dtype=dtype, device=device)
    x_t = torch.as_tensor(x, dtype=dtype, device=device)
    idx = torch.as_tensor(x_index, device=device)
    alpha = float(getattr(est, "expression_weight", 0.0))
    n_expr = x_target.shape[-1] if (x_target is not None and alpha > 0) else 0
    t_t = torch.as_tensor(x_target, dtype=dtype, device=device) if n_expr else None
    edges = torch.as_tensor(graph.edges, dtype=torch.long, device=device)
    ew = torch.as_tensor(graph.edge_weights, dtype=dtype, device=device)
    inductive = protocol == "inductive"
    uses_graph = est.encoder != "mlp"
    a_hat = None
    if uses_graph:
        if inductive:
            adj = torch.as_tensor(graph.adjacency.toarray(), dtype=dtype)
            a_hat = inductive_adjacency(adj, torch.as_tensor(train_masks)).to(device)
        else:
            a_hat = gcn_normalized_adjacency(edges.cpu(), ew.cpu(), graph.n_regions).to(device)

    fit_masks, val_masks = train_masks.copy(), None
    if est.early_stopping and est.val_fraction > 0:
        val_masks = np.zeros_like(train_masks)
        for i, m in enumerate(train_masks):
            cand = np.flatnonzero(m)
            pick = rng.choice(cand, size=max(1, round(est.val_fraction * len(cand))), replace=False)
            val_masks[i, pick], fit_masks[i, pick] = True, False
    init_seed, noise_seed = int(rng.integers(2**31 - 1)), int(rng.integers(2**31 - 1))

    def build() -> Any:
        mod = GraphVAEModule(
            x.shape[-1], est.n_latent, est.n_hidden, k, encoder=est.encoder,
            activation=est.activation, decoder_layers=est.decoder_layers, dropout=est.dropout,
            generator=torch.Generator().manual_seed(init_seed), n_expression=n_expr,
        )  # fmt: skip
        return mod.to(device)

    def run(mod: Any, *, validate: bool, max_epochs: int | None = None,
            keep_epochs: np.ndarray | None = None) -> TrainHistory:  # fmt: skip
        masks = fit_masks if validate else train_masks
        val = val_masks if validate else None
        epochs = est.max_epochs if max_epochs is None else max_epochs
        desc = description if keep_epochs is None else description + " (refit)"
        gen = torch.Generator(device=device).manual_seed(noise_seed)
        tm = torch.as_tensor(masks, device=device)
        rm = tm if inductive else None
        em = (tm[:, edges[:, 0]] & tm[:, edges[:, 1]]) if inductive else None
        vm = torch.as_tensor(val, device=device).to(dtype) if val is not None else None
        x_shared = xs.dim() == 2  # one input matrix for every model (else one per model)
        a_shared = a_hat is None or a_hat.dim() == 2

        def pick(t: Any, models: Any, shared: bool = False) -> Any:
            """Rows of a per-model tensor for the models still training (all of them: no copy)."""
            return t if t is None or models is None or shared else t[models]

        def loss_fn(models: Any) -> Any:
            if est.dropout > 0:
                torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=device)))
            m = None if len(models) == k else models
            return mod.loss(pick(xs, m, x_shared), pick(y_t, m), pick(a_hat, m, a_shared), edges,
                            ew, pick(tm, m), smoothness=est.smoothness, beta=est.beta,
                            smoothness_on=est.smoothness_on, region_mask=pick(rm, m),
                            edge_mask=pick(em, m), generator=gen, models=m,
                            x_target=pick(ts, m, x_shared), alpha=alpha)  # fmt: skip

        def val_fn(models: Any) -> Any:
            m = None if len(models) == k else models
            pred = mod(pick(xs, m, x_shared), pick(a_hat, m, a_shared), m)
            v = pick(vm, m)
            return ((pred - pick(y_t, m)) ** 2 * v).sum(1) / v.sum(1).clamp_min(1.0)

        plan = TrainPlan(lr=est.lr, weight_decay=est.weight_decay, max_epochs=epochs,
                         patience=est.patience, min_epochs=min(est.min_epochs, epochs))  # fmt: skip
        return fit_stacked(mod, loss_fn, val_fn if vm is not None else None, n_models=k,
                           plan=plan, description=desc, keep_epochs=keep_epochs, subset=True)  # fmt: skip

    from crossscale._threads import single_thread

    xs = x_t[idx] if len(x_t) > 1 else x_t[0]
    ts = None if t_t is None else (t_t[idx] if len(t_t) > 1 else t_t[0])
    with single_thread(torch_too=device == "cpu"):
        # early stopping on held-out regions; with refit, the same procedure on all training
        # regions, each model stopped at its chosen epoch
        module, hist = fit_then_refit(build, run, validate=val_masks is not None, refit=est.refit)
        with torch.no_grad():
            pred = module(xs, a_hat).cpu().numpy() * ys[:, None] + ym[:, None]
    params = {n: p.detach().cpu().numpy() for n, p in module.named_parameters()}
    return params, hist, ym, ys, pred


def fit_network_stack(
    est: Any,
    values: np.ndarray,
    targets: np.ndarray,
    train_masks: np.ndarray,
    graph: Any,
    *,
    protocol: str,
    seed: int,
    description: str,
    device: str,
    visit: Callable[[np.ndarray, Gram], None] | None = None,
) -> tuple[dict[str, np.ndarray], Any, np.ndarray, np.ndarray, np.ndarray, list[Projection], np.ndarray]:
    """Train ``est.n_ensemble`` members per row of `train_masks` (rows of `targets` alike).

    `est` (a GraphVAE) supplies the hyper-parameters; with ``n_components="auto"`` it also
    receives ``n_components_chosen_`` (the axes kept per row). `visit`: passed to
    :func:`~crossscale.models.graphvae._projection.fold_inputs`.

    Returns params, history, y_mean, y_scale (per model), predictions (n_rows, n_regions;
    ensemble means), projections and the projection index of each row. Stacks larger than
    ``memory_gb`` are split into sub-stacks run one after the other.
    """
    if protocol not in PROTOCOLS:
        raise ParameterError(f"protocol must be one of {PROTOCOLS}; got {protocol!r}.")
    auto = est.n_components == "auto"
    x, projs, index = fold_inputs(
        values, train_masks, protocol=protocol,
        n_components=AUTO_MAX_COMPONENTS if auto else est.n_components, whiten=est.whiten,
        visit=visit,
    )  # fmt: skip
    target = expression_target(values, projs) if getattr(est, "expression_weight", 0) > 0 else None
    if auto:  # per model: the leading axes its own training targets support
        chosen = select_components(x, index, np.asarray(targets, float), train_masks,
                                   extra=AUTO_EXTRA_COMPONENTS)  # fmt: skip
        x = x[index].copy()
        target = None if target is None else target[index]
        x *= (np.arange(x.shape[-1])[None, :] < chosen[:, None])[:, None, :]
        projs = [Projection(projs[j].mean, projs[j].scale,
                            np.where(np.arange(projs[j].basis.shape[1]) < c, projs[j].basis, 0.0))
                 for j, c in zip(index, chosen, strict=True)]  # fmt: skip
        index = np.arange(len(chosen))
        est.n_components_chosen_ = chosen
    e = int(est.n_ensemble)
    rows = len(train_masks)
    # member j of row r is model r * e + j
    y_all = np.repeat(np.asarray(targets, float), e, axis=0)
    m_all = np.repeat(train_masks, e, axis=0)
    i_all = np.repeat(index, e)
    limit = max_stack(x.shape[-1], est.n_hidden, est.n_latent, est.memory_gb * 2**30)
    limit = max(e, limit - limit % e)
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, rows * e, limit):
        sl = slice(start, min(start + limit, rows * e))
        sub_seed = seed if start == 0 else int(rng.integers(2**31 - 1))
        parts.append(train_stack(
            est, x, i_all[sl], y_all[sl], m_all[sl], graph, protocol=protocol,
            seed=sub_seed, description=description, device=device, x_target=target,
        ))  # fmt: skip
    params = {n: np.concatenate([p[0][n] for p in parts]) for n in parts[0][0]}
    hist = parts[0][1]
    ym = np.concatenate([p[2] for p in parts])
    ys = np.concatenate([p[3] for p in parts])
    pred = np.concatenate([p[4] for p in parts]).reshape(rows, e, -1).mean(1)
    return params, hist, ym, ys, pred, projs, index


def module_from_params(est: Any, params: dict[str, np.ndarray], n_inputs: int) -> Any:
    """A GraphVAEModule in eval mode holding `params` (leading dimension n_models)."""
    import torch

    from crossscale.models.graphvae.module import GraphVAEModule

    k = next(iter(params.values())).shape[0]
    mod = GraphVAEModule(
        n_inputs, est.n_latent, est.n_hidden, k, encoder=est.encoder, activation=est.activation,
        decoder_layers=est.decoder_layers, dropout=0.0, generator=torch.Generator(),
        n_expression=params["x_out"].shape[-1] if "x_out" in params else 0,
    )  # fmt: skip
    with torch.no_grad():
        for name, p in mod.named_parameters():
            p.copy_(torch.as_tensor(params[name]))
    mod.eval()
    return mod
