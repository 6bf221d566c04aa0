"""Course-weight recipes for notebook 09: a denoising diffusion model on the digits.

A small U-Net (32-64-128 channels, sinusoidal time embedding, GroupNorm, about 0.5M parameters)
predicts the noise ``eps`` that the forward process mixed into a digit (Ho, Jain and Abbeel,
2020): with ``alpha_bar_t = prod_{s <= t} (1 - beta_s)``,

    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,   eps ~ N(0, I),

and the loss is ``|| eps - eps_hat(x_t, t) ||^2`` for ``t`` uniform in ``1..T``. Sampling runs the
reverse process with DDPM's ancestral sampler or DDIM (Song, Meng and Ermon, 2021) in fewer
steps, from an exponential moving average (EMA) of the weights. ``diffusion-cond`` adds a class
embedding with an eleventh "null" label that replaces the true label with probability
``label_dropout`` during training, so one network gives both the conditional and the
unconditional noise prediction that classifier-free guidance (Ho and Salimans, 2022) mixes:

    eps_tilde = (1 + w) eps_hat(x_t, t, y) - w eps_hat(x_t, t, null)

(``w = 0`` is the plain conditional model). Notebook 09 derives all of this and builds the same
network (:func:`build_unet`, same layer names); :mod:`course_utils.pretrain` runs, checkpoints and
publishes the course weights, and this module says what the model is, how one step trains it
and how it is scored (on the course judge, :mod:`course_utils.recipes.judge`).

Time steps are indexed ``t = 0..T-1`` in code, standing for the paper's ``1..T``: ``alpha_bar[t]``
is the cumulative product up to and including step ``t``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from . import digits_pm1, load_variables, save_variables

NUM_CLASSES = 10
NULL_LABEL = NUM_CLASSES  # the "no label" input of the conditional network
T_STEPS = 1000
CHANNELS = (32, 64, 128)
TIME_EMBED = 128
GROUPS = 8
#: Guidance weights tried when the conditional course weights are scored.
GUIDANCE_EVAL = (0.0, 1.0, 3.0, 5.0)

def _training_recipe() -> dict[str, Any]:
    """What the two diffusion recipes share: the U-Net, the schedule, the optimiser and the loss."""
    return {
        "channels": list(CHANNELS), "time_embed": TIME_EMBED, "groups": GROUPS,
        "schedule": "linear", "beta_1": 1e-4, "beta_T": 0.02, "T": T_STEPS,
        "batch": 64, "lr": 2e-3, "final_lr": 2e-4, "clipnorm": 1.0, "ema": 0.999,
        "loss": "mean squared error of the noise (the simple eps-prediction loss)", "optimizer": "Adam",
    }


RECIPES: dict[str, dict[str, Any]] = {
    "diffusion": {
        "family": "diffusion", "conditional": False,
        "task": "unconditional denoising diffusion model of notebook 09: U-Net eps-prediction on "
                "28x28 digits in [-1, 1], DDIM sampling from the EMA weights",
        **_training_recipe(),
        "label_dropout": 0.0, "eval_sampler": "DDIM, 50 steps, eta 0",
        "default_steps": 18_000,
    },
    "diffusion-cond": {
        "family": "diffusion", "conditional": True,
        "task": "class-conditional diffusion model of notebook 09 (section 7): the same U-Net with a "
                "class embedding and a null label (label dropout), classifier-free guidance",
        **_training_recipe(),
        "label_dropout": 0.1, "eval_sampler": "DDIM, 50 steps, eta 0, guidance (1 + w) eps_c - w eps_null",
        "guidance_eval": list(GUIDANCE_EVAL),
        "default_steps": 14_000,
    },
}


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


def recipe_schedule(name: str) -> dict[str, np.ndarray]:
    r = _recipe(name)
    return make_schedule(r["schedule"], r["T"], beta_1=r["beta_1"], beta_T=r["beta_T"])


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

def _layers_module():
    import keras
    from keras import layers, ops

    @keras.saving.register_keras_serializable(package="course_utils")
    class SinusoidalEmbedding(layers.Layer):
        """``[sin(t w_k), cos(t w_k)]`` with ``w_k = 10000^(-k / (d/2))``, k = 0..d/2-1 (Vaswani et al., 2017)."""

        def __init__(self, dim: int = 32, **kwargs):
            kwargs.setdefault("dtype", "float32")
            super().__init__(**kwargs)
            if dim % 2:
                raise ValueError(f"dim must be even, got {dim}")
            self.dim = dim

        def call(self, t):
            half = self.dim // 2
            freqs = ops.exp(-np.log(10000.0) * ops.arange(half, dtype="float32") / half)
            args = ops.cast(ops.reshape(t, (-1, 1)), "float32") * ops.reshape(freqs, (1, -1))
            return ops.concatenate([ops.sin(args), ops.cos(args)], axis=-1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.dim)

        def get_config(self):
            return {**super().get_config(), "dim": self.dim}

    return SinusoidalEmbedding


def residual_block(h, temb, channels: int, name: str, groups: int = GROUPS):
    """GroupNorm-swish-conv, plus the projected time embedding, GroupNorm-swish-conv, plus a skip."""
    from keras import layers

    skip = h if h.shape[-1] == channels else layers.Conv2D(channels, 1, name=f"{name}_skip")(h)
    h = layers.GroupNormalization(groups, name=f"{name}_gn1")(h)
    h = layers.Activation("swish", name=f"{name}_act1")(h)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(h)
    e = layers.Dense(channels, name=f"{name}_time")(temb)
    h = layers.Add(name=f"{name}_plus_time")([h, layers.Reshape((1, 1, channels), name=f"{name}_time_map")(e)])
    h = layers.GroupNormalization(groups, name=f"{name}_gn2")(h)
    h = layers.Activation("swish", name=f"{name}_act2")(h)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(h)
    return layers.Add(name=f"{name}_out")([skip, h])


def build_unet(conditional: bool = False, channels=CHANNELS, time_embed: int = TIME_EMBED,
               groups: int = GROUPS, name: str | None = None):
    """The course's U-Net ``eps_hat(x_t, t[, y])`` for 28x28x1 images (float32 output).

    Inputs ``x_t`` (N, 28, 28, 1), ``t`` (N,) int32 code steps and, if ``conditional``, ``label``
    (N,) int32 in 0..10 (10 is the null label). Shapes: 28x28xC1 -> 14x14xC2 -> 7x7xC3 -> back up
    with skip connections (concatenated), as notebook 04's U-Net: average pooling down,
    2x2 transposed convolutions up.
    """
    import keras
    from keras import layers

    channels = tuple(int(c) for c in channels)
    if len(channels) != 3 or any(c < 1 or c % groups for c in channels):
        raise ValueError(f"channels must be three widths divisible by groups={groups}, got {channels!r}")
    c1, c2, c3 = channels
    Sinusoidal = _layers_module()
    x = keras.Input(shape=(28, 28, 1), name="x_t")
    t = keras.Input(shape=(), dtype="int32", name="t")
    inputs = [x, t]
    temb = Sinusoidal(c1, name="time_sinusoidal")(t)
    temb = layers.Dense(time_embed, activation="swish", name="time_mlp1")(temb)
    temb = layers.Dense(time_embed, name="time_mlp2")(temb)
    if conditional:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
        lemb = layers.Embedding(NUM_CLASSES + 1, time_embed, name="label_embedding")(label)
        temb = layers.Add(name="time_plus_label")([temb, lemb])
    temb = layers.Activation("swish", name="embed_act")(temb)

    h = layers.Conv2D(c1, 3, padding="same", name="stem")(x)
    s1 = residual_block(h, temb, c1, "down28", groups)                                   # 28x28xc1
    h = layers.AveragePooling2D(2, name="downsample14")(s1)                              # 14x14xc1
    s2 = residual_block(h, temb, c2, "down14", groups)                                   # 14x14xc2
    h = layers.AveragePooling2D(2, name="downsample7")(s2)                               # 7x7xc2
    h = residual_block(h, temb, c3, "mid7", groups)                                      # 7x7xc3
    h = layers.Conv2DTranspose(c2, 2, strides=2, name="upsample14")(h)                   # 14x14xc2
    h = layers.Concatenate(name="skip14")([h, s2])                                       # 14x14x2c2
    h = residual_block(h, temb, c2, "up14", groups)
    h = layers.Conv2DTranspose(c1, 2, strides=2, name="upsample28")(h)                   # 28x28xc1
    h = layers.Concatenate(name="skip28")([h, s1])                                       # 28x28x2c1
    h = residual_block(h, temb, c1, "up28", groups)
    h = layers.GroupNormalization(groups, name="out_gn")(h)
    h = layers.Activation("swish", name="out_act")(h)
    eps = layers.Conv2D(1, 3, padding="same", dtype="float32", name="eps")(h)
    return keras.Model(inputs, eps, name=name or ("conditional_unet" if conditional else "unet"))


def _recipe(name: str) -> dict[str, Any]:
    if name not in RECIPES:
        raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
    return RECIPES[name]


def build(name: str):
    """The untrained U-Net of a recipe (the network whose EMA weights the course file holds)."""
    r = _recipe(name)
    return build_unet(r["conditional"], r["channels"], r["time_embed"], r["groups"])


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


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

load_training_data = digits_pm1  # the real digits in [-1, 1], their labels and the loader's result


def batch_noise(seed: int, epoch: int, step: int, batch: int, T: int, label_dropout: float):
    """``(t, eps, drop)`` of one training step, fixed by (seed, epoch, step): a resumed run draws the same."""
    rng = np.random.default_rng([seed, epoch, step])
    t = rng.integers(0, T, size=batch).astype(np.int32)
    eps = rng.standard_normal((batch, 28, 28, 1)).astype(np.float32)
    drop = rng.random(batch) < label_dropout
    return t, eps, drop


class Trainer:
    """Trains one diffusion recipe in chunks of steps for :func:`course_utils.pretrain.train`.

    Adam on the eps-prediction loss with gradient-norm clipping, an EMA copy of the network
    updated after every step (decay ``min(ema, (1 + k) / (10 + k))`` at step k, the usual warm-up),
    and, under a float16 policy, loss scaling. A checkpoint holds the weights, the EMA weights,
    the optimiser's moments and the step counter; batches and noise are fixed by (epoch, step),
    so a resumed run continues exactly where it stopped. ``per_t_loss`` accumulates the training
    loss in ten buckets of t (the notebook's loss-by-t picture).
    """

    def __init__(self, name: str, seed: int = 0, data=None, overrides: dict | None = None):
        import keras
        import tensorflow as tf

        base = _recipe(name)
        unknown = set(overrides or {}) - set(base)
        if unknown:
            raise ValueError(f"overrides must be recipe keys, got unknown {sorted(unknown)}")
        self.name, self.recipe = name, {**base, **(overrides or {})}
        r = self.recipe
        self.seed = int(seed)
        if data is None:
            self.x, self.y, self.loaded = load_training_data()
        else:  # (x in [-1, 1], y): a small set for tests and the notebook
            self.x, self.y = np.asarray(data[0], np.float32), np.asarray(data[1], np.int32)
            self.loaded = None
        if len(self.x) < r["batch"]:
            raise ValueError(f"data must hold at least one batch ({r['batch']} images), got {len(self.x)}")
        self.schedule = make_schedule(r["schedule"], r["T"], beta_1=r["beta_1"], beta_T=r["beta_T"])
        keras.utils.set_random_seed(self.seed)
        self.model = build_unet(r["conditional"], r["channels"], r["time_embed"], r["groups"])
        self.ema_model = build_unet(r["conditional"], r["channels"], r["time_embed"], r["groups"])
        self.ema_model.set_weights(self.model.get_weights())
        opt = keras.optimizers.Adam(learning_rate=r["lr"], clipnorm=r["clipnorm"])
        if keras.mixed_precision.global_policy().compute_dtype == "float16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        opt.build(self.model.trainable_weights)
        self.optimizer = opt
        self.ema_step = tf.Variable(0, dtype="int64", trainable=False, name="ema_step")
        self.sqrt_ab = tf.constant(np.sqrt(self.schedule["alpha_bar"]), tf.float32)
        self.sqrt_1mab = tf.constant(np.sqrt(1 - self.schedule["alpha_bar"]), tf.float32)
        self.steps_per_epoch = len(self.x) // r["batch"]
        self.steps_per_chunk = self.steps_per_epoch  # one checkpoint per epoch
        self.per_t_loss = np.zeros((10, 2))  # [sum, count] per bucket of t
        self._step = tf.function(self._train_step, reduce_retracing=True)

    def _train_step(self, x0, t, eps, labels):
        import tensorflow as tf

        a = tf.reshape(tf.gather(self.sqrt_ab, t), (-1, 1, 1, 1))
        s = tf.reshape(tf.gather(self.sqrt_1mab, t), (-1, 1, 1, 1))
        x_t = a * x0 + s * eps
        inputs = [x_t, t, labels] if self.recipe["conditional"] else [x_t, t]
        with tf.GradientTape() as tape:
            eps_hat = tf.cast(self.model(inputs, training=True), tf.float32)
            per_image = tf.reduce_mean(tf.square(eps - eps_hat), axis=[1, 2, 3])
            loss = tf.reduce_mean(per_image)
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.model.trainable_weights)
        self.optimizer.apply(grads, self.model.trainable_weights)
        k = tf.cast(self.ema_step, tf.float32)
        decay = tf.minimum(tf.constant(self.recipe["ema"], tf.float32), (1.0 + k) / (10.0 + k))
        for e, w in zip(self.ema_model.weights, self.model.weights):
            e.assign(decay * e + (1.0 - decay) * w)
        self.ema_step.assign_add(1)
        return per_image

    def set_final_phase(self, final: bool) -> float:
        lr = self.recipe["final_lr"] if final else self.recipe["lr"]
        self.optimizer.learning_rate.assign(lr)
        return lr

    def batch(self, epoch: int, step: int):
        """The inputs of training step ``step`` of ``epoch``: ``(x0, t, eps, labels)``."""
        r = self.recipe
        b = r["batch"]
        order = np.random.default_rng(10_000 + epoch).permutation(len(self.x))[step * b:(step + 1) * b]
        t, eps, drop = batch_noise(self.seed, epoch, step, b, r["T"], r["label_dropout"])
        labels = np.where(drop, NULL_LABEL, self.y[order]).astype(np.int32)
        return self.x[order], t, eps, labels

    def train(self, epoch: int, start: int, n: int) -> float:
        if not (0 <= start and n >= 1 and start + n <= self.steps_per_epoch):
            raise ValueError(f"start={start}, n={n} must lie within the epoch's {self.steps_per_epoch} steps")
        losses = []
        for step in range(start, start + n):
            x0, t, eps, labels = self.batch(epoch, step)
            per_image = np.asarray(self._step(x0, t, eps, labels))
            bucket = t * 10 // self.recipe["T"]
            np.add.at(self.per_t_loss, (bucket, 0), per_image)
            np.add.at(self.per_t_loss, (bucket, 1), 1)
            losses.append(per_image.mean())
        return float(np.mean(losses))

    def _variables(self):
        return (list(self.model.weights) + list(self.ema_model.weights) + list(self.optimizer.variables)
                + [self.ema_step])

    def save(self, path) -> None:
        save_variables(path, self._variables(), per_t_loss=self.per_t_loss)

    def load(self, path) -> None:
        self.per_t_loss = load_variables(path, self._variables())["per_t_loss"]

    def export(self):
        return self.ema_model

    def evaluate(self, n_eval: int = 1000, n_boot: int = 200) -> dict[str, Any]:
        return evaluate(self.name, self.ema_model, n_eval=n_eval, n_boot=n_boot, schedule=self.schedule)

    def describe(self) -> dict[str, Any]:
        from .. import pretrain

        judge = json.loads(pretrain.manifest_path("judge").read_text())
        loss = self.per_t_loss
        return {
            "architecture": {"builder": f"course_utils.recipes.diffusion.build_unet(conditional={self.recipe['conditional']})",
                             "params": int(self.model.count_params()),
                             "file_holds": "the EMA network's weights"},
            "data": {"source": self.loaded.source if self.loaded else "given",
                     "description": self.loaded.description if self.loaded else "arrays given to the trainer",
                     "n_train": int(len(self.x)),
                     "heldout": "the judge's held-out digits (course_utils.recipes.judge): offline test digits "
                                  "that neither the model nor the judge trained on"},
            "judge": {"file": judge["file"], "sha256": judge["sha256"], "n_train": judge["data"]["n_train"],
                      "test_accuracy": judge["heldout"]["test_accuracy"]},
            "train_loss_by_t_decile": [round(float(s / max(c, 1)), 4) for s, c in loss],
        }


def evaluate(name: str, model, n_eval: int = 1000, n_boot: int = 200, steps: int = 50,
             guidance=GUIDANCE_EVAL, schedule: dict | None = None) -> dict[str, Any]:
    """Held-out scores on the course judge for ``n_eval`` DDIM samples (seed 8).

    Unconditional: :func:`course_utils.recipes.judge.score_samples` (Frechet distance with its
    bootstrap interval, the floor, class shares). Conditional: for each guidance weight, samples
    asked for labels at the training class frequencies, their Frechet distance and coverage and
    the judged label accuracy; the headline numbers are those of the smallest weight whose label
    accuracy is within 0.01 of the best. Both: ``ms_per_sample`` (DDIM, ``steps`` network calls,
    twice per step with guidance) and ``x0_psnr_sigma25``, the network as a one-step denoiser of
    500 held-out digits with Gaussian noise of std 25/255.
    """
    from . import judge

    r = _recipe(name)
    sch = schedule or recipe_schedule(name)
    n = min(int(n_eval), judge.MAX_EVAL)
    y_train = load_training_data()[1]
    ref01 = judge.heldout_digits(judge.MAX_EVAL)[0][:500]
    noisy = ref01 + (25 / 255) * np.random.default_rng(3).standard_normal(ref01.shape).astype(np.float32)
    psnr = psnr01(ref01, denoise_x0(model, noisy, 25 / 255, sch))
    extra = {"x0_psnr_sigma25": round(psnr, 2), "x0_t_sigma25": t_for_sigma(25 / 255, sch),
             "sampler": f"DDIM {steps} steps, eta 0, x0 clipped to [-1, 1]"}
    warm = None if not r["conditional"] else np.zeros(2, np.int32)
    sample(model, 2, steps=2, schedule=sch, labels=warm, guidance=1.0 if r["conditional"] else 0.0)  # trace first
    sample(model, 2, steps=2, schedule=sch, labels=warm)
    if not r["conditional"]:
        t0 = time.time()
        fake = sample(model, n, seed=8, steps=steps, schedule=sch)
        ms = 1000 * (time.time() - t0) / n
        out = judge.score_samples((fake + 1) / 2, n_boot=n_boot, seed=0)
        return {**out, "ms_per_sample": round(ms, 2), **extra}
    labels = np.random.default_rng(7).choice(np.asarray(y_train), n)
    sweep = []
    for w in guidance:
        t0 = time.time()
        fake01 = (sample(model, n, seed=8, steps=steps, schedule=sch, labels=labels, guidance=w) + 1) / 2
        ms = 1000 * (time.time() - t0) / n
        row = judge.score_samples(fake01, n_boot=n_boot, seed=0)
        row["label_accuracy"] = round(judge.label_accuracy(fake01, labels), 4)
        sweep.append({"guidance": w, **row, "ms_per_sample": round(ms, 2)})
        print(f"{name}: guidance {w}: label accuracy {row['label_accuracy']}, "
              f"Frechet distance {row['frechet_distance']}", flush=True)
    best = max(s["label_accuracy"] for s in sweep)
    chosen = min((s for s in sweep if s["label_accuracy"] >= best - 0.01), key=lambda s: s["guidance"])
    return {**chosen, "chosen_by": "the smallest guidance weight within 0.01 of the best label accuracy",
            "labels": "drawn at the training class frequencies (seed 7)", "guidance_sweep": sweep, **extra}


def load_course_unet(name: str):
    """The committed EMA network of recipe ``name`` (checksum verified); see :mod:`course_utils.pretrain`."""
    from .. import pretrain

    return pretrain.load_course_model(name)
