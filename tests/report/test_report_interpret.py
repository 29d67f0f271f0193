import pytest

from crossscale.interpret import interpret_model
from crossscale.models.graphvae import GraphVAE
from crossscale.report import Report
from crossscale.report.interpret import add_interpretation_section


@pytest.fixture(scope="module")
def toy_interpretation(synthetic):
    """The 20-region synthetic set; the planted set is six of the map's program genes."""
    X, y = synthetic.X, synthetic.y.rename("toy map")
    genes = list(X.columns)
    model = GraphVAE(max_epochs=30, min_epochs=10, patience=10, n_hidden=16, random_state=0)
    model.fit(X, y, synthetic.graph)
    sets = {"toy": {"planted": genes[:6], "other": genes[30:38],
                    "sparse": [*genes[10:13], "NOT_A_GENE1", "NOT_A_GENE2", "NOT_A_GENE3"]}}
    return interpret_model(model, X, y, gene_sets=sets, n_replicates=2, n_perm=3, n_steps=4,
                           n_random=100, n_map_spins=20)  # fmt: skip


@pytest.mark.parametrize("figures", [False, True])
@pytest.mark.slow
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
    # a set with too few of the model's genes: its "–" is explained, with the threshold
    few = toy_interpretation.enrichment["toy"].too_few_genes()
    assert list(few.index) == ["sparse"] and few.loc["sparse"].tolist() == [3, 6]
    assert ("1 of the 3 'toy' sets show '–': fewer than 5 of their genes are among the model's "
            "40 genes") in html and "sparse (3 of 6)" in html  # fmt: skip
    top = toy_interpretation.genes.index[0]
    assert f">{top}<" in html
    assert html.count("<img") == (3 if figures else 0)
    # the section's references come from REFERENCES, without ids that a page's own list uses
    assert "Sundararajan" in html and 'id="ref-' not in html
    path = rep.save(tmp_path / "r.html")
    assert path.stat().st_size > 1000
