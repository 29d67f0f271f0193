"""Choosing the number of subtypes by the held-out log predictive density (one-SE rule)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.models.spread._common import resolve_seed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubtypeSelection:
    """Held-out log predictive density for each candidate number of subtypes.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``n_subtypes``; columns ``heldout_loglik`` (mean log predictive density per held-out
        subject, nats), ``heldout_se`` (its standard error), ``diff_to_best`` and ``diff_se``
        (mean and standard error of the paired per-subject difference to the best K),
        ``within_1se``, ``train_loglik`` (mean Laplace log evidence of the training subjects
        after the last EM round), ``noise`` (fitted noise sd), ``fit_time_s`` and
        ``chosen_in_repeats`` (how many repeats chose this K).
    best : int
        The smallest K whose mean held-out score is within one standard error of the best K's
        (the one-standard-error rule; Hastie et al. 2009, sec. 7.10), on all repeats pooled.
    best_by_max : int
        K with the highest mean held-out score.
    repeats : list of int
        K chosen by the same rule in each repeat (its own split and seed).
    stability : float
        Fraction of repeats that chose `best`.
    scores : pandas.DataFrame
        Held-out log predictive density of every held-out subject (rows; repeat, subject) for
        every K (columns).
    """

    table: pd.DataFrame
    best: int
    best_by_max: int
    repeats: list[int]
    stability: float
    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json."""
        return {"best": self.best, "best_by_max": self.best_by_max, "repeats": self.repeats,
                "stability": self.stability,
                "table": self.table.reset_index().to_dict("records")}  # fmt: skip


def one_se_choice(scores: pd.DataFrame) -> tuple[int, int, pd.DataFrame]:
    """The one-standard-error rule on per-subject held-out scores.

    Parameters
    ----------
    scores : pandas.DataFrame, shape (n_subjects, n_candidates)
        Columns are the candidate K (ints); values per-subject log predictive densities.

    Returns
    -------
    best, best_by_max : int
        Smallest K whose mean score is within one standard error of the best K's mean
        (``mean_best - mean_K <= se_best``, the standard error of the best K's mean score over
        subjects), and the K with the highest mean. Consistent but tiny gains of extra subtypes
        (a fraction of a nat per subject, e.g. a second component that only reshapes the
        population prior) are thereby not enough to add a subtype.
    table : pandas.DataFrame
        Per K: ``heldout_loglik``, ``heldout_se``, ``diff_to_best``, ``diff_se`` (standard error
        of the paired difference, for reference), ``within_1se``.
    """
    n = len(scores)
    mean = scores.mean()
    kmax = int(mean.idxmax())
    diff = scores[kmax].to_numpy()[:, None] - scores.to_numpy()
    dmean = diff.mean(0)
    dse = diff.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(diff.shape[1])
    se = scores.std(ddof=1).to_numpy() / np.sqrt(n) if n > 1 else np.zeros(diff.shape[1])
    within = dmean <= se[list(scores.columns).index(kmax)] + 1e-12
    table = pd.DataFrame(
        {"heldout_loglik": mean.to_numpy(),
         "heldout_se": se,
         "diff_to_best": dmean, "diff_se": dse, "within_1se": within},
        index=pd.Index([int(k) for k in scores.columns], name="n_subtypes"),
    )  # fmt: skip
    best = int(table.index[within].min())
    return best, kmax, table


def select_n_subtypes(
    X: pd.DataFrame,
    graph=None,
    *,
    candidates: Sequence[int] = (1, 2, 3, 4),
    test_size: float = 0.3,
    n_repeats: int = 1,
    patience: int | None = None,
    random_state: int | None = None,
    **params: Any,
) -> SubtypeSelection:
    """Choose K by the log predictive density of held-out subjects, with a one-SE parsimony rule.

    For each repeat, a random `test_size` fraction of the subjects is held out; a
    :class:`SpreadMixtureVAE` is fitted for every K on the others, and every held-out subject is
    scored by ``log p(y) = logsumexp_k(log pi_k + log p(y | k))`` with its refined (Laplace +
    importance-sampled) posterior. The chosen K is the smallest one whose mean held-out score is
    within one standard error (of the best K's mean over subjects) of the best K: extra
    subtypes that do not predict new subjects better are not kept. Each repeat (its own split and
    seed) also chooses a K; :attr:`SubtypeSelection.stability` is the fraction that agree.

    Parameters
    ----------
    X : pandas.DataFrame
        Visits table as for :meth:`SpreadMixtureVAE.fit`.
    graph : RegionGraph or None
        Graph the pathology spreads on (default: the HCP structural connectome).
    candidates : sequence of int
        Values of K to try (>= 1, at most the number of training subjects).
    test_size : float
        Fraction of subjects held out, in (0, 1).
    n_repeats : int
        Independent splits (>= 1).
    patience : int or None
        Forward search: candidates are fitted in increasing order and the search stops after
        `patience` consecutive candidates whose mean held-out score does not exceed the best so
        far by more than its standard error (None: fit every candidate). Saves the fits of large
        K once extra subtypes stop helping; the rule is then applied to the fitted candidates.
    random_state : int or None
        Seed of the splits and fits (None: fresh entropy).
    **params
        Other :class:`SpreadMixtureVAE` parameters (``posterior`` must stay ``"laplace"``).

    Returns
    -------
    selection : SubtypeSelection

    Raises
    ------
    ParameterError
        Bad `test_size`, `n_repeats` or `candidates`.

    References
    ----------
    .. [1] Hastie T., Tibshirani R., Friedman J. (2009). The Elements of Statistical Learning,
       2nd ed., sec. 7.10 (one-standard-error rule).
    .. [2] Burda Y. et al. (2016). Importance weighted autoencoders. ICLR.
    """
    from crossscale.models.spread.estimator import SpreadMixtureVAE

    if not 0 < test_size < 1:
        raise ParameterError(f"test_size must be in (0, 1); got {test_size}.")
    if not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise ParameterError(f"n_repeats must be an integer >= 1; got {n_repeats!r}.")
    cands = sorted({int(k) for k in candidates})
    if not cands or cands[0] < 1:
        raise ParameterError(f"candidates must be integers >= 1; got {list(candidates)}.")
    if params.get("posterior", "laplace") != "laplace":
        raise ParameterError(
            "select_n_subtypes scores with the refined posterior; drop posterior=."
        )
    subj = X.index.get_level_values(0) if isinstance(X.index, pd.MultiIndex) else X.index
    subj = subj.astype(str)
    uniq = pd.unique(subj)
    n_test = max(1, int(round(test_size * len(uniq))))
    if len(uniq) - n_test < cands[-1]:
        raise ParameterError(
            f"{len(uniq)} subjects leave {len(uniq) - n_test} for training, fewer than the largest "
            f"candidate K={cands[-1]}; use fewer candidates or more subjects."
        )
    master = np.random.default_rng(resolve_seed(random_state))
    scanned: set[int] = set(cands)
    all_scores, chosen, extra = [], [], {k: {"train": [], "noise": [], "time": []} for k in cands}
    for r in range(int(n_repeats)):
        seed = int(master.integers(0, 2**31 - 1))
        rng = np.random.default_rng(seed)
        test = set(rng.choice(uniq, size=n_test, replace=False))
        is_test = np.isin(subj, list(test))
        cols: dict[int, pd.Series] = {}
        stale = 0
        for k in cands:
            if r > 0 and k not in scanned:
                break
            est = SpreadMixtureVAE(k, random_state=seed, **params).fit(X[~is_test], graph)
            cols[k] = est.score_samples(X[is_test])
            extra[k]["train"].append(float(est.em_history_["mean_log_evidence"].iloc[-1]))
            extra[k]["noise"].append(est.noise_)
            extra[k]["time"].append(est.fit_time_s_)
            if patience is not None and r == 0 and len(cols) > 1:
                frame = pd.DataFrame(cols)
                prev = frame.iloc[:, :-1]
                kbest = int(prev.mean().idxmax())
                se = float(prev[kbest].std(ddof=1) / np.sqrt(len(prev)))
                stale = 0 if frame[k].mean() > prev[kbest].mean() + se else stale + 1
                if stale >= patience:
                    break
        if r == 0:
            scanned = set(cols)
        sc = pd.DataFrame(cols)
        chosen.append(one_se_choice(sc)[0])
        sc.index = pd.MultiIndex.from_arrays([np.full(len(sc), r), sc.index],
                                             names=["repeat", "subject"])  # fmt: skip
        all_scores.append(sc)
    scores = pd.concat(all_scores)
    best, kmax, table = one_se_choice(scores)
    if patience is not None and n_repeats > 1:
        logger.info("Forward search: repeats > 1 fit the candidates the first repeat scanned.")
    table["train_loglik"] = [float(np.mean(extra[k]["train"])) for k in table.index]
    table["noise"] = [float(np.mean(extra[k]["noise"])) for k in table.index]
    table["fit_time_s"] = [float(np.mean(extra[k]["time"])) for k in table.index]
    table["chosen_in_repeats"] = [int(sum(c == k for c in chosen)) for k in table.index]
    logger.info(
        "K by held-out log predictive density (one-SE rule): %d (repeats: %s)", best, chosen
    )
    return SubtypeSelection(table=table, best=best, best_by_max=kmax, repeats=chosen,
                            stability=float(np.mean([c == best for c in chosen])),
                            scores=scores)  # fmt: skip
