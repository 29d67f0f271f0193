import numpy as np
import pandas as pd
import pytest

from crossscale.interpret import interpret_model
from crossscale.models.graphvae import GraphVAE
from crossscale.report import Report
from crossscale.report.interpret import add_interpretation_section


@pytest.fixture(scope="module")
def toy_interpretation(surface_graph):
    rng = np.random.default_rng(0)
    regions = surface_graph.regions
    genes = [f"G{i}" for i in range(24)]
    X = pd.DataFrame(rng.normal(size=(len(regions), 24)), index=regions, columns=genes)
    y = pd.Series(X[genes[:6]].sum(axis=1).to_numpy(), index=regions, name="toy map")
    model = GraphVAE(max_epochs=30, min_epochs=10, patience=10, n_hidden=16, random_state=0)
    model.fit(X, y, surface_graph)
    sets = {"toy": {"planted": genes[:6], "other": genes[10:18]}}
    return interpret_model(model, X, y, gene_sets=sets, n_replicates=2, n_perm=3, n_steps=4,
                           n_random=100, n_spins=20)  # fmt: skip


@pytest.mark.parametrize("figures", [False, True])
def test_interpretation_section_renders(toy_interpretation, tmp_path, figures):
    rep = Report("crossscale fit")
    rep.add_heading("Performance")
    out = add_interpretation_section(rep, toy_interpretation, figures=figures, n_top=5)
    assert out is rep
    html = rep.to_html()
    for text in ("Interpretation: genes, programs, cell types", "p_spatial", "p_random",
                 "Region clusters in latent space", "Fulcher", "planted",
                 "Programs to cell types"):  # fmt: skip
        assert text in html
    top = toy_interpretation.genes.index[0]
    assert f">{top}<" in html
    assert html.count("<img") == (3 if figures else 0)
    path = rep.save(tmp_path / "r.html")
    assert path.stat().st_size > 1000
