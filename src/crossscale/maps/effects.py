r"""Case-control effect sizes per region from subject-level tables (ENIGMA protocol).

For each region a linear model ``value ~ 1 + group + covariates`` is fitted by ordinary least
squares (one QR factorisation shared by every region without missing values, so 100,000 subjects
x 68 regions take well under a second). The group coefficient's t statistic is turned into
Cohen's d as in the ENIGMA analysis scripts (Nakagawa & Cuthill 2007, Table 3, eq. 10):

.. math::

    d = \frac{t\,(n_1 + n_2)}{\sqrt{n_1 n_2}\,\sqrt{\mathrm{df}}}, \qquad
    \mathrm{se}(d) = \sqrt{\frac{n_1 + n_2}{n_1 n_2} + \frac{d^2}{2 (n_1 + n_2 - 2)}},

with :math:`n_1` cases, :math:`n_2` controls and df the residual degrees of freedom of the
model; the confidence interval is :math:`d \pm z_{1-\alpha/2}\,\mathrm{se}(d)`. Without
covariates, d is the case-minus-control mean difference divided by the pooled standard
deviation computed with denominator :math:`n_1 + n_2` (the pooled-SD Cohen's d with
denominator :math:`n_1 + n_2 - 2` is smaller by :math:`\sqrt{\mathrm{df}/(n_1+n_2)}`). Hedges'
g multiplies d by :math:`J = 1 - 3 / (4 (n_1 + n_2) - 9)` (Hedges 1981). When covariates are correlated with group (patients older, say), this d equals the
covariate-adjusted mean difference over the residual SD times :math:`\sqrt{1 - R^2}`, with
:math:`R^2` the share of the group indicator's variance explained by the covariates (the
factor is about 0.99 in the simulated ADNI-like cohort, where cases are 2 years older); this is the ENIGMA convention and is kept for comparability. p is
two-sided from the t distribution with df degrees of freedom; ``fdr_p`` are Benjamini-Hochberg adjusted
p-values across regions. Unequal group sizes (e.g. 926 controls, 426 patients) enter through
:math:`n_1, n_2` and the model; bootstrap intervals resample cases and controls separately
(stratified), so each replicate keeps the observed group sizes.

The sign is case minus control: negative d = thinner (smaller) in cases, as in ENIGMA
summary statistics. (The ADNI maps of :func:`crossscale.maps.load_adni_map` use the opposite
sign: positive = atrophy.)

References
----------
.. [1] Nakagawa S., Cuthill I.C. (2007). Effect size, confidence interval and statistical
   significance: a practical guide for biologists. Biol Rev 82, 591-605.
.. [2] ENIGMA Consortium analysis protocols (cortical thickness and surface area; mass
   univariate regression scripts), enigma.ini.usc.edu/protocols.
.. [3] Hedges L.V. (1981). Distribution theory for Glass's estimator of effect size and related
   estimators. J Educ Stat 6, 107-128.
.. [4] Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate. J R Stat Soc B 57,
   289-300.
.. [5] Fortin J.-P. et al. (2018). Harmonization of cortical thickness measurements across
   scanners and sites. NeuroImage 167, 104-120 (ComBat).
.. [6] Pomponio R. et al. (2020). Harmonization of large MRI datasets for the analysis of brain
   imaging patterns throughout the lifespan. NeuroImage 208, 116450 (neuroHarmonize).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.names import DK_REGIONS, to_canonical
from crossscale.maps._linear import (
    _bootstrap,
    _check_rank,
    _combat,
    _design,
    _effect_columns,
    _fit_all,
)
from crossscale.maps._tables import _list, check_unique_subjects, numeric_table
from crossscale.maps.simulate import simulate_case_control

__all__ = [
    "EFFECT_COLUMNS",
    "HARMONIZE",
    "group_labels",
    "regional_effect_sizes",
    "simulate_case_control",
]

logger = logging.getLogger(__name__)

#: Output columns, in the ENIGMA summary-statistics layout (index ``region``).
EFFECT_COLUMNS = (
    "d", "se", "ci_low", "ci_high", "t", "p", "fdr_p", "n_case", "n_control", "g", "g_se",
    "beta", "df",
)  # fmt: skip
HARMONIZE = ("combat", "covariate", "none")


def group_labels(values: pd.Series) -> pd.Series:
    """Diagnosis labels as strings; integer-valued numbers lose their ``.0`` (1.0 -> ``"1"``)."""

    def norm(v):
        if pd.isna(v):
            return np.nan
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return values.map(norm)


#: A subject whose median robust z over regions exceeds this is reported as an outlier.
SUBJECT_OUTLIER_Z = 5.0


def outlier_subjects(values: pd.DataFrame, *, threshold: float = SUBJECT_OUTLIER_Z) -> pd.Series:
    """Subjects whose regional values are far from everyone else's (a unit or entry error).

    For each region the robust z of every subject, (x - median) / (1.4826 MAD), is computed
    across subjects; a subject's score is the median |z| over its regions. One region off is a
    regional outlier (kept); a subject off in most regions (values x 1000: mm entered as µm)
    shifts every effect size. Subjects above `threshold` are logged as a warning.

    Parameters
    ----------
    values : pandas.DataFrame, shape (n_subjects, n_regions)
        Regional values of every subject (any units; NaN allowed).
    threshold : float
        Median |robust z| above which a subject is flagged (default 5).

    Returns
    -------
    scores : pandas.Series
        The flagged subjects' median |robust z|, largest first (empty when none).
    """
    x = values.to_numpy(float)
    if x.shape[0] < 5:
        return pd.Series(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        med = np.nanmedian(x, axis=0)
        mad = 1.4826 * np.nanmedian(np.abs(x - med), axis=0)
        z = np.abs(x - med) / np.where(mad > 0, mad, np.nan)
    score = pd.Series(np.nanmedian(np.where(np.isfinite(z), z, np.nan), axis=1),
                      index=values.index)  # fmt: skip
    flagged = score[score > threshold].sort_values(ascending=False)
    if len(flagged):
        logger.warning(
            "%d subject(s) lie far from the others in most regions (median robust z over "
            "regions > %g): %s. Check their units and rows (e.g. values x 1000); they are kept "
            "and shift every effect size.",
            len(flagged), threshold,
            ", ".join(f"'{k}' (z = {v:.0f})" for k, v in flagged.head(10).items())
            + (" …" if len(flagged) > 10 else ""),
        )  # fmt: skip
    return flagged


def regional_effect_sizes(
    table: pd.DataFrame,
    groups: pd.Series,
    *,
    case: str,
    control: str,
    covariates: pd.DataFrame | None = None,
    site: pd.Series | None = None,
    harmonize: str = "combat",
    n_boot: int = 0,
    alpha: float = 0.05,
    random_state: int | None = None,
) -> pd.DataFrame:
    """Case-control Cohen's d (and Hedges' g) per region from a covariate-adjusted linear model.

    Parameters
    ----------
    table : pandas.DataFrame, shape (n_subjects, n_regions)
        Regional values (thickness in mm, area in mm^2, volume in mm^3) indexed by subject ID;
        columns in any supported region spelling. NaN = missing: that subject is left out of
        that region's model only.
    groups : pandas.Series, shape (n_subjects,)
        Diagnosis of each subject, indexed by subject ID (e.g. ENIGMA ``Dx``: 1 patient, 0
        control). Subjects with other labels are left out (logged).
    case, control : str
        Labels of the two groups compared (compared as strings: ``1`` matches 1 and 1.0).
    covariates : pandas.DataFrame or None, shape (n_subjects, n_covariates)
        Adjustment variables indexed by subject (ENIGMA: age and sex; add ICV for volumes and
        surface area). Numeric columns enter linearly, text columns as indicator variables.
    site : pandas.Series or None, shape (n_subjects,)
        Acquisition site of each subject; ignored when it has one level.
    harmonize : {"combat", "covariate", "none"}
        With several sites: ComBat (neuroHarmonize, optional extra ``harmonize``) preserving
        group and covariate effects (fitted once on all subjects, before any bootstrap); site
        indicators added to the model; or nothing.
    n_boot : int
        Bootstrap replicates (0 = none) for percentile intervals ``boot_ci_low/high`` and
        ``boot_se``; cases and controls are resampled separately.
    alpha : float
        1 - confidence level of the intervals (0.05 gives 95 % intervals).
    random_state : int or None
        Seed of the bootstrap and of ComBat.

    Returns
    -------
    effects : pandas.DataFrame, shape (n_regions, 13 or 16)
        Index ``region`` (canonical, ENIGMA order); columns ``d``, ``se``, ``ci_low``,
        ``ci_high``, ``t``, ``p``, ``fdr_p``, ``n_case``, ``n_control``, ``g``, ``g_se``,
        ``beta`` (group coefficient, table units), ``df``, and with `n_boot` > 0
        ``boot_se``, ``boot_ci_low``, ``boot_ci_high``. ``attrs`` records the model.

    Raises
    ------
    InputDataError
        Subjects in one input but not another, duplicated subjects, missing covariates or
        diagnoses, non-numeric cells, a group with fewer than 2 subjects, a rank-deficient model.
    ParameterError
        A group label that does not occur, ``case == control``, bad `harmonize`/`n_boot`/`alpha`,
        or ComBat requested without neuroHarmonize installed.
    RegionMismatchError
        Columns of `table` that are not Desikan-Killiany regions.

    References
    ----------
    .. [1] Nakagawa S., Cuthill I.C. (2007). Biol Rev 82, 591-605.
    .. [2] ENIGMA Consortium protocols, enigma.ini.usc.edu/protocols; Lariviere S. et al. (2021).
       The ENIGMA Toolbox. Nat Methods 18, 698-700.
    .. [3] Hedges L.V. (1981). J Educ Stat 6, 107-128.
    .. [4] Benjamini Y., Hochberg Y. (1995). J R Stat Soc B 57, 289-300.
    .. [5] Fortin J.-P. et al. (2018). NeuroImage 167, 104-120; Pomponio R. et al. (2020).
       NeuroImage 208, 116450.
    .. [6] Efron B., Tibshirani R. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    if harmonize not in HARMONIZE:
        raise ParameterError(f"harmonize={harmonize!r}; use one of {list(HARMONIZE)}.")
    if not (0 < alpha < 1):
        raise ParameterError(f"alpha={alpha!r} must be between 0 and 1 (0.05 for 95 % CIs).")
    if int(n_boot) < 0:
        raise ParameterError(f"n_boot={n_boot!r} must be 0 (no bootstrap) or a positive count.")
    if not isinstance(table, pd.DataFrame):
        raise InputDataError(f"table must be a pandas DataFrame, got {type(table).__name__}.")
    table = table.copy()
    table.index = pd.Index(table.index.astype(str), name="subject")
    check_unique_subjects(table.index, what="The regional table")
    regions = to_canonical(table.columns, what="The regional table")
    values = numeric_table(table, what="The regional table")
    values.columns = pd.Index(regions, name="region")
    order = [r for r in DK_REGIONS if r in values.columns]
    values = values[order]

    groups = pd.Series(groups).copy()
    groups.index = pd.Index(groups.index.astype(str), name="subject")
    check_unique_subjects(groups.index, what="The diagnosis (groups)")
    labels = group_labels(groups)
    case, control = str(case).strip(), str(control).strip()
    inputs = {"the regional table": values.index, "the diagnosis (groups)": groups.index}
    if covariates is not None:
        covariates = covariates.copy()
        covariates.index = pd.Index(covariates.index.astype(str), name="subject")
        check_unique_subjects(covariates.index, what="The covariates table")
        inputs["the covariates"] = covariates.index
    if site is not None:
        site = pd.Series(site).copy()
        site.index = pd.Index(site.index.astype(str), name="subject")
        check_unique_subjects(site.index, what="The site column")
        inputs["the site column"] = site.index
    _check_same_subjects(inputs)

    counts = labels.value_counts()
    avail = ", ".join(f"'{k}' ({v})" for k, v in counts.items())
    if case == control:
        raise ParameterError(f"case and control are both {case!r}; give two different labels.")
    for role, lab in (("case", case), ("control", control)):
        if lab not in counts.index:
            raise ParameterError(
                f"The {role} label {lab!r} does not occur in the diagnosis column; labels "
                f"present (subjects): {avail}."
            )
    for role, lab in (("case", case), ("control", control)):
        if counts[lab] < 2:
            raise InputDataError(
                f"The {role} group {lab!r} has {counts[lab]} subject(s); at least 2 are needed "
                "to estimate an effect size."
            )
    nolabel = labels.index[labels.isna()]
    if len(nolabel):
        raise InputDataError(
            f"{len(nolabel)} subject(s) have no diagnosis: {_list(nolabel)}. Fill in the "
            "diagnosis, or drop those subjects from both tables."
        )
    keep = labels.isin([case, control])
    others = labels[~keep]
    if len(others):
        logger.info(
            "Left out %d subject(s) with other diagnoses: %s",
            len(others),
            ", ".join(f"'{k}' ({v})" for k, v in others.value_counts().items()),
        )
    subjects = labels.index[keep]
    is_case = (labels[subjects] == case).to_numpy()
    Y = values.loc[subjects].to_numpy(float)
    outliers = outlier_subjects(values.loc[subjects])
    C, cov_names = _design(covariates, subjects)

    site_info = "single site"
    if site is not None:
        s = site.loc[subjects]
        if s.isna().any():
            raise InputDataError(
                f"{int(s.isna().sum())} subject(s) have no site: {_list(s.index[s.isna()])}."
            )
        s = group_labels(s)
        n_sites = s.nunique()
        if n_sites > 1 and harmonize == "covariate":
            dummies = pd.get_dummies(s, prefix="site", drop_first=True, dtype=float)
            C = np.hstack([C, dummies.to_numpy()])
            cov_names = [*cov_names, *map(str, dummies.columns)]
            site_info = f"{n_sites} sites, site indicators in the model"
        elif n_sites > 1 and harmonize == "combat":
            site_info = f"{n_sites} sites, ComBat (neuroHarmonize)"
        elif n_sites > 1:
            site_info = f"{n_sites} sites, not harmonised"
            logger.warning("%d sites and harmonize='none': site effects are not removed.", n_sites)
    X = np.column_stack([np.ones(len(subjects)), is_case.astype(float), C])
    _check_rank(X, cov_names)
    if site is not None and site_info.endswith("(neuroHarmonize)"):
        Y = _combat(Y, s.to_numpy(), X, cov_names, random_state)

    fit = _fit_all(X, Y, is_case, cov_names)
    out = pd.DataFrame(_effect_columns(fit, alpha), index=pd.Index(values.columns, name="region"))
    d = out["d"].to_numpy()
    if np.isnan(d).any():
        logger.warning(
            "No effect size for %d region(s) with too few complete subjects: %s",
            int(np.isnan(d).sum()),
            _list(out.index[np.isnan(d)]),
        )
    if n_boot:
        boot = _bootstrap(X, Y, is_case, cov_names, int(n_boot), random_state)
        out["boot_se"] = np.nanstd(boot, axis=0, ddof=1)
        out["boot_ci_low"] = np.nanquantile(boot, alpha / 2, axis=0)
        out["boot_ci_high"] = np.nanquantile(boot, 1 - alpha / 2, axis=0)
    out.attrs = {
        "units": f"Cohen's d ({case} - {control}); negative = lower in {case}",
        "case": case,
        "control": control,
        "model": "value ~ 1 + group" + "".join(f" + {c}" for c in cov_names),
        "covariates": cov_names,
        "site": site_info,
        "n_case": int(is_case.sum()),
        "n_control": int((~is_case).sum()),
        "n_boot": int(n_boot),
        "alpha": alpha,
        "measure": table.attrs.get("measure"),
        "table_units": table.attrs.get("units"),
        "formula": "d = t (n1 + n2) / (sqrt(n1 n2) sqrt(df)); "
        "se = sqrt((n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2 - 2)))",
    }
    if len(outliers):
        out.attrs["outlier_subjects"] = {str(k): round(float(v), 1) for k, v in outliers.items()}
    return out


def _check_same_subjects(inputs: dict[str, pd.Index]) -> None:
    names = list(inputs)
    problems = []
    for a in names:
        for b in names:
            if a == b:
                continue
            only = inputs[a].difference(inputs[b])
            if len(only):
                problems.append(f"{len(only)} subject(s) in {a} but not in {b}: {_list(only)}")
    if problems:
        raise InputDataError(
            "The inputs do not list the same subjects. "
            + "; ".join(dict.fromkeys(problems))
            + ". Give every subject a row in each table (or drop it from all of them)."
        )
