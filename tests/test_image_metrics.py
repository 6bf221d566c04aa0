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


def test_rgb_to_y_matches_skimage_rgb2ycbcr():
    from skimage.color import gray2rgb, rgb2ycbcr

    from course_utils.metrics.image import rgb_to_y

    rgb = np.random.default_rng(3).random((20, 24, 3))
    assert np.allclose(rgb_to_y(rgb) * 255, rgb2ycbcr(rgb)[..., 0], atol=1e-9)
    gray = rgb[..., 0]
    assert np.allclose(rgb_to_y(gray) * 255, rgb2ycbcr(gray2rgb(gray))[..., 0], atol=1e-9)
    with pytest.raises(ValueError, match="image"):
        rgb_to_y(np.zeros((4, 4, 2)))


def test_psnr_y_matches_skimage_with_shave():
    from skimage.color import gray2rgb, rgb2ycbcr

    from course_utils.metrics.image import psnr_y

    rng = np.random.default_rng(4)
    for shape in ((30, 33, 3), (30, 33)):
        ref = rng.random(shape)
        est = np.clip(ref + rng.normal(0, 0.05, shape), 0, 1)
        to_rgb = (lambda a: a) if len(shape) == 3 else gray2rgb
        y_ref, y_est = rgb2ycbcr(to_rgb(ref))[..., 0], rgb2ycbcr(to_rgb(est))[..., 0]
        expected = peak_signal_noise_ratio(y_ref[3:-3, 3:-3], y_est[3:-3, 3:-3], data_range=255)
        assert abs(psnr_y(ref, est, shave=3) - expected) < 1e-9
        # without a shave it is the full-image Y PSNR, which differs from the shaved one
        assert abs(psnr_y(ref, est) - peak_signal_noise_ratio(y_ref, y_est, data_range=255)) < 1e-9
    gray_ref = rng.random((40, 40))
    gray_est = np.clip(gray_ref + rng.normal(0, 0.05, (40, 40)), 0, 1)
    # studio range on a gray image: every error scaled by 219/255, i.e. +20 log10(255/219) dB
    assert np.isclose(psnr_y(gray_ref, gray_est) - psnr(gray_ref, gray_est), 20 * np.log10(255 / 219))


def test_psnr_y_bad_shave():
    from course_utils.metrics.image import psnr_y

    x = np.zeros((10, 10))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="shave"):
            psnr_y(x, x, shave=bad)
    with pytest.raises(ValueError, match="shave"):
        psnr_y(x, x, shave=5)
