"""Hand-checked cases of the permutation p-values, the CV masks and folds, and the metrics.

Each case is small enough to count by hand; together they pin every comparison and constant of
the formulas (mutation testing, issue 25: ``>=`` vs ``>``, ``abs`` dropped, ``ceil`` vs ``//``).
"""

import numpy as np
import pandas as pd
import pytest

from crossscale._errors import ParameterError
from crossscale.evaluate import out_of_fold, pearson_r, r2_score
from crossscale.evaluate.cv import distance_blocked, leave_one_region_out
from crossscale.evaluate.folds import cv_masks, kmeans_blocks
from crossscale.evaluate.metrics import foldwise_r, reference_text
from crossscale.evaluate.nullresult import p_value_upper
from crossscale.nulls import permutation_p_value


# -- two-sided permutation p-value (Phipson & Smyth 2010) --------------------------------------
def test_two_sided_p_counts_both_tails_for_a_negative_statistic():
    null = np.array([0.1, -0.6, 0.2, 0.7, -0.3])
    # |null| >= 0.5: -0.6 and 0.7 -> (1 + 2) / 6, whether the statistic is +0.5 or -0.5
    assert permutation_p_value(-0.5, null) == pytest.approx(3 / 6)
    assert permutation_p_value(0.5, null) == pytest.approx(3 / 6)
    # a large negative statistic is extreme: only the +1 of the observed value counts
    assert permutation_p_value(-0.9, null) == pytest.approx(1 / 6)
    # a statistic of 0 is exceeded by every null value
    assert permutation_p_value(0.0, null) == pytest.approx(1.0)


def test_two_sided_p_counts_ties_as_exceeding():
    null = np.array([0.5, -0.5, 0.25, 0.5])
    assert permutation_p_value(0.5, null) == pytest.approx((1 + 3) / 5)
    assert permutation_p_value(-0.25, null) == pytest.approx((1 + 4) / 5)
    # floating-point ties within the documented 1e-12 tolerance count, the edge included
    assert permutation_p_value(0.3, np.array([0.1 + 0.2, 0.0])) == pytest.approx(2 / 3)
    assert permutation_p_value(1.0, np.array([1.0 - 1e-12, 0.0])) == pytest.approx(2 / 3)
    assert permutation_p_value(1.0, np.array([1.0 - 1e-9, 0.0])) == pytest.approx(1 / 3)


def test_two_sided_p_ignores_nan_nulls_but_keeps_them_in_the_count():
    null = np.array([np.nan, 0.9, 0.1])
    assert permutation_p_value(0.5, null) == pytest.approx(2 / 4)


def test_one_sided_upper_p_value_by_hand():
    null = np.array([-0.9, 0.2, 0.5, 0.5, 0.8])
    assert p_value_upper(null, 0.5) == pytest.approx((1 + 3) / 6)  # ties count
    assert p_value_upper(null, -0.95) == pytest.approx(6 / 6)
    assert p_value_upper(null, 0.85) == pytest.approx(1 / 6)
    # one-sided: a large negative null value does not count against a positive statistic
    assert p_value_upper(np.array([-0.9, 0.1]), 0.5) == pytest.approx(1 / 3)
    # non-finite null values are dropped from the count and from n
    assert p_value_upper(np.array([np.inf, np.nan, 0.6, 0.1]), 0.5) == pytest.approx(2 / 3)
    assert np.isnan(p_value_upper(null, np.nan))
    assert np.isnan(p_value_upper(np.array([np.nan, np.inf]), 0.1))


# -- leave-one-region-out and k-fold masks -----------------------------------------------------
@pytest.mark.parametrize("n", [1, 4, 7])
def test_leave_one_region_out_holds_out_each_region_once(n):
    masks = leave_one_region_out(n)
    assert masks.dtype == bool and masks.shape == (n, n)
    np.testing.assert_array_equal(masks, np.eye(n, dtype=bool))


def test_cv_masks_names_and_loro(surface_graph):
    assert cv_masks(surface_graph, None) == (None, None)
    name, masks = cv_masks(surface_graph, "loro")
    assert name == "loro"
    np.testing.assert_array_equal(masks, np.eye(68, dtype=bool))
    name, masks = cv_masks(surface_graph, "spatial", 0.25)
    assert name == "spatial"
    np.testing.assert_array_equal(masks, distance_blocked(surface_graph, 0.25))
    name, masks = cv_masks(surface_graph, "spatial", 0.5)
    assert (masks.sum(1) == 17).all()  # the fraction is passed on: ceil(0.5 * 34)
    name, masks = cv_masks(surface_graph, "3")
    assert name == "kfold3" and masks.shape == (3, 68)
    name, masks = cv_masks(surface_graph, np.int64(4))
    assert name == "kfold4" and masks.shape == (4, 68)
    for bad in ("folds", True, 2.5):
        with pytest.raises(ParameterError, match="cv must be None, 'spatial', 'loro'"):
            cv_masks(surface_graph, bad)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_kmeans_blocks_partition_with_ceil_half_folds_left(surface_graph, k):
    masks = kmeans_blocks(surface_graph, k, random_state=0)
    assert masks.shape == (k, 68) and masks.dtype == bool
    # a partition: every region held out exactly once, no empty fold
    np.testing.assert_array_equal(masks.sum(0), np.ones(68))
    assert (masks.sum(1) > 0).all()
    hemi = np.asarray(surface_graph.hemisphere)
    per_fold = [set(hemi[m]) for m in masks]
    assert all(len(h) == 1 for h in per_fold)  # a block never crosses the midline
    n_left = sum(h == {hemi[0]} for h in per_fold)
    assert n_left == -(-k // 2)  # ceil(k / 2) blocks in the first hemisphere
    assert k - n_left == k // 2


def test_kmeans_blocks_are_spatially_contiguous_clusters(surface_graph):
    masks = kmeans_blocks(surface_graph, 4, random_state=0)
    coords = np.asarray(surface_graph.coords, dtype=float)
    # each region is nearer to its own block's centroid than to the other block of its hemisphere
    centres = np.array([coords[m].mean(0) for m in masks])
    hemi = np.asarray(surface_graph.hemisphere)
    for i in range(68):
        own = int(np.flatnonzero(masks[:, i])[0])
        same = [f for f in range(4) if set(hemi[masks[f]]) == {hemi[i]}]
        d = {f: np.linalg.norm(coords[i] - centres[f]) for f in same}
        assert d[own] == min(d.values())


def test_kmeans_blocks_one_hemisphere_and_errors(surface_graph):
    left = surface_graph.subgraph(
        pd.Index([r for r, h in zip(surface_graph.regions, surface_graph.hemisphere, strict=True)
                  if h == surface_graph.hemisphere[0]], name="region")
    )
    masks = kmeans_blocks(left, 3, random_state=0)
    assert masks.shape == (3, 34)
    np.testing.assert_array_equal(masks.sum(0), np.ones(34))
    # the seed is passed to k-means: a fixed seed gives fixed folds
    np.testing.assert_array_equal(kmeans_blocks(left, 5, random_state=1),
                                  kmeans_blocks(left, 5, random_state=1))
    for bad in (1, 69, 2.0, "3"):
        with pytest.raises(ParameterError, match=r"number of folds in \[2, 68\]"):
            kmeans_blocks(surface_graph, bad)
    assert kmeans_blocks(surface_graph, 68).shape == (68, 68)


def test_distance_blocked_errors(surface_graph):
    for bad in (0, 1, -0.1):
        with pytest.raises(ParameterError, match=r"fraction must be in \(0, 1\)"):
            distance_blocked(surface_graph, bad)


# -- metrics --------------------------------------------------------------------------------------
def test_r2_score_and_r_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])  # mean 2.5, SS_tot 5
    pred = np.array([1.5, 2.0, 2.0, 4.5])  # SS_res 0.25 + 0 + 1 + 0.25 = 1.5
    assert r2_score(y, pred) == pytest.approx(1 - 1.5 / 5)
    assert r2_score(y, y[::-1]) == pytest.approx(1 - 20 / 5)  # negative out of sample
    assert np.isnan(r2_score(np.ones(3), np.arange(3.0)))
    assert pearson_r(y, pred) == pytest.approx(np.corrcoef(y, pred)[0, 1])
    assert pearson_r(y, -y) == pytest.approx(-1.0)
    assert np.isnan(pearson_r(y, np.ones(4))) and np.isnan(pearson_r(np.ones(4), y))


def test_foldwise_r_and_out_of_fold():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    preds = np.array([[1, 2, 3, 0, 0, 0], [0, 0, 0, 6, 5, 4]], float)
    masks = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], bool)
    np.testing.assert_allclose(foldwise_r(y, preds, masks), [1.0, -1.0])
    oof = out_of_fold(preds, masks)
    np.testing.assert_allclose(oof, [1, 2, 3, 6, 5, 4])
    assert reference_text() == "R² 0.8604, r 0.9439"


def test_foldwise_r_takes_0_1_masks_and_refuses_unmatched_folds():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    preds = np.array([[1, 2, 4, 0, 0, 0], [0, 0, 0, 6, 5, 1]], float)
    masks = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]])  # integers, not booleans
    np.testing.assert_allclose(foldwise_r(y, preds, masks), foldwise_r(y, preds, masks.astype(bool)))
    assert foldwise_r(y, preds, masks)[0] == pytest.approx(np.corrcoef([1, 2, 3], [1, 2, 4])[0, 1])
    with pytest.raises(ValueError, match="zip"):
        foldwise_r(y, preds, masks[:1])


def test_default_fractions_and_seed(surface_graph):
    assert (distance_blocked(surface_graph).sum(1) == 9).all()  # default 0.25: ceil(0.25 * 34)
    np.testing.assert_array_equal(cv_masks(surface_graph, "spatial")[1],
                                  distance_blocked(surface_graph, 0.25))  # fmt: skip
    np.testing.assert_array_equal(kmeans_blocks(surface_graph, 3),
                                  kmeans_blocks(surface_graph, 3, random_state=0))  # fmt: skip


def test_kmeans_blocks_are_the_best_of_ten_kmeans_restarts_per_hemisphere(surface_graph):
    from sklearn.cluster import KMeans

    masks = kmeans_blocks(surface_graph, 5, random_state=0)
    coords = np.asarray(surface_graph.coords, dtype=float)
    hemi = np.asarray(surface_graph.hemisphere)
    want = set()
    for h, k in ((hemi[0], 3), (hemi[-1], 2)):
        idx = np.flatnonzero(hemi == h)
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(coords[idx])
        want |= {frozenset(idx[labels == c]) for c in range(k)}
    assert {frozenset(np.flatnonzero(m)) for m in masks} == want


def test_metrics_at_small_scales_and_unit_spread():
    y = np.array([0.1, 0.2, 0.3])  # SS_tot = 0.02 < 1
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.array([0.1, 0.2, 0.4])) == pytest.approx(1 - 0.01 / 0.02)
    unit = np.array([-1.0, 1.0])  # standard deviation exactly 1
    assert pearson_r(unit, np.array([0.0, 3.0])) == pytest.approx(1.0)
    assert pearson_r(np.array([0.0, 3.0]), unit) == pytest.approx(1.0)


def test_distance_blocked_breaks_ties_by_region_order():
    from types import SimpleNamespace

    pos = np.repeat(np.arange(10.0), 4)  # 40 regions of one hemisphere, 4 at each position
    graph = SimpleNamespace(n_regions=40, hemisphere=np.array(["L"] * 40),
                            distances=lambda: np.abs(pos[:, None] - pos[None]))  # fmt: skip
    masks = distance_blocked(graph, 0.25)  # 10 held out per seed
    # seed 0: the 4 regions at distance 0, the 4 at distance 1, then the first 2 at distance 2
    np.testing.assert_array_equal(np.flatnonzero(masks[0]), np.arange(10))
    for seed in range(40):
        d = np.abs(pos - pos[seed])
        want = np.lexsort((np.arange(40), d))[:10]
        np.testing.assert_array_equal(np.flatnonzero(masks[seed]), np.sort(want))
