"""GraphVAE's presets, parameter checks and small helpers (no user API; see ``estimator.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale._device import check_device, resolve_device
from crossscale._errors import ParameterError, RegionMismatchError
from crossscale._validate import resolve_seed
from crossscale.atlas.graph import RegionGraph

#: The configuration of the reference model (Vaithianathan 2026) as crossscale reads it: a
#: two-layer GCN encoder over the region graph on the full standardised expression, ReLU, an MLP
#: decoder, λ = 0.1 latent smoothness, β = 0.01, early stopping on held-out regions.
REFERENCE_PARAMS: dict[str, Any] = {
    "n_latent": 8, "n_hidden": 32, "n_components": None, "whiten": False, "encoder": "gcn",
    "activation": "relu", "decoder_layers": 1, "smoothness": 0.1, "smoothness_on": "latent",
    "expression_weight": 0.0, "beta": 0.01, "dropout": 0.1, "lr": 1e-3, "weight_decay": 1e-4, "max_epochs": 1000,
    "early_stopping": True, "patience": 100, "min_epochs": 100, "val_fraction": 0.2,
    "refit": True, "n_ensemble": 1, "shrinkage": "none",
}  # fmt: skip
PRESETS = ("default", "reference")
#: the most principal axes n_components="auto" considers
AUTO_MAX_COMPONENTS = 25
#: axes added to the linear proxy's choice: the nonlinear encoder uses a few more than
#: principal-component regression (AD map: PRESS chooses ~12, the encoder is best at ~15)
AUTO_EXTRA_COMPONENTS = 3


def _resolve_device(device: str) -> str:
    return resolve_device(device)


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
    return resolve_seed(random_state)


SHRINKAGE = ("stack", "fixed", "auto", "scaled", "none")


def _is_weights(w: Any) -> bool:
    try:
        a, b = (float(v) for v in w)
    except (TypeError, ValueError):
        return False
    return a >= 0 and b >= 0 and a + b <= 1 + 1e-9


def check_params(self: Any) -> None:
    """Validate every parameter of a GraphVAE (see :meth:`GraphVAE.check_params`).

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
        ("expression_weight", self.expression_weight, self.expression_weight >= 0, ">= 0"),
        ("dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
        ("lr", self.lr, self.lr > 0, "> 0"),
        ("weight_decay", self.weight_decay, self.weight_decay >= 0, ">= 0"),
        ("max_epochs", self.max_epochs, is_int(self.max_epochs, 1), "an integer >= 1"),
        ("patience", self.patience, is_int(self.patience, 1), "an integer >= 1"),
        ("min_epochs", self.min_epochs, is_int(self.min_epochs, 0), "an integer >= 0"),
        ("val_fraction", self.val_fraction, 0 <= self.val_fraction < 0.5, "in [0, 0.5)"),
        ("n_ensemble", self.n_ensemble, is_int(self.n_ensemble, 1), "an integer >= 1"),
        ("shrinkage", self.shrinkage, self.shrinkage in SHRINKAGE, "'stack', 'fixed', 'auto', 'scaled' or 'none'"),
        ("blend_weights", self.blend_weights, _is_weights(self.blend_weights),
         "two numbers (a, b) with a, b >= 0 and a + b <= 1"),
        ("spatial_residual", self.spatial_residual, isinstance(self.spatial_residual, (bool, np.bool_))
         or self.spatial_residual == "auto", "True, False or 'auto'"),
        ("memory_gb", self.memory_gb, self.memory_gb > 0, "> 0"),
    ]  # fmt: skip
    rs = self.random_state
    checks += [
        ("random_state", rs, rs is None or isinstance(rs, np.random.Generator)
         or (is_int(rs, 0) and rs <= 2**32 - 1), "None or an integer seed from 0 to 4294967295"),
        ("max_epochs", self.max_epochs, is_int(self.max_epochs, 1) and self.max_epochs <= 1_000_000,
         "an integer from 1 to 1000000"),
    ]  # fmt: skip
    for name, value, ok, allowed in checks:
        if not ok:
            raise ParameterError(
                f"GraphVAE parameter '{name}' must be {allowed}; got {value!r}."
            )
    check_device(self.device, option="device")  # 'auto' resolved at fit time (no torch import)
