"""Methods text of the built-in regional models, generated from their ``get_params()``.

Registered as the ``methods`` of their :mod:`crossscale.models.registry` entry; the report calls
it with a ``cite`` function that numbers the references.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["graphvae_methods"]


def _cands() -> str:
    from crossscale.models.graphvae._shrink import STACK_CANDIDATES

    return " and ".join(f"({a:g}, {b:g})" for a, b in STACK_CANDIDATES)


def _stack_min_r2() -> float:
    from crossscale.models.graphvae._shrink import STACK_MIN_R2

    return STACK_MIN_R2


def _stack_folds() -> int:
    from crossscale.models.graphvae._shrink import STACK_FOLDS

    return STACK_FOLDS


def graphvae_methods(p: Mapping[str, Any], cite: Callable[..., str]) -> str:
    """The GraphVAE paragraph (HTML), generated from the fitted model's ``get_params()`` `p`.

    `cite(*keys)` returns the numbered citation of keys of
    :data:`crossscale.report.methods.REFERENCES`.
    """
    act = {"softplus": "softplus", "relu": "ReLU", "tanh": "tanh", "identity": "identity"}[
        p.get("activation", "relu")
    ]
    nc = p.get("n_components")
    white = " (whitened to unit variance)" if p.get("whiten") else ""
    if nc == "auto":
        inputs = (
            "the leading principal axes of the standardised expression of the training regions"
            f"{white}, their number chosen for every fold as the one minimising the leave-one-out "
            "error (PRESS) of principal-component regression on that fold's training regions, "
            "plus 3 (at most 25),"
        )
    elif nc:
        inputs = f"the leading {nc} principal axes of the standardised expression of the training regions{white}"
    else:
        inputs = "the full standardised expression (all principal axes)"
    enc = {
        "mlp": f"a one-hidden-layer perceptron ({p['n_hidden']} {act} units; no message passing)",
        "gcn": f"two graph convolutions {cite('gcn')} ({p['n_hidden']} {act} units)",
        "graphconv": f"two graph convolutions {cite('gcn')} with a root weight in the first "
        f"({p['n_hidden']} {act} units)",
    }[p.get("encoder", "gcn")]
    smooth_on = "μ" if p.get("smoothness_on", "latent") == "latent" else "ŷ"
    if p.get("early_stopping"):
        policy = (
            f"at most {p['max_epochs']} epochs, the number chosen by early stopping on "
            f"{int(100 * p['val_fraction'])}% of the training regions (patience {p['patience']}), "
            + ("then refitted on all training regions" if p.get("refit") else "")
        )
    else:
        policy = f"a fixed {p['max_epochs']} epochs (no early stopping)"
    ens = (
        f" Each prediction is the mean of {p['n_ensemble']} independently initialised members."
        if p.get("n_ensemble", 1) > 1
        else ""
    )
    resid = (
        " Out of sample, the harmonic interpolation over the region graph of the training "
        "residuals was added to each held-out region (regression kriging)."
        if p.get("spatial_residual") and p.get("spatial_residual") != "auto"
        else ""
    )
    if p.get("spatial_residual") == "auto" and p.get("shrinkage") == "stack":
        resid_stack = (" Out of sample, where the network-led blend was chosen, the harmonic "
                       "interpolation over the region graph of the training residuals was added to "
                       "each held-out region (regression kriging).")  # fmt: skip
    else:
        resid_stack = ""
    lam = float(p.get("smoothness", 0.0))
    encoder = p.get("encoder", "gcn")
    alpha = float(p.get("expression_weight", 0.0) or 0.0)
    if lam > 0:
        name = f"The graph-regularised VAE {cite('vaithianathan2026')}"
    elif encoder != "mlp":
        name = (f"A graph-convolutional VAE (the model of {cite('vaithianathan2026')} without "
                "its smoothness penalty, λ = 0)")  # fmt: skip
    else:
        name = (f"A VAE without any graph term (MLP encoder, λ = 0; the model of "
                f"{cite('vaithianathan2026')} without its graph regularisation)")  # fmt: skip
    decoders = f"decodes it with an MLP ({p.get('decoder_layers', 1)} hidden layer(s)) into the map"
    recon = ""
    if alpha > 0:
        decoders += (
            " and with a linear decoder into the region's standardised gene expression (a "
            f"generative model of the expression as well as of the map, as scVI's decoder {cite('scvi2018')})"
        )
        recon = f" + α Σ<sub>regions</sub> (mean squared error per standardised gene) (α = {alpha:g})"
    smooth = (
        f" + λ Σ<sub>edges</sub> w<sub>ij</sub> ‖{smooth_on}<sub>i</sub> − {smooth_on}<sub>j</sub>‖² "
        f"(λ = {lam:g})" if lam > 0 else ""
    )
    shrink = p.get("shrinkage", "none")
    a, b = (float(v) for v in p.get("blend_weights", (0.3, 0.6)))
    mix = (f"ȳ + a (ŷ<sub>VAE</sub> − ȳ) + b (ŷ<sub>ridge</sub> − ȳ) of the network, ridge "
           f"regression {cite('ridge')} and the training mean ȳ")  # fmt: skip
    blend = {
        "none": "",
        "fixed": (f" Each prediction is the fixed blend {mix}, with (a, b) = ({a:g}, {b:g}) chosen "
                  "once on 36 public case-control maps (ADNI2 baseline atrophy, ENIGMA cortical "
                  "thickness) and never on the map being fitted."),
        "scaled": (f" Each prediction is the blend {mix}, with (a, b) = s ({a:g}, {b:g}) (the weights "
                   "chosen once on 36 public case-control maps) and the shrinkage factor "
                   "s ∈ {0, 0.1, …, 1} chosen for every fold by a 5-block spatial cross-validation "
                   f"on its training regions only {cite('breiman1996')}."),
        "stack": (f" Each prediction is the blend {mix}, with (a, b) chosen for every fold between "
                  f"{_cands()} by a {_stack_folds()}-fold cross-validation (random folds, one network "
                  f"per inner fit) on its training regions only {cite('breiman1996')}, the first "
                  f"only where its inner-CV R² was at least {_stack_min_r2():g}; the candidate "
                  "blends and that threshold were fixed once on 36 public case-control maps (ADNI2 "
                  "baseline atrophy, ENIGMA cortical thickness)."),
        "auto": (f" Each prediction is the blend {mix}, with a, b ≥ 0, a + b ≤ 1 chosen for every "
                 "fold by a 5-block spatial cross-validation on its training regions only "
                 f"{cite('breiman1996')}."),
    }.get(shrink, "")  # fmt: skip
    return (
        f"{name} encodes {inputs} of each region with {enc} into a Gaussian latent program of "
        f"{p['n_latent']} dimensions {cite('vae')}, {decoders}, and minimises the summed squared "
        f"error of the map{recon}{smooth} + β KL (β = {p['beta']}) with Adam (learning rate "
        f"{p['lr']}, weight decay {p['weight_decay']}), full batch, for {policy}.{ens}{resid}{blend}{resid_stack}"
    )
