"""GraphVAE loss of a subset of the stacked models (``models=``) with the expression decoder.

Null refits and cross-validation folds train many models in one stack and evaluate some of them
at a time; the expression reconstruction must then use the chosen models' decoders only.
"""

import pytest
import torch

from crossscale.models.graphvae.module import GraphVAEModule

N_REGIONS, N_INPUTS, N_EXPR = 5, 4, 3


def _module():
    return GraphVAEModule(N_INPUTS, 2, 6, 3, generator=torch.Generator().manual_seed(0),
                          n_expression=N_EXPR).double()  # fmt: skip


@pytest.mark.parametrize("chosen", [[2], [0, 2]])
def test_reconstruction_of_chosen_models_uses_their_decoders(chosen):
    torch.manual_seed(1)
    mod = _module()
    with torch.no_grad():  # decoders that differ from model to model
        mod.x_out.copy_(torch.randn_like(mod.x_out))
        mod.xb_out.copy_(torch.randn_like(mod.xb_out))
    models = torch.tensor(chosen)
    k = len(chosen)
    x = torch.randn(N_REGIONS, N_INPUTS, dtype=torch.float64)
    t = torch.randn(k, N_REGIONS, N_EXPR, dtype=torch.float64)
    y = torch.randn(k, N_REGIONS, dtype=torch.float64)
    mask = torch.ones(k, N_REGIONS, dtype=torch.bool)
    edges, w = torch.tensor([[0, 1]]), torch.tensor([1.0], dtype=torch.float64)
    rec = mod.loss(x, y, None, edges, w, mask, smoothness=0.0, beta=0.0, x_target=t, alpha=1.5,
                   generator=torch.Generator().manual_seed(3), models=models)  # fmt: skip
    mu, logvar = mod.inference(x, None, models)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3), dtype=mu.dtype)
    z = mu + torch.exp(0.5 * logvar) * eps  # the draw inside the loss
    by_hand = (((z @ mod.x_out[models] + mod.xb_out[models] - t) ** 2).sum(-1)).sum(-1)
    assert rec.reconstruction.shape == (k,)
    torch.testing.assert_close(rec.reconstruction, by_hand)
    # another model's decoder would give another value
    other = (((z @ mod.x_out[[1] * k] + mod.xb_out[[1] * k] - t) ** 2).sum(-1)).sum(-1)
    assert (other - by_hand).abs().min() > 1e-3


def test_missing_expression_target_is_refused_with_its_message():
    mod = _module()
    x = torch.randn(N_REGIONS, N_INPUTS, dtype=torch.float64)
    y = torch.zeros(3, N_REGIONS, dtype=torch.float64)
    mask = torch.ones(3, N_REGIONS, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"^alpha > 0 needs x_target and a module with n_expression > 0$"):
        mod.loss(x, y, None, torch.tensor([[0, 1]]), torch.tensor([1.0], dtype=torch.float64), mask,
                 smoothness=0.0, beta=0.0, alpha=1.0)  # fmt: skip
