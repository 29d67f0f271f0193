import numpy as np
import pandas as pd
import pytest

from crossscale._errors import InputDataError, ParameterError
from crossscale.interpret import fdr_bh, gene_set_enrichment


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(500)]
    return pd.Series(rng.normal(size=500), index=genes, name="importance")


def test_planted_set_is_significant_and_shuffled_sets_are_not(scores):
    planted = list(scores.sort_values(ascending=False).index[:10]) + list(scores.index[::50][:10])
    rng = np.random.default_rng(1)
    shuffled = {f"S{i}": list(rng.choice(scores.index, 20, replace=False)) for i in range(60)}
    enr = gene_set_enrichment(scores, {"planted": planted} | shuffled, n_random=2000,
                              random_state=0)  # fmt: skip
    t = enr.to_frame()
    assert t.loc["planted", "p_random"] < 0.001 and t.loc["planted", "q_random"] < 0.05
    p_shuf = t.drop(index="planted")["p_random"]
    # valid p-values: about 5% of null sets below 0.05, none survives FDR
    assert (p_shuf < 0.05).mean() <= 0.15
    assert (t.drop(index="planted")["q_random"] > 0.05).all()
    assert np.isnan(t["p_spatial"]).all() and enr.n_null == 0


def test_spatial_null_removes_an_effect_that_null_models_share(scores):
    planted = list(scores.sort_values(ascending=False).index[:15])
    rng = np.random.default_rng(2)
    # every null model also ranks these genes on top (e.g. they follow the brain's main gradient)
    null = pd.DataFrame(rng.normal(size=(500, 200)), index=scores.index)
    null.loc[planted] += 2.5
    t = gene_set_enrichment(scores, {"planted": planted}, null_scores=null, n_random=2000,
                            random_state=0).to_frame()  # fmt: skip
    assert t.loc["planted", "p_random"] < 0.001
    assert t.loc["planted", "p_spatial"] > 0.05
    assert t.loc["planted", "p_ratio"] > 50


def test_small_sets_and_errors(scores):
    t = gene_set_enrichment(scores, {"tiny": ["G1", "G2", "nope"]}, n_random=10).to_frame()
    assert t.loc["tiny", "n_genes"] == 2 and np.isnan(t.loc["tiny", "p_random"])
    with pytest.raises(ParameterError, match="n_random must be"):
        gene_set_enrichment(scores, {"a": ["G1"]}, n_random=0)
    with pytest.raises(ParameterError, match="gene_sets is empty"):
        gene_set_enrichment(scores, {})
    with pytest.raises(InputDataError, match="null_scores lacks 1 gene"):
        gene_set_enrichment(scores, {"a": ["G1"]}, null_scores=pd.DataFrame(index=scores.index[1:]))


def test_fdr_bh_matches_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    p = np.random.default_rng(3).uniform(size=40) ** 2
    np.testing.assert_allclose(fdr_bh(p), multipletests(p, method="fdr_bh")[1])
    assert np.isnan(fdr_bh([np.nan, 0.1])[0])


def test_program_enrichment_finds_planted_program_genes():
    from crossscale.atlas import DK_REGIONS
    from crossscale.interpret import program_enrichment

    rng = np.random.default_rng(4)
    regions = pd.Index(DK_REGIONS, name="region")
    genes = [f"G{i}" for i in range(300)]
    X = pd.DataFrame(rng.normal(size=(68, 300)), index=regions, columns=genes)
    programs = pd.DataFrame({"z0": X[genes[:12]].mean(axis=1), "z1": rng.normal(size=68)},
                            index=regions)  # fmt: skip
    sets = {"planted": genes[:12], "shuffled": list(rng.choice(genes[12:], 12, replace=False))}
    t = program_enrichment(X, programs, sets, n_perm=200, n_random=1000).set_index(
        ["program", "gene_set"]
    )
    assert t.loc[("z0", "planted"), "p_random"] < 0.01
    assert t.loc[("z0", "planted"), "p_spatial"] < 0.01
    assert t.loc[("z0", "shuffled"), "p_random"] > 0.05
    assert t.loc[("z1", "planted"), "p_spatial"] > 0.05
