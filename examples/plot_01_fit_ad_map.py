"""
Fit GraphVAE on the Alzheimer's atrophy map and read its metrics
================================================================

The default map of crossscale is the ADNI2 baseline atrophy of Alzheimer's disease (161
controls vs 86 patients; a Welch t per Desikan-Killiany region, positive = smaller volume in
patients). We predict it from the regional expression of the 889 LINCS L1000 landmark genes in
the Allen Human Brain Atlas, then score the model the way the field requires: out of sample,
beside baselines fitted on the same folds.
"""

# %%
# Load the data
# -------------
# Expression is a region x gene table, the map a Series indexed by the same regions, and the
# region graph the fsaverage5 surface adjacency of the 68 cortical regions.
from crossscale.atlas import RegionGraph
from crossscale.maps import load_adni_map
from crossscale.transcriptomics import load_default_expression

X, selection = load_default_expression()  # selection: which genes were kept, and why
y = load_adni_map("AD", "baseline")
graph = RegionGraph.from_surface()
print(X.shape, y.name, graph)

# %%
# Fit GraphVAE in sample
# ----------------------
# scikit-learn conventions: ``fit`` returns the estimator, learned attributes end in ``_``.
# ``transform`` gives each region's latent programs.
from crossscale.models.graphvae import GraphVAE

model = GraphVAE(random_state=0).fit(X, y, graph)
programs = model.transform(X)
print(programs.round(2).head())

# %%
# Score it out of sample, beside a baseline
# -----------------------------------------
# :func:`~crossscale.evaluate.evaluate_models` cross-validates every model on the same folds:
# leave-one-region-out (LORO) and distance-blocked spatial CV, where each fold holds out a
# region and the nearest quarter of its hemisphere. In-sample R² is always the highest; the
# spatial-CV R² is the number to quote.
from crossscale.evaluate import evaluate_models
from crossscale.models.baselines import PLSBaseline

models = {"GraphVAE": GraphVAE(random_state=0), "PLS-2": PLSBaseline(n_components=2)}
ev = evaluate_models(X, y, graph, models)
print(ev.metrics[["in_sample_r2", "loro_r2", "spatial_r2"]].round(3).to_string())

# %%
# Plot observed against cross-validated predictions
# -------------------------------------------------
from crossscale.plotting import plot_observed_vs_predicted

pred = ev.predictions[["GraphVAE|in_sample", "GraphVAE|spatial", "PLS-2|spatial"]]
fig = plot_observed_vs_predicted(y, pred.rename(columns=lambda c: c.replace("|", ", ")))
