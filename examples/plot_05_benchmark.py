"""
Benchmark GraphVAE and the baselines on several maps
====================================================

One model on one map proves little. :func:`~crossscale.pipeline.benchmark_maps` runs GraphVAE,
PLS with 1-5 components, ridge, the spatial-only predictor and the nested-CV choice among them on
each map, on the same folds, and writes one table. Here: ADNI2 AD atrophy and the ENIGMA
schizophrenia cortical-thickness map, without null refits to stay fast (``n_perm=100`` adds a
``p_spin`` column).
"""

# %%
# Run the benchmark
# -----------------
from crossscale.pipeline import benchmark_maps

bench = benchmark_maps("ad,enigma_scz_case_controls_thickness", n_perm=0, seed=0)
table = bench.table.set_index(["map", "model"])
print(table[["loro_r2", "spatial_r2", "spatial_r"]].round(3).to_string())

# %%
# Who wins on each map?
# ---------------------
# The best baseline picked on the evaluation folds is an oracle no user can run; the nested-CV
# choice ("Best baseline (nested CV)") is the baseline a user could actually run.
best = bench.table.loc[bench.table.groupby("map")["spatial_r2"].idxmax(), ["map", "model"]]
print(best.to_string(index=False))

# %%
# Plot the spatial-CV R² per model and map
# ----------------------------------------
import matplotlib.pyplot as plt

wide = bench.table.pivot(index="model", columns="map", values="spatial_r2")
ax = wide.plot.barh(figsize=(7, 4))
ax.set_xlabel("spatial-CV R²")
ax.set_ylabel("")
plt.tight_layout()
