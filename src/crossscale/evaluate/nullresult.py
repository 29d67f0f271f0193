"""The result of null refits: observed statistics, null distributions and permutation p-values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crossscale._stats import p_value_upper

__all__ = ["NullResult", "make_result", "p_value_upper"]


@dataclass(frozen=True)
class NullResult:
    """Observed statistics of a fitted model and their null distributions from refits.

    Keys of `observed`, `null` and `p_values` are ``"<scheme>_<metric>"`` with scheme
    ``in_sample`` or ``cv`` (when cross-validated) and metric ``r2`` or ``r``, for example
    ``"cv_r"``.

    Attributes
    ----------
    observed : dict of str to float
        The statistic of the model fitted on the real map.
    null : dict of str to numpy.ndarray, shape (n_perm,)
        The statistic of the model refitted on each null map (NaN where undefined, for example r
        of a constant prediction).
    p_values : dict of str to float
        One-sided ``(1 + #{null >= observed}) / (1 + n_valid)`` over the finite null values.
    n_perm : int
        Number of null maps (or random gene sets).
    method : str
        How the nulls were made: ``"hungarian"`` (spin), ``"moran"``, ``"array"`` (given by the
        caller) or ``"random_genes"``.
    cv : str or None
        Cross-validation scheme of the ``cv_*`` statistics (``"spatial"``, ``"loro"``,
        ``"kfold10"`` …) or None.
    model : str
        Class name of the estimator.
    batched : bool
        Whether GraphVAE refits ran as stacked programs (False: one fit per null map).
    time_s : float
        Wall time of the refits (seconds).
    """

    observed: dict[str, float]
    null: dict[str, np.ndarray]
    p_values: dict[str, float]
    n_perm: int
    method: str
    cv: str | None = None
    model: str = ""
    batched: bool = True
    time_s: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<NullResult {self.summary()}>"

    def summary(self) -> str:
        """One line: each statistic, its p-value, and the null maps (never the null values)."""
        from crossscale.evaluate.metrics import NULL_STAT_LABELS

        stats = ", ".join(f"{NULL_STAT_LABELS.get(k, k)} {v:.3f} (p = {self.p_values[k]:.2g})"
                          for k, v in self.observed.items())  # fmt: skip
        cv = f", CV {self.cv}" if self.cv else ""
        return f"{self.model or 'model'}: {stats}; {self.n_perm} {self.method} nulls{cv}"

    @property
    def statistics(self) -> list[str]:
        """Statistic keys, in order."""
        return list(self.observed)

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: observed, p_value, null mean / sd / 95th percentile, n_valid."""
        rows = {}
        for key, obs in self.observed.items():
            null = self.null[key]
            finite = null[np.isfinite(null)]
            rows[key] = {
                "observed": obs,
                "p_value": self.p_values[key],
                "null_mean": float(finite.mean()) if finite.size else np.nan,
                "null_sd": float(finite.std()) if finite.size else np.nan,
                "null_q95": float(np.quantile(finite, 0.95)) if finite.size else np.nan,
                "n_valid": int(finite.size),
            }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "statistic"
        return frame

    def to_dict(self, *, include_null: bool = True) -> dict[str, Any]:
        """JSON-ready dict (null arrays as lists unless ``include_null=False``)."""
        out: dict[str, Any] = {
            "model": self.model, "method": self.method, "cv": self.cv, "n_perm": self.n_perm,
            "batched": self.batched, "time_s": self.time_s,
            "observed": {k: float(v) for k, v in self.observed.items()},
            "p_values": {k: float(v) for k, v in self.p_values.items()},
            "summary": self.to_frame().drop(columns=["observed", "p_value"]).to_dict(orient="index"),
        }  # fmt: skip
        if include_null:
            out["null"] = {
                k: [None if not np.isfinite(x) else float(x) for x in v]
                for k, v in self.null.items()
            }
        return out


def make_result(
    scores: np.ndarray,
    observed: np.ndarray,
    metrics: tuple[str, ...],
    cv_name: str | None,
    in_sample: bool = True,
    **kwargs: Any,
) -> NullResult:
    """A :class:`NullResult` from score columns (in-sample metrics, then CV metrics)."""
    keys = [f"in_sample_{m}" for m in metrics] if in_sample else []
    if cv_name is not None:
        keys += [f"cv_{m}" for m in metrics]
    obs = {k: float(v) for k, v in zip(keys, observed, strict=True)}
    null = {k: scores[:, j].copy() for j, k in enumerate(keys)}
    for v in null.values():
        v.setflags(write=False)
    pvals = {k: p_value_upper(null[k], obs[k]) for k in keys}
    return NullResult(observed=obs, null=null, p_values=pvals, cv=cv_name, **kwargs)
