"""Image-quality metrics for restoration (notebook 07): PSNR and SSIM.

``psnr`` is written from scratch (and tested against ``skimage.metrics.peak_signal_noise_ratio``
and ``tf.image.psnr``). ``ssim`` calls scikit-image's ``structural_similarity`` with the settings
of Wang et al. (2004) that ``tf.image.ssim`` also uses: an 11 x 11 Gaussian window with sigma 1.5
(``gaussian_weights=True``, ``sigma=1.5``, ``truncate=3.5``), K1 = 0.01, K2 = 0.03, population
covariances (``use_sample_covariance=False``), statistics only where the window fits (no border
padding), and ``data_range=1`` for images in [0, 1]. With these settings the two libraries agree
to about 1e-4 (the unit tests allow 1e-3).
"""

from __future__ import annotations

import numpy as np

__all__ = ["mse", "psnr", "ssim"]


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
