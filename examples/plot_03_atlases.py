"""
Other parcellations: the BigBrain gradient on Schaefer-100
==========================================================

Every function takes ``atlas=``: Desikan-Killiany (``dk``, the default), ``dk-subcortex``,
``schaefer100`` ... ``schaefer400``, ``glasser360`` or a pair of FreeSurfer annotations. Here we
predict the BigBrain histological gradient (Paquola et al. 2019), a real map available in every
built-in atlas, from the AHBA expression of the Schaefer-100 parcels.
"""

# %%
# The atlas and its expression
# ----------------------------
# Schaefer parcellations have no L1000 panel: their built-in expression holds the genes with
# differential stability >= 0.6 (abagen pipeline). Parcels without an AHBA sample are dropped,
# and the report says which.
from crossscale.atlas import RegionGraph, get_atlas
from crossscale.maps import load_bigbrain_map
from crossscale.transcriptomics import load_expression

s100 = get_atlas("schaefer100")
X, report = load_expression(s100)
y = load_bigbrain_map(s100).reindex(X.index)
graph = RegionGraph.from_surface(atlas=s100)
print(s100)
print(X.shape)
print("\n".join(report.lines()))

# %%
# The map on the surface
# ----------------------
from crossscale.plotting import plot_brain_map

fig = plot_brain_map(y, title="BigBrain histological gradient (Schaefer-100)")

# %%
# GraphVAE against the spatial-only baseline
# ------------------------------------------
# On fine parcellations the spatial-only baseline (interpolating the training regions' values
# over the region graph, no genes at all) is strong: a gene model has to beat it out of sample.
from crossscale.evaluate import evaluate_models
from crossscale.models.baselines import RidgeBaseline, SpatialBaseline
from crossscale.models.graphvae import GraphVAE

ev = evaluate_models(
    X, y, graph,
    {"GraphVAE": GraphVAE(random_state=0), "Ridge": RidgeBaseline(),
     "Spatial (Laplacian)": SpatialBaseline()},
)
print(ev.metrics[["in_sample_r2", "loro_r2", "spatial_r2"]].round(3).to_string())
