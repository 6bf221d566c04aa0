"""Metrics for generative models: the Frechet distance between two sets of features.

Heusel et al. (2017) compare generated and real images by fitting a Gaussian to each set's
features (they use an Inception network's pooling layer; notebook 06 uses the course
classifier's ``features`` layer) and measuring the Frechet (2-Wasserstein) distance between
the two Gaussians, which has a closed form (Dowson & Landau, 1982):

    d^2 = ||mu_a - mu_b||^2 + Tr(Sigma_a + Sigma_b - 2 (Sigma_a Sigma_b)^(1/2)).

The values are squared feature units, as in the usual "FID"; lower is better and 0 means
the two Gaussians coincide.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

__all__ = ["frechet_distance", "gaussian_frechet_distance", "feature_statistics"]

#: Imaginary parts of (Sigma_a Sigma_b)^(1/2) below this fraction of its largest real
#: diagonal entry are numerical noise and dropped; larger ones raise.
IMAGINARY_TOLERANCE = 1e-3


def feature_statistics(features: np.ndarray, *, name: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of an ``(N, D)`` feature array, N >= 2."""
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) array of feature vectors, got shape {x.shape}")
    if x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least 2 rows (samples) and 1 column (feature), got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, mu_name: str, sigma_name: str):
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"{mu_name} must be a non-empty 1-D mean vector (D,), got shape {mu.shape}")
    d = mu.shape[0]
    if sigma.shape != (d, d):
        raise ValueError(
            f"{sigma_name} must be a ({d}, {d}) covariance matrix to match {mu_name}, got shape {sigma.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"{mu_name} and {sigma_name} must be finite")
    if not np.allclose(sigma, sigma.T, rtol=1e-5, atol=1e-8 * max(1.0, np.abs(sigma).max())):
        raise ValueError(f"{sigma_name} must be symmetric (a covariance matrix)")
    return mu, sigma


def gaussian_frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, *, eps: float = 1e-6
) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``mu1``, ``mu2`` are ``(D,)`` means and ``sigma1``, ``sigma2`` ``(D, D)`` covariances.
    The matrix square root comes from ``scipy.linalg.sqrtm``; when the product is singular
    (a constant feature, or fewer samples than dimensions), ``eps`` is added to both
    diagonals and the root is taken again; imaginary parts left by rounding are dropped (large ones raise ``ValueError``).
    Returns a float >= 0 in squared feature units.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, "mu1", "sigma1")
    mu2, sigma2 = _check_gaussian(mu2, sigma2, "mu2", "sigma2")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"mu1 and mu2 must have the same dimension, got {mu1.shape[0]} and {mu2.shape[0]}"
        )
    if not eps >= 0:
        raise ValueError(f"eps must be a non-negative float, got {eps!r}")

    diff = mu1 - mu2
    with warnings.catch_warnings():
        # scipy warns "Matrix is singular" when a feature is constant (e.g. a dead ReLU unit).
        warnings.simplefilter("error", linalg.LinAlgWarning)
        try:
            covmean = linalg.sqrtm(sigma1 @ sigma2)
            singular = not np.all(np.isfinite(covmean))
        except linalg.LinAlgWarning:
            singular = True
    if singular:
        offset = np.eye(mu1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(np.diagonal(covmean).real).max()))
        worst = float(np.abs(np.diagonal(covmean).imag).max())
        if worst > IMAGINARY_TOLERANCE * scale:
            raise ValueError(
                f"the square root of sigma1 @ sigma2 has imaginary diagonal entries up to {worst:.3g}; "
                "are sigma1 and sigma2 positive semi-definite covariance matrices?"
            )
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray, *, eps: float = 1e-6) -> float:
    """Frechet distance between two sets of feature vectors (the "FID" recipe).

    ``features_a`` is ``(N_a, D)`` and ``features_b`` ``(N_b, D)`` (e.g. classifier
    features of generated and of held-out real images; N >= 2 each, ideally N >> D). Each
    set is summarised by its mean and unbiased covariance and the squared Frechet distance
    between the two Gaussians is returned (see :func:`gaussian_frechet_distance`). It is
    symmetric, 0 for identical sets, and biased upwards for small N, so compare values
    only at the same N.
    """
    a = np.asarray(features_a)
    b = np.asarray(features_b)
    mu_a, sigma_a = feature_statistics(a, name="features_a")
    mu_b, sigma_b = feature_statistics(b, name="features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same feature dimension D, "
            f"got {a.shape[1]} and {b.shape[1]}"
        )
    return gaussian_frechet_distance(mu_a, sigma_a, mu_b, sigma_b, eps=eps)
