"""PSNR from scratch vs scikit-image and tf.image; SSIM (skimage) vs tf.image.ssim."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio

from course_utils.metrics import psnr, ssim


def _pair(shape=(48, 40), noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(shape).astype(np.float32)
    y = np.clip(x + rng.normal(0, noise, shape), 0, 1).astype(np.float32)
    return x, y


def test_psnr_known_value():
    x = np.zeros((10, 10))
    assert np.isclose(psnr(x, x + 0.1), 20.0)
    assert np.isclose(psnr(x * 255, x * 255 + 10, data_range=255), 20 * np.log10(25.5))
    assert psnr(x, x) == float("inf")


def test_psnr_matches_skimage_and_tf():
    tf = pytest.importorskip("tensorflow")
    x, y = _pair((40, 50, 3))
    ours = psnr(x, y)
    assert np.isclose(ours, peak_signal_noise_ratio(x, y, data_range=1.0), atol=1e-6)
    assert np.isclose(ours, float(tf.image.psnr(x, y, max_val=1.0)), atol=1e-4)


def test_ssim_matches_tf_image_ssim():
    tf = pytest.importorskip("tensorflow")
    for shape, noise in [((64, 64), 0.05), ((50, 70), 0.2), ((40, 40, 3), 0.1)]:
        x, y = _pair(shape, noise)
        x3, y3 = (x[..., None], y[..., None]) if x.ndim == 2 else (x, y)
        ref = float(tf.image.ssim(x3, y3, max_val=1.0, filter_size=11, filter_sigma=1.5))
        assert abs(ssim(x, y) - ref) < 1e-3


def test_ssim_identity_and_range():
    x, y = _pair()
    assert np.isclose(ssim(x, x), 1.0)
    assert -1 <= ssim(x, y) < 1


def test_bad_input():
    with pytest.raises(ValueError, match="estimate"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="data_range"):
        psnr(np.zeros((4, 4)), np.ones((4, 4)), data_range=0)
    with pytest.raises(ValueError, match="reference"):
        ssim(np.zeros((5, 5)), np.zeros((5, 5)))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 0.5))
def test_psnr_properties(seed, scale):
    rng = np.random.default_rng(seed)
    x = rng.random((12, 12))
    e = rng.normal(0, 1, x.shape) * scale
    p1, p2 = psnr(x, x + e), psnr(x, x + 2 * e)
    assert np.isclose(p1 - p2, 20 * np.log10(2), atol=1e-6)  # doubling the error costs 6.02 dB
    assert np.isclose(p1, psnr(x + e, x))  # symmetric
