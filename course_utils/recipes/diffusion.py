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
network (:func:`build_unet`, same layer names). The maths it teaches (schedules, the forward
process, the DDPM and DDIM steps, the samplers) lives in :mod:`course_utils.diffusion`; this
module says what the recipes' network is, how one step trains it and how it is scored (on the
course judge, :mod:`course_utils.recipes.judge`), and :mod:`course_utils.training` runs,
checkpoints and publishes the course weights.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..diffusion import NULL_LABEL, NUM_CLASSES, T_STEPS, denoise_x0, make_schedule, psnr01, sample, t_for_sigma
from ..training import digits_pm1, load_variables, save_variables

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


def recipe_schedule(name: str) -> dict[str, np.ndarray]:
    r = _recipe(name)
    return make_schedule(r["schedule"], r["T"], beta_1=r["beta_1"], beta_T=r["beta_T"])


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
    """Trains one diffusion recipe in chunks of steps for :func:`course_utils.training.train`.

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

    def evaluate(self, model=None, n_eval: int = 1000, n_boot: int = 200) -> dict[str, Any]:
        return evaluate(self.name, self.ema_model if model is None else model, n_eval=n_eval, n_boot=n_boot,
                        schedule=self.schedule)

    def describe(self) -> dict[str, Any]:
        from . import judge

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
            "judge": judge.describe_judge(),
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
    """The committed EMA network of recipe ``name`` (checksum verified against its manifest in ``data/weights``)."""
    from .. import weights

    return weights.load_weights(build(name), name)
