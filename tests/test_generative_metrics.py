"""Tests for course_utils.metrics.generative (Frechet distance)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.metrics import frechet_distance, gaussian_frechet_distance
from course_utils.metrics.generative import feature_statistics


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix by eigendecomposition (independent of sqrtm)."""
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _reference(mu1, s1, mu2, s2) -> float:
    """Closed form with the symmetric form Tr((S1^1/2 S2 S1^1/2)^1/2) (Dowson & Landau 1982)."""
    r1 = _psd_sqrt(s1)
    cross = _psd_sqrt(r1 @ s2 @ r1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(cross))


def _random_cov(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_diagonal_gaussians_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = gaussian_frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-10)
    # by hand: 1 + 0 + 6.25 + (1 + 9 - 6) + (4 + 1 - 4) + 0 = 12.25
    assert got == pytest.approx(12.25, rel=1e-10)


def test_one_dimensional_is_mean_plus_std_difference():
    # In 1-D the distance is (m1 - m2)^2 + (s1 - s2)^2 with standard deviations s.
    got = gaussian_frechet_distance(np.array([2.0]), np.array([[4.0]]), np.array([-1.0]), np.array([[0.25]]))
    assert got == pytest.approx(3.0**2 + (2.0 - 0.5) ** 2)


def test_full_covariances_match_symmetric_reference():
    rng = np.random.default_rng(0)
    for d in (2, 5, 16):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
        assert gaussian_frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
            _reference(mu1, s1, mu2, s2), rel=1e-6, abs=1e-9
        )


def test_samples_converge_to_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = np.array([0.0, 0.0]), np.array([3.0, -1.0])
    s1, s2 = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    a = rng.multivariate_normal(mu1, s1, size=200_000)
    b = rng.multivariate_normal(mu2, s2, size=200_000)
    expected = 10.0 + (1 + 4 - 4) + (4 + 1 - 4)  # = 12
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_feature_statistics_match_numpy():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 4))
    mu, sigma = feature_statistics(x)
    assert np.allclose(mu, x.mean(0))
    assert np.allclose(sigma, np.cov(x.T, ddof=1))


def test_zero_on_identical_sets_and_singular_covariance():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(100, 8))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    # More dimensions than samples: singular covariance, still finite, ~0 on itself.
    y = rng.normal(size=(10, 32))
    value = frechet_distance(y, y)
    assert np.isfinite(value) and value == pytest.approx(0.0, abs=1e-3)


def test_pure_shift_gives_squared_shift():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 6))
    shift = np.arange(6.0)
    assert frechet_distance(x, x + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_a=st.integers(5, 60),
    n_b=st.integers(5, 60),
    d=st.integers(1, 4),
    scale=st.floats(0.1, 10.0),
)
def test_properties_symmetric_nonnegative_translation_invariant(seed, n_a, n_b, d, scale):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_a, d)) * scale
    b = rng.normal(size=(n_b, d)) * rng.uniform(0.5, 2.0) + rng.normal(size=d)
    ab, ba = frechet_distance(a, b), frechet_distance(b, a)
    assert ab >= 0
    assert ab == pytest.approx(ba, rel=1e-6, abs=1e-8 * scale**2)
    shift = rng.normal(size=d) * 5
    assert frechet_distance(a + shift, b + shift) == pytest.approx(ab, rel=1e-6, abs=1e-8 * scale**2)
    mu_a, s_a = feature_statistics(a)
    mu_b, s_b = feature_statistics(b)
    assert ab == pytest.approx(_reference(mu_a, s_a, mu_b, s_b), rel=1e-5, abs=1e-7 * scale**2)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.zeros((10,)), np.zeros((10, 2)), "features_a"),
        (np.zeros((10, 2)), np.zeros((10, 3, 1)), "features_b"),
        (np.zeros((1, 2)), np.zeros((10, 2)), "at least 2 rows"),
        (np.zeros((10, 2)), np.zeros((10, 3)), "same feature dimension"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), np.zeros((2, 2)), "real numbers"),
    ],
)
def test_frechet_distance_rejects_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


def test_gaussian_frechet_distance_rejects_bad_input():
    mu, sigma = np.zeros(2), np.eye(2)
    with pytest.raises(ValueError, match="mu1"):
        gaussian_frechet_distance(np.zeros((2, 1)), sigma, mu, sigma)
    with pytest.raises(ValueError, match="sigma2"):
        gaussian_frechet_distance(mu, sigma, mu, np.eye(3))
    with pytest.raises(ValueError, match="same dimension"):
        gaussian_frechet_distance(mu, sigma, np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        gaussian_frechet_distance(mu, np.array([[1.0, 0.5], [0.0, 1.0]]), mu, sigma)
    with pytest.raises(ValueError, match="positive semi-definite"):
        gaussian_frechet_distance(mu, np.diag([1.0, -1.0]), mu, sigma)


def test_constant_features_are_handled_without_warning(recwarn):
    # Dead ReLU units give constant features and singular covariances.
    rng = np.random.default_rng(5)
    a = np.maximum(rng.normal(size=(400, 40)), 0)
    b = np.maximum(rng.normal(size=(400, 40)) + 0.3, 0)
    a[:, :8] = 0
    b[:, :8] = 0
    got = frechet_distance(a, b)
    mu_a, s_a = feature_statistics(a)
    mu_b, s_b = feature_statistics(b)
    assert got == pytest.approx(_reference(mu_a, s_a, mu_b, s_b), rel=1e-3)
    assert not [w for w in recwarn if "singular" in str(w.message).lower()]


# --- weighted statistics and the bootstrap interval (notebook 06's class-mix control) ---

from course_utils.metrics.generative import frechet_distance_interval  # noqa: E402


def test_weights_equal_repeating_rows():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 4))
    counts = np.array([2, 0, 1, 1, 3, 0, 1, 1, 0, 2, 1, 0])  # sums to 12 = N
    repeated = np.repeat(x, counts, axis=0)
    mu_w, s_w = feature_statistics(x, weights=counts)
    assert np.allclose(mu_w, repeated.mean(axis=0))
    assert np.allclose(s_w, np.cov(repeated, rowvar=False))
    # weights are rescaled, so any multiple gives the same statistics
    mu_2, s_2 = feature_statistics(x, weights=5 * counts)
    assert np.allclose(mu_2, mu_w) and np.allclose(s_2, s_w)


def test_uniform_weights_change_nothing_and_reweighting_fixes_a_class_mix():
    rng = np.random.default_rng(4)
    b = np.concatenate([rng.normal(0, 1, (2000, 2)), rng.normal(4, 1, (2000, 2))])  # 50/50 mix
    a = np.concatenate([rng.normal(0, 1, (3000, 2)), rng.normal(4, 1, (1000, 2))])  # 75/25 mix
    assert np.isclose(frechet_distance(a, b, weights_a=np.ones(len(a))), frechet_distance(a, b))
    w = np.r_[np.full(3000, 0.5 / 0.75), np.full(1000, 0.5 / 0.25)]  # target share / own share
    assert frechet_distance(a, b, weights_a=w) < 0.05 < frechet_distance(a, b)


def test_interval_width_matches_the_spread_of_independent_draws():
    # The bootstrap must reproduce how much the distance moves between independent samples.
    rng = np.random.default_rng(5)
    n = 400
    draw = lambda: (rng.normal(0, 1, (n, 2)), rng.normal(0.5, 1.2, (n, 2)))
    spread = np.std([frechet_distance(*draw()) for _ in range(200)])
    widths = []
    for _ in range(5):
        a, b = draw()
        value, low, high = frechet_distance_interval(a, b, n_boot=200, seed=0)
        assert low < value < high and np.isclose(value, frechet_distance(a, b))
        widths.append((high - low) / (2 * 1.96))  # the standard deviation a normal interval implies
    assert 0.6 * spread < np.median(widths) < 1.6 * spread
    a, b = rng.normal(0, 1, (16 * n, 2)), rng.normal(0.5, 1.2, (16 * n, 2))
    _, low16, high16 = frechet_distance_interval(a, b, n_boot=100, seed=0)
    assert (high16 - low16) / (2 * 1.96) < np.median(widths) / 2  # 16x the images: ~1/4 the width


@pytest.mark.parametrize("kwargs, match", [
    ({"n_boot": 3}, "n_boot"), ({"confidence": 1.5}, "confidence"),
    ({"weights_a": np.ones(3)}, "weights"), ({"weights_a": -np.ones(20)}, "weights"),
])
def test_interval_rejects_bad_input(kwargs, match):
    a = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=match):
        frechet_distance_interval(a, a + 1, **kwargs)


def test_interval_contains_a_small_floor():
    # Two real-vs-real sets: the distance is small, resampling bias is not; the interval must
    # still surround the value (a plain percentile interval would lie entirely above it).
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(300, 20)), rng.normal(size=(300, 20))
    value, low, high = frechet_distance_interval(a, b, n_boot=100, seed=0)
    assert 0 <= low < value < high


def test_bootstrap_fast_path_matches_the_helper_on_singular_relu_features():
    from course_utils.metrics.generative import _symmetric_frechet

    rng = np.random.default_rng(7)
    for dead in (0, 20):
        a = np.maximum(rng.normal(size=(300, 40)), 0)
        b = np.maximum(rng.normal(0.2, 1.1, size=(250, 40)), 0)
        a[:, :dead] = 0.0
        b[:, :dead] = 0.0  # dead units: singular covariances
        mu_a, s_a = feature_statistics(a)
        mu_b, s_b = feature_statistics(b)
        assert np.isclose(_symmetric_frechet(mu_a, s_a, mu_b, s_b), frechet_distance(a, b), rtol=1e-3, atol=1e-3)


def test_frechet_distance_at_removes_the_small_sample_bias():
    """Gaussian sets with a known distance: the 1/N extrapolation of 200 rows lands nearer the truth."""
    from course_utils.metrics import frechet_distance, frechet_distance_at

    rng = np.random.default_rng(0)
    d = 8
    b = rng.normal(0.5, 1.0, size=(50_000, d))
    truth = d * 0.25  # ||mu_a - mu_b||^2 with equal covariances
    raw, extrapolated = [], []
    for k in range(10):
        a = np.random.default_rng(k + 1).normal(0.0, 1.0, size=(200, d))
        raw.append(frechet_distance(a, b))
        extrapolated.append(frechet_distance_at(a, b, np.inf, seed=k))
    assert np.mean(raw) - truth > 0.03  # the bias the helper removes
    assert abs(np.mean(extrapolated) - truth) < 0.5 * (np.mean(raw) - truth)
    a = rng.normal(0.0, 1.0, size=(200, d))
    assert abs(frechet_distance_at(a, b, 200, seed=0) - frechet_distance(a, b)) < 0.05  # at N_a: the raw value


def test_frechet_distance_at_rejects_bad_input():
    from course_utils.metrics import frechet_distance_at

    a, b = np.zeros((50, 4)) + np.arange(50)[:, None] % 7, np.ones((60, 4)) * np.arange(60)[:, None] % 5
    with pytest.raises(ValueError, match="n_target"):
        frechet_distance_at(a, b, 0)
    with pytest.raises(ValueError, match="sizes"):
        frechet_distance_at(a, b, 100, sizes=(50,))
    with pytest.raises(ValueError, match="sizes"):
        frechet_distance_at(a, b, 100, sizes=(3, 50))
    with pytest.raises(ValueError, match="features_a and features_b"):
        frechet_distance_at(a, b[:, :3], 100)
