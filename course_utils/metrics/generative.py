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

__all__ = ["frechet_distance", "frechet_distance_at", "frechet_distance_interval", "gaussian_frechet_distance",
           "feature_statistics"]

#: Imaginary parts of (Sigma_a Sigma_b)^(1/2) below this fraction of its largest real
#: diagonal entry are numerical noise and dropped; larger ones raise.
IMAGINARY_TOLERANCE = 1e-3


def _check_weights(weights, n: int, name: str) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{name} must be a 1-D array of {n} weights (one per row), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero")
    return w * (n / w.sum())  # rescaled to sum to N


def feature_statistics(
    features: np.ndarray, *, weights: np.ndarray | None = None, name: str = "features"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of an ``(N, D)`` feature array, N >= 2.

    ``weights`` (``(N,)``, non-negative) weight the rows, e.g. to reweight generated images to
    another class mix. They are rescaled to sum to N; the mean is ``sum(w x) / N`` and the
    covariance ``sum(w (x - mean)(x - mean)^T) / (N - 1)``, so integer weights that sum to N
    give exactly the statistics of the set with each row repeated ``w`` times.
    """
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
    w = _check_weights(weights, x.shape[0], f"weights of {name}")
    if w is None:
        return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))
    n = x.shape[0]
    mu = (w[:, None] * x).sum(axis=0) / n
    centred = x - mu
    return mu, np.atleast_2d((w[:, None] * centred).T @ centred / (n - 1))


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


def frechet_distance(
    features_a: np.ndarray,
    features_b: np.ndarray,
    *,
    eps: float = 1e-6,
    weights_a: np.ndarray | None = None,
) -> float:
    """Frechet distance between two sets of feature vectors (the "FID" recipe).

    ``features_a`` is ``(N_a, D)`` and ``features_b`` ``(N_b, D)`` (e.g. classifier
    features of generated and of held-out real images; N >= 2 each, ideally N >> D). Each
    set is summarised by its mean and unbiased covariance and the squared Frechet distance
    between the two Gaussians is returned (see :func:`gaussian_frechet_distance`). It is
    symmetric, 0 for identical sets, and biased upwards for small N, so compare values
    only at the same N. ``weights_a`` (``(N_a,)``) weights the rows of ``features_a``
    (see :func:`feature_statistics`).
    """
    a = np.asarray(features_a)
    b = np.asarray(features_b)
    mu_a, sigma_a = feature_statistics(a, weights=weights_a, name="features_a")
    mu_b, sigma_b = feature_statistics(b, name="features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same feature dimension D, "
            f"got {a.shape[1]} and {b.shape[1]}"
        )
    return gaussian_frechet_distance(mu_a, sigma_a, mu_b, sigma_b, eps=eps)


def _symmetric_frechet(mu1, sigma1, mu2, sigma2) -> float:
    """The same distance through the symmetric form Tr((S1^1/2 S2 S1^1/2)^1/2) with two ``eigh``.

    Faster than a general ``sqrtm`` on the singular covariances of ReLU features (dead units),
    which matters for hundreds of bootstrap resamples; tests check it against
    :func:`gaussian_frechet_distance`.
    """
    w, v = np.linalg.eigh(sigma1)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = root @ sigma2 @ root
    ev = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.sqrt(np.clip(ev, 0.0, None)).sum()
    return float(max(value, 0.0))


def frechet_distance_interval(
    features_a: np.ndarray,
    features_b: np.ndarray,
    *,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    weights_a: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """The Frechet distance and a bootstrap interval around it: ``(value, low, high)``.

    Both sets are resampled with replacement (each keeps its size; ``weights_a`` travel with
    their rows) ``n_boot`` times. Resampled sets repeat rows, which makes their covariances
    noisier and their distances larger than the value itself (a resampling bias that is large
    next to small distances such as a real-vs-real floor), so the interval is the central
    ``confidence`` range of the resampled distances moved by that bias: ``value + q - median``,
    with ``q`` the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles and ``median``
    the median of the resampled distances (clipped at 0). It shows how much the value moves with
    the particular images drawn; it does not remove the small-N bias of the value itself.
    """
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    if not (isinstance(confidence, (float, int)) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    a, b = np.asarray(features_a), np.asarray(features_b)
    value = frechet_distance(a, b, weights_a=weights_a)
    w = None if weights_a is None else np.asarray(weights_a, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = np.empty(int(n_boot))
    for i in range(int(n_boot)):
        ia = rng.integers(0, len(a), len(a))
        ib = rng.integers(0, len(b), len(b))
        mu_a, sigma_a = feature_statistics(a[ia], weights=None if w is None else w[ia], name="features_a")
        mu_b, sigma_b = feature_statistics(b[ib], name="features_b")
        draws[i] = _symmetric_frechet(mu_a, sigma_a, mu_b, sigma_b)
    low, mid, high = np.quantile(draws, [(1 - confidence) / 2, 0.5, (1 + confidence) / 2])
    return value, float(max(value + low - mid, 0.0)), float(value + high - mid)


def frechet_distance_at(
    features_a: np.ndarray,
    features_b: np.ndarray,
    n_target: float,
    *,
    sizes: tuple[int, ...] | None = None,
    n_subsets: int = 20,
    seed: int = 0,
) -> float:
    """The Frechet distance that ``n_target`` rows of set a would give against all of set b.

    The distance of a finite sample is biased upwards, and to first order the bias falls like
    1/N (Chong and Forsyth, 2020, extrapolate it to N = infinity the same way). So the mean
    distance of random subsets of a (without replacement) of each size in ``sizes`` (default:
    five sizes from half of N_a, at least D + 2, to N_a) against the whole of b is fitted by ``d(m) = d_inf + c / m``
    in least squares, and ``d_inf + c / n_target`` is returned (``n_target=np.inf``: d_inf).
    features_a (N_a, D), features_b (N_b, D); sizes must lie in [D + 2, N_a].
    """
    fa, fb = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if fa.ndim != 2 or fb.ndim != 2 or fa.shape[1] != fb.shape[1]:
        raise ValueError(f"features_a and features_b must be (N, D) with the same D, got {fa.shape} and {fb.shape}")
    if not n_target > 0:
        raise ValueError(f"n_target must be > 0 (np.inf for the limit), got {n_target!r}")
    n_a, d = fa.shape
    if sizes is None:
        sizes = tuple(sorted({int(round(v)) for v in np.linspace(max(n_a / 2, d + 2), n_a, 5)}))
    sizes = tuple(int(m) for m in sizes)
    if len(set(sizes)) < 2 or min(sizes) < d + 2 or max(sizes) > n_a:
        raise ValueError(f"sizes must hold at least 2 different sizes in [{d + 2}, {n_a}] (D + 2 to N_a), got {sizes}")
    if isinstance(n_subsets, bool) or int(n_subsets) != n_subsets or n_subsets < 1:
        raise ValueError(f"n_subsets must be a positive integer, got {n_subsets!r}")
    mu_b, sigma_b = feature_statistics(fb, name="features_b")
    rng = np.random.default_rng(seed)
    means = []
    for m in sizes:
        reps = 1 if m == n_a else int(n_subsets)
        vals = []
        for _ in range(reps):
            idx = rng.choice(n_a, m, replace=False) if m < n_a else np.arange(n_a)
            mu_a, sigma_a = feature_statistics(fa[idx], name="features_a")
            vals.append(gaussian_frechet_distance(mu_a, sigma_a, mu_b, sigma_b))
        means.append(np.mean(vals))
    design = np.c_[np.ones(len(sizes)), 1.0 / np.asarray(sizes, np.float64)]
    d_inf, c = np.linalg.lstsq(design, np.asarray(means), rcond=None)[0]
    return float(d_inf + (0.0 if np.isinf(n_target) else c / n_target))
