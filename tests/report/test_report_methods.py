import re

import pytest

from crossscale import ParameterError
from crossscale.report import REFERENCES, Bibliography, Report, render_references


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("ahba", "Hawrylycz"),
        ("abagen", "Markello"),
        ("imaging_transcriptomics", "Martins"),
        ("lincs", "Subramanian"),
        ("gcn", "Kipf"),
        ("vae", "Kingma"),
        ("hansen2021", "Hansen"),
        ("spin_test", "Alexander-Bloch"),
        ("markello2021_nulls", "Comparing spatial null models"),
        ("raj2012", "Raj"),
        ("adni", "Alzheimer's Disease Neuroimaging Initiative"),
        ("desikan2006", "Desikan"),
        ("freesurfer", "Fischl"),
        ("enigma_toolbox", "Larivière"),
        ("fulcher2021", "Fulcher"),
        ("pls", "Abdi"),
        ("wold_pls", "Wold"),
        ("ridge", "Hoerl"),
        ("vaithianathan2026", "2606.05870"),
    ],
)
def test_reference_present(key, needle):
    assert needle in REFERENCES[key]
    assert re.search(r"\((19|20)\d\d\)", REFERENCES[key])


def test_render_formats():
    text = render_references(["ahba", "gcn"], fmt="text")
    assert text.splitlines()[0].startswith("[1] Hawrylycz")
    assert text.splitlines()[1].startswith("[2] Kipf")
    html = render_references(["ahba", "gcn"])
    assert html.count("<li") == 2
    assert 'href="https://doi.org/10.1038/nature11405"' in html
    assert 'href="https://arxiv.org/abs/1609.02907"' in html
    assert render_references(["ridge"], fmt="markdown").startswith("1. Hoerl")
    with pytest.raises(ParameterError, match="Unknown reference key"):
        render_references(["nope"])
    with pytest.raises(ParameterError, match="fmt"):
        render_references(["ahba"], fmt="latex")


def test_bibliography_numbers_in_order_of_first_use():
    bib = Bibliography()
    assert bib.cite("abagen") == "[1]"
    assert bib.cite("ahba", "abagen") == "[2, 1]"
    assert bib.keys == ["abagen", "ahba"]
    assert bib.cite("ahba", link=True) == '[<a href="#ref-ahba">2</a>]'
    assert 'id="ref-ahba"' in bib.render()
    assert bib.render(fmt="text").startswith("[1] Markello")
    rep = Report("x").add_references(["ahba"])
    assert "Hawrylycz" in rep.to_html()
