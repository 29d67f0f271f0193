"""Child of ``bench_identity_spins.py``: p_spin of three models from 1,000 Hungarian spins (seed 0).

Uses only the API that existed before atlases, so it runs on a base tree too (``PYTHONPATH``).
Prints one JSON object: identity spins among the 1,000, and per model the kfold-10 CV r, its
p_spin, the largest null CV r and the time.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    import torch

    torch.set_num_threads(1)
    from crossscale.atlas import RegionGraph
    from crossscale.evaluate import null_distribution
    from crossscale.maps import load_adni_map
    from crossscale.models.baselines import PLSBaseline, RidgeBaseline
    from crossscale.models.graphvae import GraphVAE
    from crossscale.nulls import spin_permutations
    from crossscale.transcriptomics import load_default_expression

    n_perm = int(sys.argv[1])
    X, _ = load_default_expression()
    y = load_adni_map("AD", "baseline")
    g = RegionGraph.from_surface()
    perm = spin_permutations(method="hungarian", n_perm=n_perm, random_state=0)
    out: dict = {"identity_spins": int((perm == np.arange(68)[:, None]).all(axis=0).sum())}
    for label, est in {"GraphVAE": GraphVAE(random_state=0, device="cpu"), "PLS-1": PLSBaseline(1),
                       "Ridge": RidgeBaseline()}.items():  # fmt: skip
        t0 = time.perf_counter()
        r = null_distribution(est, X, y, g, "spin", cv=10, n_perm=n_perm, random_state=0,
                              metric="r", in_sample=False)  # fmt: skip
        out[label] = {"cv_r": float(r.observed["cv_r"]), "p_spin": float(r.p_values["cv_r"]),
                      "max_null": float(np.nanmax(r.null["cv_r"])),
                      "time_s": time.perf_counter() - t0}  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
