"""
Spin nulls and what p_spin means
================================

Brain maps are smooth, so two maps correlate by chance far more often than two random vectors,
and a model fitted to any smooth map predicts held-out regions reasonably well. A spin test
compares the real statistic to the same statistic on copies of the map whose values were carried
around a randomly rotated sphere: same spatial autocorrelation, no relation to anything else.
"""

# %%
# Two maps, one correlation, two p-values
# ---------------------------------------
# AD and late MCI atrophy are strongly correlated. A naive p-value treats the 68 regions as
# independent; the spin test does not.
from scipy import stats

from crossscale.maps import load_adni_map
from crossscale.nulls import compare_maps

ad = load_adni_map("AD", "baseline")
lmci = load_adni_map("LMCI", "baseline")
cmp = compare_maps(ad, lmci, nulls="spin", n_perm=1000, random_state=0)
naive = stats.pearsonr(ad, lmci.reindex(ad.index))
print(f"r = {cmp.statistic:.3f}; naive p = {naive.pvalue:.1e}; spin p = {cmp.p_value:.4f}")
print(f"largest |r| of a spun map: {abs(cmp.null).max():.2f} ({cmp.n_perm} spins)")

# %%
# p_spin of a fitted model: refit on every spun map
# -------------------------------------------------
# For a model, the whole procedure is repeated on each null map: ridge is refitted and
# cross-validated (10 contiguous spatial blocks) on every spun copy of the AD map, and the real
# map's cross-validated r is compared to those null values:
# ``p_spin = (1 + #{null >= observed}) / (1 + n_perm)``. With 100 spins the smallest possible
# value is 1/101 = 0.0099.
from crossscale.atlas import RegionGraph
from crossscale.evaluate import null_distribution
from crossscale.models.baselines import RidgeBaseline
from crossscale.transcriptomics import load_default_expression

X, _ = load_default_expression()
graph = RegionGraph.from_surface()
res = null_distribution(RidgeBaseline(), X, ad, graph, "spin", cv=10, n_perm=100,
                        random_state=0)
print({k: round(v, 4) for k, v in res.p_values.items()})

# %%
# The null distribution
# ---------------------
from crossscale.plotting import plot_null_distribution

fig = plot_null_distribution(
    res.null["cv_r"], res.observed["cv_r"], label="cross-validated r (ridge)",
    p_value=res.p_values["cv_r"], title="Ridge refitted on 100 spins of the AD map",
)
