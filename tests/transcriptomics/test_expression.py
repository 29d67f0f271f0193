import numpy as np
import pytest

from crossscale import InputDataError
from crossscale.atlas import DK_REGIONS
from crossscale.transcriptomics import load_ahba_expression, load_landmark_genes, select_genes


def test_ahba_matrix():
    expr = load_ahba_expression()
    assert expr.shape == (68, 15633)
    assert list(expr.index) == list(DK_REGIONS)
    assert expr.columns.name == "gene_symbol"
    assert np.isfinite(expr.to_numpy()).all()
    assert expr.to_numpy().min() >= 0 and expr.to_numpy().max() <= 1
    assert len(expr.attrs["dropped"]["regions"]) == 15
    # every value is the abagen table's, matched by region name; the rest are the dropped rows
    import pandas as pd

    from crossscale.datasets import fetch

    genes = list(expr.columns[::97])  # every 97th gene: the whole file is slow to parse twice
    raw = pd.read_csv(fetch("ahba_expression"), index_col="Region", usecols=["Region", *genes])
    np.testing.assert_array_equal(expr[genes].to_numpy(), raw.loc[list(DK_REGIONS), genes].to_numpy())
    assert sorted(expr.attrs["dropped"]["regions"]) == sorted(set(raw.index) - set(DK_REGIONS))


def test_landmark_selection_reports_missing(landmark_expression):
    genes = load_landmark_genes()
    assert len(genes) == 978
    assert landmark_expression.shape == (68, 889)
    sel = landmark_expression.attrs["gene_selection"]
    assert sel["n_missing"] == 89 and sel["n_kept"] + sel["n_missing"] == 978


def test_select_genes_none_present():
    with pytest.raises(InputDataError, match="None of the 2 requested genes"):
        select_genes(load_ahba_expression(), ["NOTAGENE1", "NOTAGENE2"])
