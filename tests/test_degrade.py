"""Tests for course_utils.degrade against scipy/scikit-image references and by properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, signal

from course_utils import degrade


def _img(h=32, w=40, seed=0):
    return np.random.default_rng(seed).random((h, w)).astype(np.float32)


def test_noise_has_the_right_sigma_and_is_seeded():
    x = np.full((256, 256), 0.5, np.float32)
    y = degrade.add_gaussian_noise(x, 25, seed=1)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert abs(float(np.std(y - x)) * 255 - 25) < 0.5
    assert abs(float(np.mean(y - x))) < 2e-3
    assert np.array_equal(y, degrade.add_gaussian_noise(x, 25, seed=1))
    assert not np.array_equal(y, degrade.add_gaussian_noise(x, 25, seed=2))


def test_noise_not_clipped_by_default_but_clippable():
    x = np.zeros((64, 64), np.float32)
    assert degrade.add_gaussian_noise(x, 50, seed=0).min() < 0
    c = degrade.add_gaussian_noise(x, 50, seed=0, clip=True)
    assert c.min() >= 0 and c.max() <= 1


def test_noise_bad_input():
    with pytest.raises(ValueError, match="sigma"):
        degrade.add_gaussian_noise(np.zeros((4, 4), np.float32), -1)
    with pytest.raises(ValueError, match="x must"):
        degrade.add_gaussian_noise(np.zeros((4, 4), np.uint8), 10)


def test_blur_matches_scipy_signal_in_the_interior():
    x = _img()
    k = degrade.gaussian_kernel(5, 1.0)
    assert k.shape == (5, 5) and np.isclose(k.sum(), 1)
    ours = degrade.blur(x, k)
    ref = signal.convolve2d(x, k, mode="valid")
    assert np.allclose(ours[2:-2, 2:-2], ref, atol=1e-6)
    wrapped = degrade.blur(x, k, mode="wrap")
    assert np.allclose(wrapped, ndimage.convolve(x.astype(float), k.astype(float), mode="wrap"), atol=1e-6)


def test_blur_colour_per_channel_and_motion_kernel():
    x = np.random.default_rng(0).random((20, 22, 3)).astype(np.float32)
    k = degrade.motion_kernel(7, 30)
    assert np.isclose(k.sum(), 1) and k.shape == (7, 7)
    out = degrade.blur(x, k)
    assert out.shape == x.shape
    assert np.allclose(out[..., 1], degrade.blur(x[..., 1], k))
    with pytest.raises(ValueError, match="kernel"):
        degrade.blur(x, np.ones(3))


def test_downsample_matches_pillow_bicubic_and_shapes_match():
    from PIL import Image

    x = _img(31, 40)
    low = degrade.downsample(x, 3)
    assert low.shape == (10, 13)
    ref = np.asarray(Image.fromarray(x[:30, :39], mode="F").resize((13, 10), Image.BICUBIC))
    assert np.allclose(low, ref, atol=1e-4)
    up = degrade.upsample_bicubic(low, 3)
    assert up.shape == degrade.modcrop(x, 3).shape
    ref_up = np.asarray(Image.fromarray(low, mode="F").resize((39, 30), Image.BICUBIC))
    assert np.allclose(up, ref_up, atol=1e-3)
    batch = degrade.downsample(np.stack([x, x])[..., None], 3)
    assert batch.shape == (2, 10, 13, 1) and np.allclose(batch[1, ..., 0], low)
    with pytest.raises(ValueError, match="scale"):
        degrade.downsample(x, 0)


def test_upsample_of_constant_is_constant():
    y = np.full((7, 9), 0.3, np.float32)
    assert np.allclose(degrade.upsample_bicubic(y, 3), 0.3, atol=1e-6)


def test_masks():
    m = degrade.random_mask((100, 100), 0.3, seed=0)
    assert m.dtype == bool and abs(m.mean() - 0.3) < 0.03
    assert np.array_equal(m, degrade.random_mask((100, 100), 0.3, seed=0))
    b = degrade.box_mask((50, 60), 10, n_boxes=1, seed=3)
    assert b.sum() == 100
    rows, cols = np.nonzero(b)
    assert rows.max() - rows.min() == 9 and cols.max() - cols.min() == 9
    x = _img(50, 60)
    masked = degrade.apply_mask(x, b)
    assert np.all(masked[b] == 0) and np.array_equal(masked[~b], x[~b])
    with pytest.raises(ValueError, match="fraction"):
        degrade.random_mask((4, 4), 1.5)
    with pytest.raises(ValueError, match="box_size"):
        degrade.box_mask((4, 4), 10)
    with pytest.raises(ValueError, match="mask"):
        degrade.apply_mask(x, b[:10])


def test_extract_patches_come_from_the_images():
    ims = {"a": _img(50, 60, 1), "b": _img(45, 70, 2)}
    p = degrade.extract_patches(ims, 16, 20, seed=0, augment=False)
    assert p.shape == (20, 16, 16, 1) and p.dtype == np.float32
    # every patch is a sub-window of one of the images
    for patch in p[:5, :, :, 0]:
        found = any(
            np.array_equal(im[r:r + 16, c:c + 16], patch)
            for im in ims.values() for r in range(im.shape[0] - 15) for c in range(im.shape[1] - 15))
        assert found
    assert np.array_equal(p, degrade.extract_patches(ims, 16, 20, seed=0, augment=False))
    with pytest.raises(ValueError, match="size"):
        degrade.extract_patches(ims, 100, 2)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(6, 40), w=st.integers(6, 40), s=st.integers(1, 4))
def test_downsample_shape_property(h, w, s):
    x = np.random.default_rng(h * w).random((h, w)).astype(np.float32)
    low = degrade.downsample(x, s)
    assert low.shape == (h // s, w // s)
    assert degrade.upsample_bicubic(low, s).shape == (h // s * s, w // s * s)


@settings(max_examples=25, deadline=None)
@given(sigma=st.floats(0, 60), seed=st.integers(0, 1000))
def test_noise_is_additive_property(sigma, seed):
    x = np.random.default_rng(seed).random((8, 8)).astype(np.float32)
    n = degrade.add_gaussian_noise(np.zeros_like(x), sigma, seed=seed)
    assert np.allclose(degrade.add_gaussian_noise(x, sigma, seed=seed), x + n, atol=1e-6)
