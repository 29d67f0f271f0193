"""Pieces of the fit-group report: the models table and the stage-order sentence."""

import numpy as np
import pandas as pd

from crossscale.report.spread_groups import models_table, stage_text


def test_models_table_puts_out_of_sample_first_and_never_a_point_estimate_at_a_grid_end():
    rows = [
        {"model": "fisher_kpp", "graph": "connectome", "role": "model", "r2": 0.2, "r2_lomo": 0.19,
         "r2_lro": -0.1, "r2_loro": 0.09, "r_pooled": 0.8, "epicentre": "R_entorhinal",
         "epicentre_set": "R_entorhinal, R_inferiortemporal", "shape_name": "alpha/rho",
         "shape": np.nan, "shape_low": 15.8, "shape_high": 500.0, "shape_identified": False},
        {"model": "fisher_kpp", "graph": "distance-only graph", "role": "baseline", "r2": 0.2,
         "r2_lomo": 0.2, "r2_lro": 0.0, "r2_loro": 0.1, "r_pooled": 0.8, "epicentre": "L_cuneus",
         "epicentre_set": "a, b, c, d, e, f", "shape_name": "alpha/rho", "shape": 5.0,
         "shape_low": 2.8, "shape_high": 8.9, "shape_identified": True},
    ]  # fmt: skip
    t = models_table(pd.DataFrame(rows))
    cols = list(t.columns)
    assert cols.index("R² spatial blocks") < cols.index("R² in sample") < cols.index("pooled r")
    assert t["model"].tolist() == ["Fisher-KPP", "Fisher-KPP"]
    shape = t["shape (95% profile set)"].tolist()
    assert shape[0] == "alpha/rho not identified (95% set 15.8-500 reaches the grid end)"
    assert shape[1] == "alpha/rho = 5 (95% 2.8-8.9)"
    assert t["95% epicentre set"].iloc[1] == "a, b, c, d …"


def test_stage_text():
    ok = {"order": ["EMCI", "LMCI", "AD"], "ordered": True, "inversions": [], "n_maps": 9,
          "n_excluded": 7, "stage_median_time": {"LMCI": 0.16, "AD": 0.165},
          "kendall_tau": 0.3, "p": 0.2}  # fmt: skip
    text = stage_text(ok)
    assert "<b>ordered</b>" in text and "9 map(s) with an identified time, 7 left out" in text
    bad = ok | {"ordered": False, "inversions": ["LMCI (0.2) > AD (0.1)"]}
    assert "not ordered" in stage_text(bad) and "LMCI (0.2) &gt; AD (0.1)" in stage_text(bad)
    assert "cannot be checked" in stage_text(ok | {"ordered": None})
