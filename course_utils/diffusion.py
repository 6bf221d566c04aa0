"""Denoising diffusion, the maths of notebook 09: schedules, the forward process, DDPM and DDIM.

Notebook 09 derives each function here and checks its own code against it; the course weights
(:mod:`course_utils.recipes.diffusion`) are sampled and scored with the same code. NumPy in,
NumPy out (float64 where precision matters); the samplers call any Keras noise predictor
``eps_hat(x_t, t[, label])``.

- **Schedules:** :func:`linear_betas` (Ho, Jain and Abbeel, 2020), :func:`cosine_betas` and
  :func:`cosine_alpha_bar` (Nichol and Dhariwal, 2021), :func:`make_schedule` (betas, alphas,
  ``alpha_bar``, ``alpha_bar_prev``) and :func:`snr`.
- **Forward process:** :func:`q_sample`, ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``,
  and its inverse given the noise, :func:`predict_x0`.
- **Reverse steps:** :func:`ddpm_posterior` and :func:`ddpm_step` (Ho et al., 2020),
  :func:`ddim_sigma`, :func:`ddim_step` and :func:`ddim_timesteps` (Song, Meng and Ermon, 2021).
- **Sampling:** :func:`predict_eps` with classifier-free guidance (Ho and Salimans, 2022),
  ``eps_tilde = (1 + w) eps_hat(x_t, t, y) - w eps_hat(x_t, t, null)``, and :func:`sample`.
- **The network as a denoiser:** :func:`t_for_sigma`, :func:`denoise_x0`, :func:`psnr01`.

Time steps are indexed ``t = 0..T-1`` in code, standing for the paper's ``1..T``: ``alpha_bar[t]``
is the cumulative product up to and including step ``t``.
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10
NULL_LABEL = NUM_CLASSES  # the "no label" input of a conditional noise predictor
T_STEPS = 1000


# --------------------------------------------------------------------------------------------
# Noise schedules and the forward process (NumPy, float64)
# --------------------------------------------------------------------------------------------

def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"T must be an integer >= 2 (the number of diffusion steps), got {T!r}")
    return int(T)


def linear_betas(T: int = T_STEPS, beta_1: float = 1e-4, beta_T: float = 0.02) -> np.ndarray:
    """Ho et al. (2020)'s schedule: ``beta_t`` linear from ``beta_1`` to ``beta_T`` over ``T`` steps."""
    T = _check_T(T)
    if not (0 < beta_1 <= beta_T < 1):
        raise ValueError(f"beta_1 and beta_T must satisfy 0 < beta_1 <= beta_T < 1, got {beta_1!r}, {beta_T!r}")
    return np.linspace(beta_1, beta_T, T, dtype=np.float64)


def cosine_alpha_bar(t: np.ndarray, T: int = T_STEPS, s: float = 0.008) -> np.ndarray:
    """Nichol and Dhariwal (2021): ``alpha_bar(t) = f(t) / f(0)``, ``f(t) = cos^2(pi/2 (t/T + s)/(1 + s))``.

    ``t`` is continuous here (0 gives 1, ``T`` gives 0).
    """
    T = _check_T(T)
    if not s >= 0:
        raise ValueError(f"s must be >= 0, got {s!r}")
    f = lambda u: np.cos((np.asarray(u, np.float64) / T + s) / (1 + s) * np.pi / 2) ** 2  # noqa: E731
    return f(t) / f(0.0)


def cosine_betas(T: int = T_STEPS, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """The cosine schedule's ``beta_t = min(1 - alpha_bar(t) / alpha_bar(t - 1), max_beta)``, t = 1..T."""
    T = _check_T(T)
    if not 0 < max_beta < 1:
        raise ValueError(f"max_beta must be in (0, 1), got {max_beta!r}")
    t = np.arange(1, T + 1, dtype=np.float64)
    return np.minimum(1.0 - cosine_alpha_bar(t, T, s) / cosine_alpha_bar(t - 1, T, s), max_beta)


def make_schedule(kind: str = "linear", T: int = T_STEPS, **kwargs) -> dict[str, np.ndarray]:
    """``{"betas", "alphas", "alpha_bar", "alpha_bar_prev"}``, arrays of length ``T`` (index t = step t + 1).

    ``alpha_bar = cumprod(1 - betas)``; ``alpha_bar_prev[t] = alpha_bar[t - 1]`` with 1 before step 1.
    """
    if kind == "linear":
        betas = linear_betas(T, **kwargs)
    elif kind == "cosine":
        betas = cosine_betas(T, **kwargs)
    else:
        raise ValueError(f"kind must be 'linear' or 'cosine', got {kind!r}")
    alphas = 1.0 - betas
    alpha_bar = np.cumprod(alphas)
    return {"betas": betas, "alphas": alphas, "alpha_bar": alpha_bar,
            "alpha_bar_prev": np.concatenate([[1.0], alpha_bar[:-1]])}




def snr(alpha_bar: np.ndarray) -> np.ndarray:
    """Signal-to-noise ratio ``alpha_bar / (1 - alpha_bar)`` of ``x_t``."""
    a = np.asarray(alpha_bar, np.float64)
    return a / (1.0 - a)


def _steps_index(t, T: int) -> np.ndarray:
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer) or t.size == 0 or t.min() < 0 or t.max() >= T:
        raise ValueError(f"t must be integer steps in 0..{T - 1}, got {t!r}")
    return t


def q_sample(x0: np.ndarray, t, eps: np.ndarray, alpha_bar: np.ndarray) -> np.ndarray:
    """``x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps`` for a batch (one ``t`` per image)."""
    x0, eps = np.asarray(x0), np.asarray(eps)
    if x0.shape != eps.shape:
        raise ValueError(f"eps must have x0's shape {x0.shape}, got {eps.shape}")
    t = _steps_index(t, len(alpha_bar))
    t = np.broadcast_to(t, (len(x0),)) if t.ndim == 0 else t
    if t.shape != (len(x0),):
        raise ValueError(f"t must be one step per image ({len(x0)}), got shape {t.shape}")
    a = np.asarray(alpha_bar, np.float64)[t].reshape((-1,) + (1,) * (x0.ndim - 1))
    return (np.sqrt(a) * x0 + np.sqrt(1.0 - a) * eps).astype(np.result_type(x0, np.float32))


def predict_x0(x_t: np.ndarray, eps_hat: np.ndarray, alpha_bar_t) -> np.ndarray:
    """The network's estimate of the clean image: ``(x_t - sqrt(1 - a) eps_hat) / sqrt(a)``."""
    a = np.asarray(alpha_bar_t, np.float64)
    return (np.asarray(x_t) - np.sqrt(1.0 - a) * np.asarray(eps_hat)) / np.sqrt(a)


def _check_alpha_bar(name, a):
    a = np.asarray(a, np.float64)
    if np.any(a <= 0) or np.any(a > 1):
        raise ValueError(f"{name} must be in (0, 1], got {a!r}")
    return a


def ddim_sigma(alpha_bar_t, alpha_bar_prev, eta: float = 0.0):
    """DDIM's noise scale ``eta sqrt((1 - a_prev)/(1 - a_t)) sqrt(1 - a_t / a_prev)``."""
    if not eta >= 0:
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    a_t = _check_alpha_bar("alpha_bar_t", alpha_bar_t)
    a_p = _check_alpha_bar("alpha_bar_prev", alpha_bar_prev)
    if np.any(a_p < a_t):
        raise ValueError("alpha_bar_prev must be >= alpha_bar_t (the previous step is less noisy)")
    return eta * np.sqrt((1.0 - a_p) / (1.0 - a_t)) * np.sqrt(1.0 - a_t / a_p)


def ddim_step(x_t, eps_hat, alpha_bar_t, alpha_bar_prev, eta: float = 0.0, noise=None, clip: bool = False):
    """One DDIM update (Song, Meng and Ermon, 2021, eq. 12) from ``x_t`` to the earlier step.

    ``x0_hat = (x_t - sqrt(1 - a_t) eps_hat) / sqrt(a_t)``;
    ``x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps_hat + sigma z``, with
    :func:`ddim_sigma`. ``eta = 0`` is deterministic; ``eta = 1`` with consecutive steps is
    DDPM's ancestral step. ``clip`` clips ``x0_hat`` to [-1, 1] and recomputes ``eps_hat`` from it.
    Returns ``(x_prev, x0_hat)``.
    """
    x_t, eps_hat = np.asarray(x_t, np.float64), np.asarray(eps_hat, np.float64)
    if x_t.shape != eps_hat.shape:
        raise ValueError(f"eps_hat must have x_t's shape {x_t.shape}, got {eps_hat.shape}")
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    a_t, a_p = np.asarray(alpha_bar_t, np.float64), np.asarray(alpha_bar_prev, np.float64)
    x0 = predict_x0(x_t, eps_hat, a_t)
    if clip:
        x0 = np.clip(x0, -1.0, 1.0)
        eps_hat = (x_t - np.sqrt(a_t) * x0) / np.sqrt(1.0 - a_t)
    x_prev = np.sqrt(a_p) * x0 + np.sqrt(np.maximum(1.0 - a_p - sigma ** 2, 0.0)) * eps_hat
    if np.any(sigma > 0):
        if noise is None:
            raise ValueError("noise must be given when eta > 0")
        noise = np.asarray(noise, np.float64)
        if noise.shape != x_t.shape:
            raise ValueError(f"noise must have x_t's shape {x_t.shape}, got {noise.shape}")
        x_prev = x_prev + sigma * noise
    return x_prev, x0


def ddpm_posterior(x_t, x0, t: int, schedule: dict[str, np.ndarray]):
    """Mean and variance of ``q(x_{t-1} | x_t, x_0)`` (Ho et al., 2020, eqs. 6-7) at code step ``t``.

    ``mean = sqrt(a_prev) beta_t / (1 - a_t) x_0 + sqrt(alpha_t) (1 - a_prev) / (1 - a_t) x_t``,
    ``var = beta_tilde_t = (1 - a_prev) / (1 - a_t) beta_t``.
    """
    T = len(schedule["betas"])
    t = int(_steps_index(t, T))
    b, al = schedule["betas"][t], schedule["alphas"][t]
    a_t, a_p = schedule["alpha_bar"][t], schedule["alpha_bar_prev"][t]
    mean = np.sqrt(a_p) * b / (1 - a_t) * np.asarray(x0, np.float64) \
        + np.sqrt(al) * (1 - a_p) / (1 - a_t) * np.asarray(x_t, np.float64)
    return mean, (1 - a_p) / (1 - a_t) * b


def ddpm_step(x_t, eps_hat, t: int, schedule: dict[str, np.ndarray], noise=None, clip: bool = False):
    """DDPM's ancestral step: the posterior mean at ``x0_hat`` plus ``sqrt(beta_tilde_t) z`` (none at t = 0).

    Without ``clip`` the mean equals ``(x_t - beta_t / sqrt(1 - a_t) eps_hat) / sqrt(alpha_t)``
    (Ho et al., 2020, Algorithm 2). Returns ``(x_prev, x0_hat)``.
    """
    T = len(schedule["betas"])
    t = int(_steps_index(t, T))
    x_t = np.asarray(x_t, np.float64)
    x0 = predict_x0(x_t, eps_hat, schedule["alpha_bar"][t])
    if clip:
        x0 = np.clip(x0, -1.0, 1.0)
    mean, var = ddpm_posterior(x_t, x0, t, schedule)
    if t == 0:
        return mean, x0
    if noise is None or np.shape(noise) != x_t.shape:
        raise ValueError(f"noise must be given with x_t's shape {x_t.shape} for t > 0")
    return mean + np.sqrt(var) * np.asarray(noise, np.float64), x0


def ddim_timesteps(steps: int, T: int = T_STEPS) -> np.ndarray:
    """The ``steps`` code steps a DDIM sampler visits, descending from ``T - 1`` to 0 (evenly spaced)."""
    T = _check_T(T)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an integer from 1 to T={T}, got {steps!r}")
    return np.unique(np.round(np.linspace(0, T - 1, steps)).astype(int))[::-1]


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------

def _predictor(model):
    """A compiled ``(x, t[, label]) -> eps_hat`` for the model (cached on it)."""
    import tensorflow as tf

    fn = getattr(model, "_course_eps_fn", None)
    if fn is None:
        fn = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)
        model._course_eps_fn = fn
    return fn


def predict_eps(model, x_t, t, labels=None, guidance: float = 0.0) -> np.ndarray:
    """``eps_hat`` (float64) for a batch; with labels and ``guidance = w``: ``(1 + w) eps_c - w eps_null``."""
    n = len(x_t)
    tt = np.broadcast_to(np.asarray(t, np.int32), (n,)).astype(np.int32)
    x_t = np.asarray(x_t, np.float32)
    fn = _predictor(model)
    conditional = len(model.inputs) == 3
    if conditional and labels is None:
        raise ValueError("labels must be given for a conditional model (use NULL_LABEL=10 for none)")
    if not conditional:
        if labels is not None:
            raise ValueError("labels were given, but the model is unconditional")
        return np.asarray(fn([x_t, tt]), np.float64)
    labels = np.asarray(labels, np.int32)
    if guidance == 0:
        return np.asarray(fn([x_t, tt, labels]), np.float64)
    both = np.asarray(fn([np.concatenate([x_t, x_t]), np.concatenate([tt, tt]),
                          np.concatenate([labels, np.full(n, NULL_LABEL, np.int32)])]), np.float64)
    return (1.0 + guidance) * both[:n] - guidance * both[n:]


def sample(model, n: int, *, seed: int = 0, steps: int = 50, method: str = "ddim", eta: float = 0.0,
           labels=None, guidance: float = 0.0, schedule: dict | None = None, batch: int = 500,
           clip: bool = True) -> np.ndarray:
    """``n`` images in [-1, 1] (float32, (n, 28, 28, 1)) from noise with this ``seed``.

    ``method="ddim"`` visits ``steps`` of the T steps (:func:`ddim_timesteps`); ``"ddpm"`` runs
    all T ancestral steps (``steps`` is ignored). ``labels`` (one per image, 0-9) for a
    conditional model, with classifier-free ``guidance`` weight ``w``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if method not in ("ddim", "ddpm"):
        raise ValueError(f"method must be 'ddim' or 'ddpm', got {method!r}")
    if not guidance >= 0:
        raise ValueError(f"guidance must be >= 0, got {guidance!r}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,) or labels.min() < 0 or labels.max() > NULL_LABEL:
            raise ValueError(f"labels must be n={n} integers in 0..{NULL_LABEL}, got shape {labels.shape}")
    sch = schedule or make_schedule()
    T = len(sch["betas"])
    rng = np.random.default_rng(seed)
    out = []
    for b0 in range(0, n, batch):
        m = min(batch, n - b0)
        lab = None if labels is None else labels[b0:b0 + m]
        x = rng.standard_normal((m, 28, 28, 1))
        if method == "ddpm":
            for t in range(T - 1, -1, -1):
                eps = predict_eps(model, x, t, lab, guidance)
                x, _ = ddpm_step(x, eps, t, sch, noise=rng.standard_normal(x.shape) if t > 0 else None, clip=clip)
        else:
            ts = ddim_timesteps(steps, T)
            for i, t in enumerate(ts):
                a_t = sch["alpha_bar"][t]
                a_p = sch["alpha_bar"][ts[i + 1]] if i + 1 < len(ts) else 1.0
                eps = predict_eps(model, x, t, lab, guidance)
                z = rng.standard_normal(x.shape) if eta > 0 and i + 1 < len(ts) else None
                x, _ = ddim_step(x, eps, a_t, a_p, eta=eta if z is not None else 0.0, noise=z, clip=clip)
        out.append(np.clip(x, -1, 1).astype(np.float32))
    return np.concatenate(out)


def t_for_sigma(sigma: float, schedule: dict | None = None) -> int:
    """The code step whose noise best matches Gaussian noise of std ``sigma`` on [0, 1] images.

    On [-1, 1] images that noise has std ``2 sigma``, and ``x_t / sqrt(a_t) = x_0 + sqrt((1 - a_t)/a_t) eps``,
    so the step minimises ``|sqrt((1 - a_t) / a_t) - 2 sigma|``.
    """
    if not (isinstance(sigma, (int, float, np.floating)) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    a = (schedule or make_schedule())["alpha_bar"]
    return int(np.argmin(np.abs(np.sqrt((1 - a) / a) - 2 * sigma)))


def denoise_x0(model, noisy01: np.ndarray, sigma: float, schedule: dict | None = None, labels=None) -> np.ndarray:
    """The network as a one-step Gaussian denoiser: ``x0_hat`` in [0, 1] for ``y = x + sigma n`` in [0, 1].

    Maps ``y`` to ``x_t = sqrt(a_t) (2 y - 1)`` at :func:`t_for_sigma` and returns
    ``(predict_x0 + 1) / 2``, clipped. ``labels`` for a conditional model (10 = null).
    """
    sch = schedule or make_schedule()
    t = t_for_sigma(sigma, sch)
    a = sch["alpha_bar"][t]
    x_t = np.sqrt(a) * (2.0 * np.asarray(noisy01, np.float64) - 1.0)
    if labels is None and len(model.inputs) == 3:
        labels = np.full(len(x_t), NULL_LABEL)
    eps = predict_eps(model, x_t, t, labels)
    return np.clip((predict_x0(x_t, eps, a) + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def psnr01(clean: np.ndarray, estimate: np.ndarray) -> float:
    """PSNR in dB of images in [0, 1], the mean squared error over the whole set."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(estimate, np.float64)) ** 2))
    return float(10 * np.log10(1.0 / mse))
