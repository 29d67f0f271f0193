import numpy as np
import pandas as pd
import pytest

from crossscale._errors import ParameterError
from crossscale.atlas import DK_REGIONS
from crossscale.interpret import cluster_regions, region_lobes


def test_region_lobes_cover_all_regions():
    lobes = region_lobes(DK_REGIONS)
    assert lobes.notna().all() and set(lobes) == {
        "frontal", "parietal", "temporal", "occipital", "cingulate", "insula"
    }  # fmt: skip
    assert lobes["L_superiorfrontal"] == "frontal" and lobes["R_cuneus"] == "occipital"


def test_clusters_recover_planted_partition_and_test_it():
    regions = pd.Index(DK_REGIONS, name="region")
    lobes = region_lobes(regions)
    frontal = (lobes == "frontal").to_numpy(float)
    rng = np.random.default_rng(0)
    latent = pd.DataFrame(
        np.c_[3 * frontal, -3 * frontal] + 0.2 * rng.normal(size=(68, 2)),
        index=regions, columns=["z0", "z1"],
    )  # fmt: skip
    y = pd.Series(frontal * 2 + 0.1 * rng.normal(size=68), index=regions)
    reps = [latent + 0.05 * rng.normal(size=latent.shape) for _ in range(3)]
    res = cluster_regions(latent, y=y, replicates=reps, n_perm=200, random_state=0)
    assert res.n_clusters == 2
    assert res.silhouette > 0.7 and res.stability_ari > 0.95
    # cluster 0 has the higher map mean and is the frontal lobe
    assert (res.labels[lobes == "frontal"] == 0).all()
    assert res.map_p < 0.05 and res.lobe_p < 0.05
    assert res.summary.loc[0, "main_lobe"] == "frontal"
    assert set(res.to_frame().columns) == {"cluster", "lobe"}
    with pytest.raises(ParameterError, match="n_clusters must be in"):
        cluster_regions(latent, n_clusters=1)
