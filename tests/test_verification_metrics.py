"""Tests for course_utils.metrics.verification: against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from course_utils import metrics
from course_utils.metrics import verification as v


def _random(n=400, seed=0, sep=1.0, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:2] = [True, False]
    s = rng.normal(size=n) + sep * y
    if ties:
        s = np.round(s, 1)
    return y, s


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_curve_equals_sklearn(seed, ties):
    y, s = _random(seed=seed, ties=ties)
    far, tar, thr = v.roc_curve(y, s)
    sk_far, sk_tar, sk_thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(far, sk_far)
    np.testing.assert_allclose(tar, sk_tar)
    assert np.isinf(thr[0]) and np.isinf(sk_thr[0])
    np.testing.assert_allclose(thr[1:], sk_thr[1:])


@given(st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), min_size=2, max_size=60))
def test_auc_equals_sklearn_with_ties(pairs):
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], float)
    if y.all() or not y.any():
        with pytest.raises(ValueError, match="both genuine"):
            v.roc_auc(y, s)
        return
    assert v.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    # the probabilistic meaning: P(genuine > impostor) + 1/2 P(tie)
    g, i = s[y][:, None], s[~y][None, :]
    assert v.roc_auc(y, s) == pytest.approx(np.mean((g > i) + 0.5 * (g == i)))


def test_by_hand_small_example():
    # genuine scores 0.9, 0.8, 0.4; impostor 0.7, 0.3, 0.2, 0.1
    y = [1, 1, 0, 1, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.4, 0.3, 0.2, 0.1]
    far, tar, thr = v.roc_curve(y, s)
    np.testing.assert_allclose(far, [0, 0, 0, 0.25, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(tar, [0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1, 1])
    # 12 genuine-impostor comparisons, 11 won (0.4 loses to 0.7)
    assert v.roc_auc(y, s) == pytest.approx(11 / 12)
    assert v.far_frr(y, s, 0.75) == pytest.approx((0.0, 1 / 3))
    assert v.far_frr(y, s, 0.4) == pytest.approx((0.25, 0.0))
    assert v.tar_at_far(y, s, 0.0) == pytest.approx((2 / 3, 0.8))
    assert v.tar_at_far(y, s, 0.25) == pytest.approx((1.0, 0.4))
    # FAR - FRR: at t=0.8 (0, 1/3) -> at t=0.7 (0.25, 1/3): diff -1/3 -> -1/12; t=0.4 (0.25, 0): +1/4
    # crossing between (FAR 0.25, FRR 1/3) and (0.25, 0): FAR stays 0.25 -> EER 0.25
    e = v.eer(y, s)
    assert e.rate == pytest.approx(0.25)
    assert v.verification_accuracy(y, s, 0.4) == pytest.approx(6 / 7)
    # 0.8 and 0.4 both decide 6 of 7 pairs right; ties go to the higher threshold
    assert v.choose_threshold(y, s, "accuracy") == pytest.approx(0.8)
    assert v.choose_threshold(y, s, "far", far=0.0) == pytest.approx(0.8)


def test_eer_interpolates_between_roc_points():
    # genuine 2, 0; impostor 1, -1: FAR/FRR at t=2: (0, .5); t=1: (.5, .5) -> crossing exactly 0.5
    y, s = [1, 1, 0, 0], [2.0, 0.0, 1.0, -1.0]
    assert v.eer(y, s).rate == pytest.approx(0.5)
    # genuine 3, 2; impostor 2.5, 1: t=3 (0, .5), t=2.5 (.5, .5) -> .5? FRR at 2.5 is .5: equal
    y, s = [1, 1, 0, 0, 0, 0], [3.0, 2.0, 2.5, 1.0, 0.0, -1.0]
    e = v.eer(y, s)
    far, frr = v.far_frr(y, s, e.threshold)
    assert abs(far - frr) <= 0.5


def test_eer_separable_is_zero_and_sits_between_the_classes():
    y, s = [1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]
    e = v.eer(y, s)
    assert e.rate == 0.0
    assert v.far_frr(y, s, e.threshold) == (0.0, 0.0)


@pytest.mark.parametrize("seed", [0, 3])
def test_eer_against_sklearn_roc(seed):
    y, s = _random(n=2000, seed=seed)
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    fnr = 1 - tpr
    k = np.nanargmin(np.abs(fnr - fpr))
    e = v.eer(y, s)
    assert e.rate == pytest.approx((fpr[k] + fnr[k]) / 2, abs=2e-3)
    far, frr = v.far_frr(y, s, e.threshold)
    assert abs(far - frr) < 5e-3


def test_tar_at_far_is_the_best_admissible_point():
    y, s = _random(n=3000, seed=5)
    for target in (1e-3, 1e-2, 0.1):
        tar, t = v.tar_at_far(y, s, target)
        far, frr = v.far_frr(y, s, t)
        assert far <= target and tar == pytest.approx(1 - frr)
        fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
        assert tar == pytest.approx(tpr[fpr <= target].max())


def test_identification_ranks_by_hand():
    # 3 probes, gallery of identities 0, 0, 1, 2
    sim = np.array([[0.9, 0.1, 0.5, 0.2],   # true 0: best -> rank 1
                    [0.8, 0.7, 0.6, 0.1],   # true 1: 0 scores 0.8 > 0.6 -> rank 2
                    [0.3, 0.3, 0.3, 0.3]])  # true 2: tie with all -> worst rank 3
    ranks = v.identification_ranks(sim, [0, 1, 2], [0, 0, 1, 2])
    assert ranks.tolist() == [1, 2, 3]
    assert v.rank_k_accuracy(sim, [0, 1, 2], [0, 0, 1, 2], 1) == pytest.approx(1 / 3)
    assert v.rank_k_accuracy(sim, [0, 1, 2], [0, 0, 1, 2], 2) == pytest.approx(2 / 3)
    assert v.rank_k_accuracy(sim, [0, 1, 2], [0, 0, 1, 2], 3) == 1.0


def test_identification_matches_nearest_neighbour():
    rng = np.random.default_rng(0)
    gal = rng.normal(size=(20, 8)); gl = np.arange(20)
    probes = gal[gl % 20] + 0.5 * rng.normal(size=(20, 8))
    sim = -((probes[:, None] - gal[None]) ** 2).sum(-1)
    nn = gl[np.argmax(sim, axis=1)]
    assert v.rank_k_accuracy(sim, gl, gl, 1) == pytest.approx(np.mean(nn == gl))


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="same length"):
        v.roc_curve([1, 0], [0.1])
    with pytest.raises(ValueError, match="labels must be"):
        v.roc_curve([2, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        v.roc_auc([1, 0], [np.nan, 0.2])
    with pytest.raises(ValueError, match="far"):
        v.tar_at_far([1, 0], [1, 0], 2.0)
    with pytest.raises(ValueError, match="rule"):
        v.choose_threshold([1, 0], [1, 0], "best")
    with pytest.raises(ValueError, match="far"):
        v.choose_threshold([1, 0], [1, 0], "far")
    with pytest.raises(ValueError, match="similarity"):
        v.identification_ranks(np.zeros((2, 3)), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="no gallery"):
        v.identification_ranks(np.zeros((1, 2)), [5], [0, 1])
    with pytest.raises(ValueError, match="k must"):
        v.rank_k_accuracy(np.zeros((1, 1)), [0], [0], 0)


def test_re_exported():
    assert metrics.roc_auc is v.roc_auc and metrics.eer is v.eer and metrics.rank_k_accuracy is v.rank_k_accuracy
