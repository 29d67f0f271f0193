"""The group-map workflow: Config -> run -> Result.save, graphs from files."""

import json

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError, ParameterError
from crossscale.atlas import DK_REGIONS, RegionGraph
from crossscale.models.spread.groupfit import build_library
from crossscale.pipeline.spread_groups import GroupFitConfig, load_graph, run


def test_adni_and_a_file_are_refused_together(tmp_path):
    with pytest.raises(ParameterError, match="Both a maps file.*--adni"):
        GroupFitConfig(maps=str(tmp_path / "x.csv"), adni=True).check()
    with pytest.raises(ParameterError, match="Give a CSV"):
        GroupFitConfig().check()
    with pytest.raises(ParameterError, match="--graph must be one of"):
        GroupFitConfig(adni=True, graph="no_such.csv").check()


def test_user_connectome_from_a_csv(tmp_path):
    con = RegionGraph.from_connectome()
    a = con.adjacency.toarray()
    names = [f"{'lh' if r[0] == 'L' else 'rh'}_{r[2:]}" for r in DK_REGIONS]
    a[0, 1] += 0.5  # asymmetric: symmetrised with a warning
    pd.DataFrame(a, index=names, columns=names).to_csv(tmp_path / "c.csv")
    g, label, data = load_graph(str(tmp_path / "c.csv"))
    assert label == "c.csv" and data == [] and list(g.regions) == list(DK_REGIONS)
    assert g.adjacency[0, 1] == pytest.approx(g.adjacency[1, 0])
    np.testing.assert_allclose(g.coords.to_numpy(), con.coords.to_numpy())
    pd.DataFrame(-a, index=names, columns=names).to_csv(tmp_path / "neg.csv")
    with pytest.raises(InputDataError, match="negative"):
        load_graph(str(tmp_path / "neg.csv"))
    pd.DataFrame(a[:, :5], index=names, columns=names[:5]).to_csv(tmp_path / "rect.csv")
    with pytest.raises(InputDataError, match="square"):
        load_graph(str(tmp_path / "rect.csv"))


@pytest.mark.slow
def test_run_and_save_a_users_maps(tmp_path):
    con = RegionGraph.from_connectome()
    lib = build_library("diffusion", con)
    s = list(con.regions).index("L_entorhinal")
    rng = np.random.default_rng(0)
    y = lib.x[0][s, [25, 40, 55]] * np.array([[3.0], [5.0], [8.0]]) + rng.normal(0, 0.01, (3, 68))
    t = pd.DataFrame(y, columns=DK_REGIONS).drop(columns=["R_fusiform"])
    t.insert(0, "stage", ["CN", "MCI", "AD"])
    t.to_csv(tmp_path / "maps.csv", index=False)
    cfg = GroupFitConfig(maps=str(tmp_path / "maps.csv"), models=("diffusion",), n_length=2,
                         n_degree=1, n_folds=4, stage_order=("CN", "MCI", "AD"))  # fmt: skip
    res = run(cfg)
    comp = res.comparison
    assert comp.fits[("diffusion", "connectome")].epicentre == "L_entorhinal"
    assert comp.stage_order["diffusion"]["ordered"]
    assert any("R_fusiform" in w for w in res.warnings)
    out = res.save(tmp_path / "out")
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "run.json", "models.csv", "nulls.csv", "null_graphs.csv",
            "diffusion_connectome_maps.csv", "maps.csv"} <= names  # fmt: skip
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["parameters"]["maps"] == str(tmp_path / "maps.csv")
    assert run_json["result"]["verdict"]["sentence"] == comp.verdict["sentence"]
    html = (out / "report.html").read_text()
    body = html[html.index("<h1") :]
    assert body.index(comp.verdict["sentence"][:40]) < body.index("<h2")  # the answer first
    assert "length-preserving" in html and "Betzel" in html
    with pytest.raises(ParameterError, match="lacks the stage"):
        run(GroupFitConfig(maps=str(tmp_path / "maps.csv"), stage_order=("CN", "AD"),
                           models=("diffusion",), n_length=0, n_degree=0))  # fmt: skip
