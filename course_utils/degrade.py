"""Degradation models for image restoration (notebook 07): y = H x + n.

Every function takes images as float NumPy arrays in [0, 1] with shape (H, W) (grayscale) or
(H, W, C), and returns float32. Everything random takes a ``seed`` (an int or a
``numpy.random.Generator``), so a degraded image is reproducible.

Conventions, stated once:

* Noise: ``add_gaussian_noise(x, sigma=25)`` adds N(0, (sigma/255)^2) to each pixel, so ``sigma``
  is on the usual 0-255 scale. By default the result is **not clipped** to [0, 1], as in the
  DnCNN literature (clipping changes the noise statistics and biases dark and bright areas);
  pass ``clip=True`` for an image you want to display or save.
* Blur: ``blur(x, kernel)`` is a 2-D convolution with ``scipy.ndimage.convolve``; ``mode="wrap"``
  (circular) matches the model behind Wiener deconvolution in the Fourier domain.
* Downsampling: ``downsample(x, s)`` is ``tf.image.resize(method="bicubic", antialias=True)``
  (the Keys cubic kernel, a = -0.5, stretched by ``s`` to filter out aliasing, as MATLAB's
  ``imresize`` that the super-resolution literature uses), after cropping H and W to multiples
  of ``s``; ``upsample_bicubic(y, s)`` is the same bicubic ``resize`` upwards, the *bicubic*
  baseline. Training and test low-resolution images are made by the same function. (TensorFlow
  is imported inside these two functions only.)
* Masks: ``True`` marks a **missing** pixel (the hole), as in
  ``skimage.restoration.inpaint_biharmonic``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

SeedLike = int | np.random.Generator | None

__all__ = [
    "add_gaussian_noise",
    "apply_mask",
    "blur",
    "box_mask",
    "downsample",
    "extract_patches",
    "gaussian_kernel",
    "modcrop",
    "motion_kernel",
    "random_mask",
    "upsample_bicubic",
]


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _image(x: np.ndarray, name: str = "image") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C); got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be a float array in [0, 1]; got dtype {x.dtype}")
    return x.astype(np.float32, copy=False)


def _scale(s: int) -> int:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
        raise ValueError(f"scale must be a positive int; got {s!r}")
    return int(s)


def add_gaussian_noise(x: np.ndarray, sigma: float = 25.0, seed: SeedLike = 0,
                       clip: bool = False) -> np.ndarray:
    """Add white Gaussian noise with standard deviation ``sigma`` on the 0-255 scale.

    ``x`` is a float image in [0, 1], shape (H, W) or (H, W, C) (or any batch of them, e.g.
    (N, H, W, 1)). Returns ``x + n`` with ``n ~ N(0, (sigma / 255)^2)`` i.i.d., float32, same shape;
    not clipped unless ``clip=True`` (see the module docstring).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a float array in [0, 1]; got dtype {x.dtype}")
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0 (0-255 scale); got {sigma!r}")
    noise = _rng(seed).standard_normal(x.shape).astype(np.float32) * np.float32(sigma / 255.0)
    y = x.astype(np.float32) + noise
    return np.clip(y, 0.0, 1.0) if clip else y


def gaussian_kernel(size: int = 9, sigma: float = 1.5) -> np.ndarray:
    """A normalised 2-D Gaussian blur kernel, float32 (size, size), summing to 1."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int; got {size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (pixels); got {sigma!r}")
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(r ** 2) / (2 * sigma ** 2))
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def motion_kernel(length: int = 9, angle: float = 0.0) -> np.ndarray:
    """A normalised linear motion-blur kernel (length x length), along ``angle`` degrees."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive int; got {length!r}")
    k = np.zeros((length, length), np.float64)
    c = (length - 1) / 2
    t = np.deg2rad(angle)
    for u in np.linspace(-c, c, 4 * length):
        k[int(round(c - u * np.sin(t))), int(round(c + u * np.cos(t)))] = 1.0
    return (k / k.sum()).astype(np.float32)


def blur(x: np.ndarray, kernel: np.ndarray, mode: str = "reflect") -> np.ndarray:
    """Convolve an image with a 2-D ``kernel`` (each channel separately).

    ``x``: (H, W) or (H, W, C) float in [0, 1]; ``kernel``: (kh, kw), normally summing to 1.
    ``mode`` is the border rule of ``scipy.ndimage.convolve`` ("reflect", "wrap", "nearest",
    "constant", "mirror"); "wrap" is circular convolution. Returns float32, same shape as ``x``.
    """
    x = _image(x, "x")
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"kernel must be a non-empty 2-D array; got shape {kernel.shape}")
    if mode not in ("reflect", "wrap", "nearest", "constant", "mirror"):
        raise ValueError(f"mode must be one of reflect, wrap, nearest, constant, mirror; got {mode!r}")
    if x.ndim == 2:
        return ndimage.convolve(x.astype(np.float64), kernel, mode=mode).astype(np.float32)
    return np.stack([blur(x[..., c], kernel, mode) for c in range(x.shape[-1])], axis=-1)


def modcrop(x: np.ndarray, s: int) -> np.ndarray:
    """Crop H and W (from the bottom/right) down to multiples of ``s``; (H, W[, C])."""
    x = _image(x, "x")
    s = _scale(s)
    h, w = (x.shape[0] // s) * s, (x.shape[1] // s) * s
    if h == 0 or w == 0:
        raise ValueError(f"x of shape {x.shape} is smaller than the scale {s}")
    return x[:h, :w]


def _resize_bicubic(x: np.ndarray, size: tuple[int, int], antialias: bool) -> np.ndarray:
    """``tf.image.resize(method="bicubic")`` on (H, W), (H, W, C) or (N, H, W, C) arrays."""
    import tensorflow as tf

    squeeze = x.ndim == 2
    t = x[..., None] if squeeze else x
    out = tf.image.resize(t, size, method="bicubic", antialias=antialias).numpy()
    return (out[..., 0] if squeeze else out).astype(np.float32)


def downsample(x: np.ndarray, s: int = 3) -> np.ndarray:
    """Bicubic downsampling by an integer factor ``s`` (see the module docstring).

    ``x``: (H, W), (H, W, C) or a batch (N, H, W, C), in [0, 1]. H and W are first cropped to
    multiples of ``s`` (``modcrop``), so the result has shape (H // s, W // s) and
    ``upsample_bicubic(downsample(x, s), s)`` has the shape of ``modcrop(x, s)``. Uses
    ``tf.image.resize(method="bicubic", antialias=True)``: the Keys cubic kernel (a = -0.5)
    stretched by ``s``, like MATLAB's ``imresize``, the convention of the super-resolution
    literature. Returns float32 (not clipped).
    """
    x = np.asarray(x)
    s = _scale(s)
    if x.ndim == 4:
        _image(x[0], "x")
        h, w = x.shape[1] // s * s, x.shape[2] // s * s
        if h == 0 or w == 0:
            raise ValueError(f"x of shape {x.shape} is smaller than the scale {s}")
        return _resize_bicubic(x[:, :h, :w].astype(np.float32), (h // s, w // s), True)
    x = modcrop(x, s)
    return _resize_bicubic(x, (x.shape[0] // s, x.shape[1] // s), antialias=True)


def upsample_bicubic(y: np.ndarray, s: int = 3) -> np.ndarray:
    """Upscale by ``s`` with bicubic interpolation (``tf.image.resize``, Keys kernel a = -0.5).

    The classical super-resolution baseline. ``y``: (h, w) or (h, w, C); returns (s h, s w[, C]),
    float32 (not clipped).
    """
    y = _image(y, "y")
    s = _scale(s)
    return _resize_bicubic(y, (y.shape[0] * s, y.shape[1] * s), antialias=False)


def random_mask(shape: Sequence[int], fraction: float = 0.5, seed: SeedLike = 0) -> np.ndarray:
    """A bool mask of ``shape`` (H, W) where each pixel is missing (True) with prob. ``fraction``."""
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (H, W) with positive sizes; got {shape}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1]; got {fraction!r}")
    return _rng(seed).random(shape) < fraction


def box_mask(shape: Sequence[int], box_size: int | tuple[int, int] = 16, n_boxes: int = 1,
             seed: SeedLike = 0) -> np.ndarray:
    """A bool (H, W) mask with ``n_boxes`` missing rectangles (True) of ``box_size`` pixels.

    ``box_size`` is an int (square) or (height, width); the boxes are placed uniformly at random
    inside the image (they may overlap).
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (H, W) with positive sizes; got {shape}")
    bh, bw = (box_size, box_size) if np.isscalar(box_size) else tuple(box_size)
    if bh < 1 or bw < 1 or bh > shape[0] or bw > shape[1]:
        raise ValueError(f"box_size must be >= 1 and fit in {shape}; got {box_size!r}")
    if n_boxes < 0:
        raise ValueError(f"n_boxes must be >= 0; got {n_boxes!r}")
    rng = _rng(seed)
    mask = np.zeros(shape, bool)
    for _ in range(int(n_boxes)):
        r = rng.integers(0, shape[0] - bh + 1)
        c = rng.integers(0, shape[1] - bw + 1)
        mask[r:r + bh, c:c + bw] = True
    return mask


def apply_mask(x: np.ndarray, mask: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Set the missing pixels (``mask`` True) of ``x`` to ``fill``; ``mask`` is (H, W)."""
    x = _image(x, "x")
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask must have shape {x.shape[:2]} (the image's H, W); got {mask.shape}")
    out = x.copy()
    out[mask] = fill
    return out


def extract_patches(images: Sequence[np.ndarray] | Mapping[str, np.ndarray] | np.ndarray,
                    size: int = 40, n: int = 1000, seed: SeedLike = 0,
                    augment: bool = True, by_area: bool = False) -> np.ndarray:
    """Random square patches for training, float32 (n, size, size, C).

    ``images``: a list (or dict, or a single array) of (H, W) or (H, W, C) images, each at least
    ``size`` x ``size``; grayscale images give C = 1. Each patch picks an image uniformly (or,
    with ``by_area``, with probability proportional to its area), then a uniform position; with ``augment`` it is also flipped and
    rotated by a random multiple of 90 degrees (the 8 dihedral transforms, as in DnCNN).
    """
    if isinstance(images, Mapping):
        images = list(images.values())
    elif isinstance(images, np.ndarray):
        images = [images]
    images = [_image(im, "images") for im in images]
    if not images:
        raise ValueError("images must contain at least one image; got none")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int; got {size!r}")
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n!r}")
    channels = {1 if im.ndim == 2 else im.shape[2] for im in images}
    if len(channels) != 1:
        raise ValueError(f"images must all have the same number of channels; got {sorted(channels)}")
    small = [im.shape for im in images if im.shape[0] < size or im.shape[1] < size]
    if small:
        raise ValueError(f"size {size} is larger than an image of shape {small[0]}")
    c = channels.pop()
    rng = _rng(seed)
    areas = np.array([im.shape[0] * im.shape[1] for im in images], float)
    which = rng.choice(len(images), size=n, p=areas / areas.sum() if by_area else None)
    out = np.empty((n, size, size, c), np.float32)
    for i, k in enumerate(which):
        im = images[k]
        r = rng.integers(0, im.shape[0] - size + 1)
        col = rng.integers(0, im.shape[1] - size + 1)
        p = im[r:r + size, col:col + size].reshape(size, size, c)
        if augment:
            p = np.rot90(p, rng.integers(4))
            if rng.random() < 0.5:
                p = p[:, ::-1]
        out[i] = p
    return out
