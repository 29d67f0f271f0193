import pandas as pd
import pytest

from crossscale.atlas import RegionGraph
from crossscale.evaluate.graph_nulls import compare_with_null_graphs
from crossscale.models.spread import simulate_cohort
from crossscale.report.spread import adni_summary_text, build_adni_report


@pytest.fixture(scope="module")
def comparison():
    g = RegionGraph.from_connectome()
    c = simulate_cohort(g, 2, subtypes=[("R_precuneus", 0.1, 0.5)], timepoints=(0.0, 3.0),
                        noise=0.0, random_state=2)  # fmt: skip
    maps = c.maps.copy()
    maps.index = pd.MultiIndex.from_tuples(
        [("AD", "baseline"), ("AD", "2"), ("LMCI", "baseline"), ("LMCI", "2")],
        names=["group", "timepoint"],
    )
    return maps, compare_with_null_graphs(maps, g, models=("diffusion",), n_rewired=2,
                                          n_length=2, random_state=0)  # fmt: skip


@pytest.mark.slow
def test_adni_report_names_the_winner_and_its_p_first(comparison):
    maps, comp = comparison
    text = adni_summary_text(comp, maps)
    assert text.startswith(f"<b>Best graph: {comp.winner['graph']}</b>")
    assert f"p = {comp.winner['p_null']:.3g}" in text and "against 4 null graphs" in text.lower()
    html = build_adni_report(comp, maps).to_html()
    body = html[html.index("<h1") :]
    assert body.index("Best graph") < body.index("<h2")  # the summary comes first
    assert "diverging scale centred at 0" in html and "Maslov" in html
    assert html.count("data:image/png;base64,") >= 3
