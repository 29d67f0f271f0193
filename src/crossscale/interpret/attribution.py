"""Gene attributions of a fitted GraphVAE: integrated gradients and program loadings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attribution:
    """Integrated-gradients attribution of a GraphVAE's prediction to its input genes.

    Attributes
    ----------
    per_region : pandas.DataFrame, shape (n_regions, n_genes)
        ``A[i, g]``: attribution of gene `g` (its standardised expression in every region) to the
        prediction of region `i`, in the units of the map. Rows sum to ``f_i(X) − f_i(baseline)``.
    importance : pandas.Series, shape (n_genes,)
        ``mean_i |A[i, g]|``: how much of the prediction gene `g` carries, averaged over regions.
    signed : pandas.Series, shape (n_genes,)
        ``mean_i A[i, g]``: mean signed contribution (positive: raises the predicted map).
    prediction, baseline_prediction : pandas.Series, shape (n_regions,)
        ``f(X)`` and ``f(baseline)`` in map units.
    completeness_error : float
        ``max_i |Σ_g A[i, g] − (f_i(X) − f_i(baseline))|`` (Riemann error of the path integral).
    n_steps : int
    """

    per_region: pd.DataFrame
    importance: pd.Series
    signed: pd.Series
    prediction: pd.Series
    baseline_prediction: pd.Series
    completeness_error: float
    n_steps: int

    def to_frame(self) -> pd.DataFrame:
        """Genes x (importance, signed, rank), sorted by importance."""
        df = pd.DataFrame({"importance": self.importance, "signed": self.signed})
        df["rank"] = df["importance"].rank(ascending=False, method="min").astype(int)
        return df.sort_values("rank")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (top 20 genes)."""
        top = self.to_frame().head(20)
        return {
            "n_steps": self.n_steps,
            "completeness_error": self.completeness_error,
            "top_genes": top.reset_index().to_dict(orient="records"),
        }


def _module_and_inputs(model: Any, X: pd.DataFrame) -> tuple[Any, Any, Any, Any]:
    """Rebuild the fitted module; return (module, Z tensor, basis tensor, Â or None)."""
    import torch

    mod, a_hat = model.encoder_module()
    Z = model.standardized_expression(X)
    return (
        mod,
        torch.as_tensor(Z, dtype=torch.float32),
        torch.as_tensor(model.projection_.basis, dtype=torch.float32),
        a_hat,
    )


def integrated_gradients(
    model: Any,
    X: pd.DataFrame,
    *,
    n_steps: int = 64,
    baseline: pd.DataFrame | None = None,
) -> Attribution:
    """Integrated gradients of each region's predicted value with respect to the genes.

    With a graph encoder (``"gcn"``, ``"graphconv"``) the prediction of region `i` depends on the
    expression of its graph neighbourhood; with the MLP encoder (the default) on its own
    expression only, and the computation uses that (one gradient per step instead of a Jacobian).
    The attribution of gene `g` to region `i` sums the path integral
    over all input regions, ``A[i, g] = Σ_r (Z_rg − Z'_rg) ∫₀¹ ∂f_i/∂Z_rg(Z' + α(Z − Z')) dα``,
    with `Z` the standardised expression (the model's first layer sees ``Z V``, the projection on
    the row space of the training expression, and the gradient flows through it). The default
    baseline ``Z' = 0`` is every gene at its mean expression in every region. The integral is a
    midpoint Riemann sum over `n_steps`; completeness (rows of `A` sum to ``f(X) − f(Z')``) is
    checked and reported. With a blend (``shrinkage`` other than ``"none"``) the attribution is of the
    blended prediction: ``a`` times the network's plus ``b`` times the ridge path's (exact, linear).

    Parameters
    ----------
    model : GraphVAE
        Fitted model.
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Expression the model was fitted on (same regions and genes).
    n_steps : int, default 64
        Riemann steps along the path.
    baseline : pandas.DataFrame or None
        Baseline expression (same shape as `X`); default the per-gene mean.

    Returns
    -------
    Attribution

    Raises
    ------
    ParameterError
        If `n_steps` < 1.

    References
    ----------
    .. [1] Sundararajan M., Taly A., Yan Q. (2017). Axiomatic attribution for deep networks. ICML.
    """
    import torch

    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ParameterError(f"n_steps must be an integer >= 1; got {n_steps!r}.")
    mod, Z, basis, a_hat = _module_and_inputs(model, X)
    if baseline is None:
        Z0 = torch.zeros_like(Z)
    else:
        _, Z0, _, _ = _module_and_inputs(model, baseline)
    scale = float(model.y_scale_)

    def f(z: Any) -> Any:
        return mod(z @ basis, a_hat).mean(0)  # ensemble mean (one member: itself)

    from crossscale._threads import single_thread

    local = getattr(model, "encoder", "gcn") == "mlp"
    with single_thread():
        delta = Z - Z0
        if local:
            # no message passing: region i's prediction depends on its own expression only, so
            # the Jacobian is block-diagonal and the gradient of the sum gives every block at once
            grads = torch.zeros_like(Z)
            for k in range(n_steps):
                z = (Z0 + (k + 0.5) / n_steps * delta).requires_grad_(True)
                (g,) = torch.autograd.grad(f(z).sum(), z)
                grads += g
            A = grads / n_steps * delta * scale  # (n_regions, n_genes)
        else:
            grads = torch.zeros((Z.shape[0],) + tuple(Z.shape), dtype=torch.float32)
            for k in range(n_steps):
                alpha = (k + 0.5) / n_steps
                jac = torch.autograd.functional.jacobian(f, Z0 + alpha * delta, vectorize=True)
                grads += jac
            A = (grads / n_steps * delta[None]).sum(1) * scale  # (n_out, n_genes)
        with torch.no_grad():
            fx, f0 = f(Z) * scale, f(Z0) * scale
    A_np = A.numpy().astype(float)
    pred = fx.numpy().astype(float) + model.y_mean_
    pred0 = f0.numpy().astype(float) + model.y_mean_
    blend = getattr(model, "blend_", None)
    if blend is not None:
        # the nested-CV blend ŷ = m + a (ŷ_VAE − m) + b (ŷ_ridge − m) is linear in the network's
        # output and the ridge path is linear in Z: its integrated gradients are exact
        a, b = (float(w) for w in blend["weights"])
        m = float(blend["y_mean"])
        w_z = model.projection_.scale * blend["ridge_coef"]  # ridge weights on standardised genes
        lin0 = float(model.projection_.mean @ blend["ridge_coef"] + blend["ridge_intercept"])
        Zn, Z0n = Z.numpy().astype(float), Z0.numpy().astype(float)
        A_np = a * A_np + b * (Zn - Z0n) * w_z
        pred = m + a * (pred - m) + b * (Zn @ w_z + lin0 - m)
        pred0 = m + a * (pred0 - m) + b * (Z0n @ w_z + lin0 - m)
    err = float(np.max(np.abs(A_np.sum(1) - (pred - pred0))))
    regions, genes = model.regions_, model.genes_
    per_region = pd.DataFrame(A_np, index=regions, columns=genes)
    return Attribution(
        per_region=per_region,
        importance=per_region.abs().mean(axis=0).rename("importance"),
        signed=per_region.mean(axis=0).rename("signed"),
        prediction=pd.Series(pred, index=regions, name="prediction"),
        baseline_prediction=pd.Series(pred0, index=regions, name="baseline_prediction"),
        completeness_error=err,
        n_steps=int(n_steps),
    )


def program_loadings(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """Gene loadings of each latent program: Pearson r across regions of gene and program.

    Parameters
    ----------
    model : GraphVAE
        Fitted model.
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression the model was fitted on (same genes).

    Returns
    -------
    loadings : pandas.DataFrame, shape (n_genes, n_latent)
        Columns ``z0`` …; correlation in [-1, 1] (NaN for constant genes).

    References
    ----------
    .. [1] Hawrylycz M. et al. (2015). Canonical genetic signatures of the adult human brain.
       Nat Neurosci 18, 1832-1844 (loadings as gene-component correlations).
    """
    Z = model.transform(X)
    G = X.loc[Z.index, list(model.genes_)].to_numpy(dtype=float)
    P = Z.to_numpy(dtype=float)
    Gc, Pc = G - G.mean(0), P - P.mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Gc.T @ Pc) / np.outer(np.linalg.norm(Gc, axis=0), np.linalg.norm(Pc, axis=0))
    return pd.DataFrame(r, index=model.genes_, columns=Z.columns)


def program_importance(model: Any, X: pd.DataFrame, *, n_steps: int = 64) -> pd.DataFrame:
    """How much of the prediction each latent program carries (integrated gradients on the decoder).

    For each region, the decoder's prediction from the posterior mean ``μ_i`` is attributed to
    the latent programs along a straight path from the mean program vector over regions.

    Parameters
    ----------
    model : GraphVAE
        Fitted model.
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression the model was fitted on (same genes).
    n_steps : int, default 64
        Steps of the integrated-gradient path (Riemann sum).

    Returns
    -------
    importance : pandas.DataFrame, shape (n_latent, 3)
        Index ``z0`` …; columns ``importance`` (mean over regions of ``|attribution|``, map units),
        ``share`` (fraction of the total), ``signed`` (mean signed attribution); sorted by
        importance.

    References
    ----------
    .. [1] Sundararajan M., Taly A., Yan Q. (2017). Axiomatic attribution for deep networks. ICML.
    """
    import torch

    mod, Z, basis, a_hat = _module_and_inputs(model, X)
    with torch.no_grad():
        mu, _ = mod.inference(Z @ basis, a_hat)
    mu = mu[0]  # programs of ensemble member 0, as GraphVAE.transform
    base = mu.mean(0, keepdim=True).expand_as(mu)
    delta = mu - base
    total = torch.zeros_like(mu)
    for k in range(n_steps):
        z = (base + (k + 0.5) / n_steps * delta).detach().requires_grad_(True)
        out = mod.generative(z[None].expand(mod.n_models, -1, -1))[0].sum()
        (g,) = torch.autograd.grad(out, z)
        total += g
    A = (total / n_steps * delta).detach().numpy() * float(model.y_scale_)
    R = getattr(model, "program_rotation_", None)
    if R is not None:  # programs are (μ − c) R: the same straight path, in rotated coordinates
        grad = (total / n_steps).detach().numpy() @ R[0]
        A = grad * (delta.detach().numpy() @ R[0]) * float(model.y_scale_)
    cols = [f"z{i}" for i in range(model.n_latent)]
    imp = np.abs(A).mean(0)
    df = pd.DataFrame(
        {"importance": imp, "share": imp / imp.sum(), "signed": A.mean(0)}, index=cols
    )
    df.index.name = "program"
    return df.sort_values("importance", ascending=False)
