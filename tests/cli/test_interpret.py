import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from crossscale.cli.main import app
from crossscale.models.graphvae import GraphVAE

runner = CliRunner()


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, landmark_expression, ad_map, surface_graph):
    """A tiny stand-in for a `crossscale fit` folder: model/, input_map.csv and run.json."""
    from crossscale.pipeline._common import copy_input_map, genes_sha256

    d = tmp_path_factory.mktemp("fit")
    y = ad_map.loc[landmark_expression.index]
    model = GraphVAE(max_epochs=30, min_epochs=10, patience=10, n_hidden=16, random_state=0)
    model.fit(landmark_expression, y, surface_graph)
    model.save(d / "model")
    check = {"regions": list(model.regions_), "n_genes": len(model.genes_),
             "genes_sha256": genes_sha256(model.genes_), "graph_hash": surface_graph.hash()}  # fmt: skip
    (d / "run.json").write_text(json.dumps({
        "parameters": {"map": None, "group": "AD", "timepoint": "baseline"},
        "input_map": copy_input_map(d, None, y, None, None), "model_check": check,
        "graph": {"hash": surface_graph.hash()},
    }))  # fmt: skip
    return d


def test_interpret_on_a_saved_run(saved_run, tmp_path):
    gmt = tmp_path / "mine.gmt"
    gmt.write_text("mixed\tNA\t" + "\t".join(["PAX8", "TLE1", "CEBPD", "PSMD10", "DFFA", "GFAP"]))
    args = ["interpret", str(saved_run), "--n-perm", "3", "--n-replicates", "2", "--n-steps", "4",
            "--n-random", "100", "--n-map-spins", "20", "--no-figures", "--gmt", str(gmt)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = saved_run / "interpretation"
    files = {p.name for p in out.iterdir()}
    assert {"gene_attribution.csv", "enrichment_lake.csv", "enrichment_pooled.csv",
            "enrichment_mine.csv", "program_enrichment_lake.csv", "program_importance.csv", "region_clusters.csv",
            "interpretation.html", "interpretation.json", "run.json"} <= files  # fmt: skip
    genes = pd.read_csv(out / "gene_attribution.csv", index_col=0)
    assert len(genes) == 889 and {"rank_low", "rank_high"} <= set(genes.columns)
    assert "Top genes of the prediction" in result.output
    assert "p_spatial" in (out / "interpretation.html").read_text()
    # a second run needs --overwrite
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and "--overwrite" in str(again.exception)


def test_interpret_needs_a_fit_folder(tmp_path):
    result = runner.invoke(app, ["interpret", str(tmp_path)])
    assert result.exit_code != 0
    assert "not a `crossscale fit` output folder" in str(result.exception)


def test_interpret_refuses_a_model_of_another_run(saved_run, tmp_path, snapshot):
    import shutil

    from crossscale import ModelStateError

    run_dir = tmp_path / "run"
    shutil.copytree(saved_run / "model", run_dir / "model")
    config = json.loads((run_dir / "model" / "config.json").read_text())
    run = {
        "command": "crossscale fit",
        "parameters": {"map": None, "group": "AD", "timepoint": "baseline"},
        "graph": {"hash": "f" * 64},  # the run was fitted on another graph
        "model_check": {"regions": config["regions"][:-1], "n_genes": 5, "genes_sha256": "0"},
    }
    (run_dir / "run.json").write_text(json.dumps(run))
    before = snapshot(run_dir)
    result = runner.invoke(app, ["interpret", str(run_dir), "--n-perm", "2"])
    assert isinstance(result.exception, ModelStateError)
    msg = str(result.exception)
    assert "is not the model of this run" in msg and "graph hash" in msg
    assert "68 regions (run.json: 67" in msg and "889 genes (run.json: 5" in msg
    assert snapshot(run_dir) == before
