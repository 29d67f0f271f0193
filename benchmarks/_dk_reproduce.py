"""DK numbers with only the API that existed before atlases (run on this tree and on a base tree).

Used by ``bench_atlases.py``: run once with this checkout and once with ``PYTHONPATH`` pointing
at the ``src/`` of the commit before the atlas work, and compare. Prints one JSON object:
per map (ADNI2 AD atrophy; the BigBrain gradient in Desikan-Killiany), the metrics of GraphVAE
and every baseline, and the kfold-10 CV r p_spin of GraphVAE, PLS-1 and ridge from N Hungarian
spin refits (seed 0).

Run: CROSSSCALE_MIRROR=../shared/data python benchmarks/_dk_reproduce.py N_PERM BIGBRAIN_CSV
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd


def main() -> None:
    import torch

    torch.set_num_threads(1)
    from crossscale.atlas import DK_REGIONS, RegionGraph
    from crossscale.evaluate import evaluate_models, null_distribution
    from crossscale.evaluate.selection import comparison_models
    from crossscale.maps import load_adni_map
    from crossscale.models.baselines import PLSBaseline, RidgeBaseline
    from crossscale.models.graphvae import GraphVAE
    from crossscale.transcriptomics import load_default_expression

    n_perm, bigbrain_csv = int(sys.argv[1]), sys.argv[2]
    X, _ = load_default_expression()
    values = np.loadtxt(bigbrain_csv, delimiter=",")
    maps = {
        "adni2_ad_vol_baseline": load_adni_map("AD", "baseline"),
        "bigbrain_gradient_dk": pd.Series(values, index=pd.Index(DK_REGIONS, name="region")),
    }
    out = {}
    for name, y in maps.items():
        g = RegionGraph.from_surface()
        t0 = time.perf_counter()
        models = {"GraphVAE": GraphVAE(random_state=0, device="cpu")} | comparison_models()
        ev = evaluate_models(X, y.loc[X.index], g, models, cv=("loro", "spatial"))
        row = {"metrics": ev.metrics.drop(columns=["fit_time_s", "cv_time_s"]).round(10)
               .to_dict(orient="index"), "time_s": time.perf_counter() - t0}  # fmt: skip
        p = {}
        for label, est in {"GraphVAE": GraphVAE(random_state=0, device="cpu"),
                           "PLS-1": PLSBaseline(1), "Ridge": RidgeBaseline()}.items():  # fmt: skip
            res = null_distribution(est, X, y.loc[X.index], g, "spin", cv=10, n_perm=n_perm,
                                    random_state=0, metric="r", in_sample=False)  # fmt: skip
            p[label] = {"cv_r": float(res.observed["cv_r"]), "p_spin": float(res.p_values["cv_r"])}
        row["nulls"] = p
        out[name] = row
    print(json.dumps(out))


if __name__ == "__main__":
    main()
