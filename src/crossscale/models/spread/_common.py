"""Small helpers shared by the spread modules: seeds, priors and parameter checks."""

from __future__ import annotations

import math

import numpy as np

from crossscale._errors import ParameterError
from crossscale._validate import resolve_seed as _resolve_seed
from crossscale.models.spread.dynamics import check_model

POSTERIORS: tuple[str, ...] = ("laplace", "amortised")


def resolve_seed(random_state: int | np.random.Generator | None) -> int:
    """An int seed (see :func:`crossscale._validate.resolve_seed`)."""
    return _resolve_seed(random_state)


#: Default prior (mean, sd) of the log-scale latents: (log rho, log alpha, log onset) for
#: Fisher-KPP, (log rho, log onset) for network diffusion.
DEFAULT_PRIOR = {
    "fisher_kpp": ((math.log(0.1), math.log(0.5), math.log(10.0)), (0.5, 0.5, 0.5)),
    "diffusion": ((math.log(0.1), math.log(10.0)), (0.5, 0.5)),
}


def validate_params(self) -> None:
    """Check the parameters of a ``SpreadMixtureVAE`` (raises ParameterError naming the fix)."""
    def bad(name: str, allowed: str) -> ParameterError:
        return ParameterError(
            f"SpreadMixtureVAE: {name} must be {allowed}; got {getattr(self, name)!r}. "
            f"Pass a valid {name} to the constructor (or set_params)."
        )

    def is_int(v: object) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def is_num(v: object) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    check_model(self.model)
    if self.laplacian not in ("combinatorial", "normalized"):
        raise bad("laplacian", "'combinatorial' or 'normalized'")
    for name, low in (("n_subtypes", 1), ("n_hidden", 1), ("max_epochs", 1),
                      ("epicentre_updates", 0), ("n_candidates", 1), ("n_em", 0),
                      ("lm_iter", 1), ("n_importance", 0)):  # fmt: skip
        v = getattr(self, name)
        if not is_int(v) or v < low:
            raise bad(name, f"an integer >= {low}")
    if self.batch_size is not None and (not is_int(self.batch_size) or self.batch_size < 1):
        raise bad("batch_size", "None or an integer >= 1")
    if self.n_threads is not None and (not is_int(self.n_threads) or self.n_threads < 1):
        raise bad("n_threads", "None or an integer >= 1")
    for name in ("lr", "seed_mass"):
        v = getattr(self, name)
        if not is_num(v) or not math.isfinite(v) or v <= 0:
            raise bad(name, "a finite number > 0")
    if not is_num(self.kl_warmup) or not 0 <= self.kl_warmup <= 1:
        raise bad("kl_warmup", "a number in [0, 1]")
    if not is_num(self.assign_warmup) or not 0 <= self.assign_warmup < 1:
        raise bad("assign_warmup", "a number in [0, 1)")
    if self.posterior not in POSTERIORS:
        raise bad("posterior", " or ".join(repr(p) for p in POSTERIORS))
    rs = self.random_state
    if not (rs is None or is_int(rs) or isinstance(rs, np.random.Generator)):
        raise bad("random_state", "None, an int or a numpy.random.Generator")
    if self.max_epochs > 1_000_000:
        raise bad("max_epochs", "an integer from 1 to 1000000")
    if is_int(rs) and rs < 0:
        raise bad("random_state", "a non-negative int")
    if is_int(rs) and int(rs) > 2**32 - 1:
        raise bad("random_state", "an integer seed from 0 to 4294967295 (2**32 - 1)")
    d = len(DEFAULT_PRIOR[self.model][0])
    for name in ("prior_loc", "prior_scale"):
        v = getattr(self, name)
        if v is None:
            continue
        try:
            vals = [float(x) for x in v]
        except (TypeError, ValueError):
            raise bad(name, f"None or {d} numbers") from None
        if len(vals) != d:
            raise ParameterError(
                f"SpreadMixtureVAE: {name} must have {d} values for model={self.model!r} "
                f"(log rho{', log alpha' if d == 3 else ''}, log onset); got {len(vals)}."
            )
        if not all(math.isfinite(x) for x in vals) or (
            name == "prior_scale" and min(vals) <= 0
        ):
            raise bad(name, f"{d} finite numbers{' > 0' if name == 'prior_scale' else ''}")
