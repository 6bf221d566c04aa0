"""Image-quality metrics for restoration (notebook 07): PSNR and SSIM.

``psnr`` is written from scratch (and tested against ``skimage.metrics.peak_signal_noise_ratio``
and ``tf.image.psnr``). ``ssim`` calls scikit-image's ``structural_similarity`` with the settings
of Wang et al. (2004) that ``tf.image.ssim`` also uses: an 11 x 11 Gaussian window with sigma 1.5
(``gaussian_weights=True``, ``sigma=1.5``, ``truncate=3.5``), K1 = 0.01, K2 = 0.03, population
covariances (``use_sample_covariance=False``), statistics only where the window fits (no border
padding), and ``data_range=1`` for images in [0, 1]. With these settings the two libraries agree
to about 1e-4 (the unit tests allow 1e-3).

``psnr_y`` is PSNR as the super-resolution literature reports it (SRCNN, EDSR and most
benchmarks): on the luma Y of ITU-R BT.601 YCbCr in studio range (16-235 on the 0-255 scale,
MATLAB's ``rgb2ycbcr``), after shaving ``shave`` pixels (usually the scale factor) off every border.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mse", "psnr", "psnr_y", "rgb_to_y", "ssim"]


def _pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference.shape != estimate.shape:
        raise ValueError(f"estimate must have the shape of reference {reference.shape}; "
                         f"got {estimate.shape}")
    if reference.size == 0:
        raise ValueError("reference must not be empty; got shape " + str(reference.shape))
    return reference, estimate


def mse(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean squared error over all pixels (and channels) of two same-shape arrays."""
    reference, estimate = _pair(reference, estimate)
    return float(np.mean((reference - estimate) ** 2))


def psnr(reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    ``reference`` (the clean image) and ``estimate`` have the same shape, any number of axes;
    the MSE is taken over all of them. ``data_range`` is the peak value (1 for images in [0, 1],
    255 for uint8). Identical images give ``inf``. The estimate is not clipped: clip it yourself
    if the method can leave [0, 1].
    """
    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a finite number > 0; got {data_range!r}")
    err = mse(reference, estimate)
    if err == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range ** 2 / err))


def ssim(reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004) of two grayscale or colour images.

    ``reference`` and ``estimate``: (H, W) or (H, W, C) with H, W >= 11; colour images are
    averaged over channels. Settings in the module docstring (the same as ``tf.image.ssim``).
    Returns a float in [-1, 1]; 1 means identical.
    """
    from skimage.metrics import structural_similarity

    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a finite number > 0; got {data_range!r}")
    reference, estimate = _pair(reference, estimate)
    if reference.ndim not in (2, 3) or min(reference.shape[:2]) < 11:
        raise ValueError(f"reference must be (H, W) or (H, W, C) with H, W >= 11; "
                         f"got shape {reference.shape}")
    return float(structural_similarity(
        reference, estimate, data_range=data_range, gaussian_weights=True, sigma=1.5,
        truncate=3.5, use_sample_covariance=False, K1=0.01, K2=0.03,
        channel_axis=-1 if reference.ndim == 3 else None))


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """BT.601 studio-range luma, ``(16 + 65.481 R + 128.553 G + 24.966 B) / 255``, of an image in [0, 1].

    ``image`` is (H, W, 3) RGB or (H, W) gray; a gray image is treated as R = G = B, so its Y is
    ``(16 + 219 g) / 255``. The result is (H, W) in [16/255, 235/255] for inputs in [0, 1], the same
    as ``skimage.color.rgb2ycbcr(image)[..., 0] / 255``.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return (16.0 + 219.0 * image) / 255.0
    if image.ndim == 3 and image.shape[-1] == 3:
        return (16.0 + image @ np.array([65.481, 128.553, 24.966])) / 255.0
    raise ValueError(f"image must be (H, W) gray or (H, W, 3) RGB; got shape {image.shape}")


def psnr_y(reference: np.ndarray, estimate: np.ndarray, shave: int = 0) -> float:
    """PSNR in dB on the BT.601 Y channel (``rgb_to_y``) with ``shave`` border pixels removed.

    ``reference`` and ``estimate`` are (H, W) gray or (H, W, 3) RGB images in [0, 1]. This is the
    convention of SRCNN/EDSR-style super-resolution tables (``shave`` = the scale factor), so the
    numbers can be set beside published ones. On a gray image the studio range scales every error
    by 219/255, which alone adds ``20 log10(255/219)`` = 1.32 dB to the plain PSNR.
    """
    if isinstance(shave, bool) or not isinstance(shave, (int, np.integer)) or shave < 0:
        raise ValueError(f"shave must be an integer >= 0; got {shave!r}")
    reference, estimate = _pair(reference, estimate)
    ref_y, est_y = rgb_to_y(reference), rgb_to_y(estimate)
    if shave:
        if min(ref_y.shape) <= 2 * shave:
            raise ValueError(f"shave={shave} leaves no pixels of a {ref_y.shape[1]}x{ref_y.shape[0]} image")
        ref_y, est_y = ref_y[shave:-shave, shave:-shave], est_y[shave:-shave, shave:-shave]
    return psnr(ref_y, est_y, data_range=1.0)
