"""Posterior inference of a fitted ``SpreadMixtureVAE``: subtypes, parameters, predictive density.

:class:`SpreadInference` holds the methods that use a fitted model (``predict_proba``,
``predict``, ``transform``, ``score_samples``, ``score``) on top of the per-subject refined
posteriors of :mod:`~crossscale.models.spread.refine`; :class:`SpreadMixtureVAE` fits.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from crossscale._errors import ModelStateError, ParameterError
from crossscale._threads import torch_threads
from crossscale.models.spread import refine
from crossscale.models.spread.visits import VisitArrays, to_visit_arrays


class SpreadInference:
    """Inference methods of :class:`~crossscale.models.spread.SpreadMixtureVAE` (a mixin)."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise ModelStateError(
                "This SpreadMixtureVAE is not fitted yet; call fit(X) or SpreadMixtureVAE.load()."
            )

    def _tensors(self, arr: VisitArrays) -> tuple[Any, Any, Any]:
        import torch

        f = torch.float32
        return (torch.as_tensor(arr.y, dtype=f), torch.as_tensor(arr.dt, dtype=f),
                torch.as_tensor(arr.mask, dtype=f))  # fmt: skip

    def _posterior(self, arr: VisitArrays) -> dict[str, Any]:
        """:func:`~crossscale.models.spread.refine.subject_posteriors`, cached for the last input."""
        key = hashlib.sha1(
            arr.y.tobytes() + arr.dt.tobytes() + arr.mask.tobytes()
            + f"{self.posterior}/{self.lm_iter}".encode()
        ).hexdigest()  # fmt: skip
        cache = getattr(self, "_post_cache", None)
        if cache is not None and cache[0] == key and cache[1] is self.module_:
            return cache[2]
        with torch_threads(self.n_threads):
            out = refine.subject_posteriors(self.module_, *self._tensors(arr), self.posterior,
                                            self.lm_iter)  # fmt: skip
        self._post_cache = (key, self.module_, out)
        return out

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Posterior subtype probabilities.

        With ``posterior="laplace"`` these are ``softmax_k(log pi_k + log p(y | k))`` with the
        Laplace evidence of each subtype; with ``"amortised"`` the encoder's ``q(c | y)``.

        Returns
        -------
        proba : pandas.DataFrame, shape (n_subjects, K)
            Index ``subject``; columns ``subtype_0`` ...
        """
        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        p = self._posterior(arr)["resp"].numpy()
        return pd.DataFrame(
            p, index=arr.subjects, columns=[f"subtype_{k}" for k in range(self.n_subtypes)]
        )

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Most probable subtype of each subject, shape (n_subjects,)."""
        p = self.predict_proba(X)
        return pd.Series(p.to_numpy().argmax(1), index=p.index, name="subtype")

    def transform(self, X: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
        """Mechanism parameters of each subject under its most probable subtype, with intervals.

        Parameters
        ----------
        X : pandas.DataFrame
            Visits table as for :meth:`fit` (MultiIndex ``(subject, time)``, columns regions).
        level : float
            Coverage of the central posterior interval, in (0, 1).

        Returns
        -------
        params : pandas.DataFrame, shape (n_subjects, 3 + 4 * n_latent)
            ``subtype``, ``subtype_proba``, ``epicentre``, then for each of ``rho``, ``alpha``
            (Fisher-KPP) and ``onset``: posterior median, ``_low``/``_high`` bounds of the central
            interval (rates in 1/year, onset in years before the first visit) and
            ``_identified``. A latent that the subject's data alone (their Fisher information
            ``J^T J / sigma^2``, without the prior) would not pin down to a log-scale sd of
            :data:`IDENTIFIABILITY_SD` is not identified by the visits (e.g. rates and onset
            from a single visit, where only ``rho * t`` and ``alpha * t`` are constrained): its
            bounds are NaN and ``_identified`` is False, rather than an interval that only
            restates the (population) prior. A posterior median at a bound of the model's range
            (e.g. rho = 2 / year) is not identified either, and its estimate is NaN too.

        Raises
        ------
        ParameterError
            `level` outside (0, 1).
        """
        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ParameterError(f"level must be in (0, 1) (e.g. 0.95); got {level!r}.")
        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        return refine.parameter_table(self._posterior(arr), self.module_, self.epicentres_,
                                      arr.subjects, level)  # fmt: skip

    def score_samples(self, X: pd.DataFrame, *, n_importance: int | None = None) -> pd.Series:
        """Log predictive density ``log p(y_b)`` of each subject (nats; higher is better).

        ``logsumexp_k(log pi_k + log p(y_b | k))`` with each subtype's evidence from the refined
        Laplace posterior, corrected by importance sampling with `n_importance` draws from a
        Laplace-centred multivariate t (Burda et al. 2016). With ``posterior="amortised"`` the
        ELBO of the encoder's posterior (a lower bound, biased by the amortisation gap).

        Parameters
        ----------
        X : pandas.DataFrame
            Visits table as for :meth:`fit` (MultiIndex ``(subject, time)``, columns regions).
        n_importance : int or None
            Importance samples (default :attr:`n_importance`; 0: Laplace evidence only).
        """
        import torch

        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        m = self.module_
        gen = torch.Generator().manual_seed(int(self.seed_))
        y, dt, mask = self._tensors(arr)
        if self.posterior == "amortised":
            with torch.no_grad():
                lp = torch.stack(
                    [m.loss(y, dt, mask, generator=gen).elbo_per_subject for _ in range(8)]
                ).mean(0)  # fmt: skip
        else:
            n_is = self.n_importance if n_importance is None else int(n_importance)
            post = self._posterior(arr)
            with torch_threads(self.n_threads):
                lp = refine.log_predictive(m, post, y, dt, mask, n_is, gen)
        return pd.Series(lp.numpy(), index=arr.subjects, name="log_predictive")

    def score(self, X: pd.DataFrame) -> float:
        """Mean log predictive density per subject (held-out when `X` was not used to fit)."""
        return float(self.score_samples(X).mean())
