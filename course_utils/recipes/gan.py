"""Course-weight recipes for notebook 06: the DCGAN and the conditional GAN.

The architectures are the notebook's own (section 3 and section 7 of ``06_gans.ipynb``, with the
same layer names, so the notebook can check that its models and these have identical weights);
the training step is the notebook's ``GAN.train_step`` (non-saturating loss, one-sided label
smoothing, Adam with beta_1 = 0.5, the discriminator at a quarter of the generator's rate).
Only the number of steps differs: the course weights train for ``--steps`` optimiser steps
instead of a few thousand. :mod:`course_utils.training` runs, checkpoints and writes the
manifest; this module says what a GAN is, how one step trains it and how it is scored.

The conditional GAN gives the generator a learned label embedding (concatenated to ``z``) and
uses a *projection* discriminator (Miyato and Koyama, 2018): ``D(x, y) = psi(phi(x)) +
embed(y) . phi(x)``, the inner product of a class embedding with the image features.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..training import digits_pm1, load_variables, save_variables

LATENT_DIM = 64
G_CHANNELS = 64
D_CHANNELS = 32
NUM_CLASSES = 10
LABEL_EMBED = 16

RECIPES: dict[str, dict[str, Any]] = {
    "dcgan": {
        "family": "gan", "conditional": False,
        "task": "unconditional DCGAN of notebook 06 (sections 3-4), 28x28 digits in [-1, 1]",
        "latent_dim": LATENT_DIM, "g_channels": G_CHANNELS, "d_channels": D_CHANNELS,
        "batch": 32, "d_lr": 2.5e-4, "g_lr": 1e-3, "beta_1": 0.5, "label_smoothing": 0.1,
        "loss": "non-saturating (binary cross-entropy from logits)", "optimizer": "Adam",
        "default_steps": 7_000,
    },
    "cgan": {
        "family": "gan", "conditional": True,
        "task": "conditional GAN of notebook 06 (section 7): label embedding in G, projection "
                "discriminator (Miyato and Koyama, 2018)",
        "latent_dim": LATENT_DIM, "g_channels": G_CHANNELS, "d_channels": D_CHANNELS,
        "label_embed": LABEL_EMBED,
        "batch": 32, "d_lr": 2.5e-4, "g_lr": 1e-3, "beta_1": 0.5, "label_smoothing": 0.1,
        "loss": "non-saturating (binary cross-entropy from logits)", "optimizer": "Adam",
        "default_steps": 5_000,
    },
}


def generator_layers(h, channels: int = G_CHANNELS):
    """DCGAN generator body: a flat vector -> a 28x28x1 image in [-1, 1] (notebook 06, section 3)."""
    from keras import layers

    h = layers.Dense(7 * 7 * channels, use_bias=False, name="project")(h)
    h = layers.BatchNormalization(name="project_bn")(h)
    h = layers.ReLU(name="project_relu")(h)
    h = layers.Reshape((7, 7, channels), name="to_7x7")(h)
    h = layers.Conv2DTranspose(channels // 2, 4, strides=2, padding="same", use_bias=False, name="up_14")(h)
    h = layers.BatchNormalization(name="up_14_bn")(h)
    h = layers.ReLU(name="up_14_relu")(h)
    return layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", dtype="float32",
                                  name="up_28")(h)


def discriminator_features(h, channels: int = D_CHANNELS):
    """DCGAN discriminator body up to the flattened, dropped-out features phi(x) (7 * 7 * 2C)."""
    from keras import layers

    h = layers.Conv2D(channels, 4, strides=2, padding="same", name="down_14")(h)
    h = layers.LeakyReLU(0.2, name="down_14_lrelu")(h)
    h = layers.Conv2D(2 * channels, 4, strides=2, padding="same", name="down_7")(h)
    h = layers.LeakyReLU(0.2, name="down_7_lrelu")(h)
    h = layers.Flatten(name="flatten")(h)
    return layers.Dropout(0.3, name="dropout")(h)


def build_generator(latent_dim: int = LATENT_DIM):
    import keras

    z = keras.Input(shape=(latent_dim,), name="z")
    return keras.Model(z, generator_layers(z), name="generator")


def build_discriminator():
    import keras
    from keras import layers

    image = keras.Input(shape=(28, 28, 1), name="image")
    logit = layers.Dense(1, dtype="float32", name="logit")(discriminator_features(image))
    return keras.Model(image, logit, name="discriminator")


def build_conditional_generator(latent_dim: int = LATENT_DIM, embed: int = LABEL_EMBED):
    """G(z, y): the label (an integer 0-9) through a learned embedding, concatenated to z."""
    import keras
    from keras import layers

    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(), dtype="int32", name="label")
    e = layers.Embedding(NUM_CLASSES, embed, name="label_embedding")(label)
    h = layers.Concatenate(name="z_and_label")([z, e])
    return keras.Model([z, label], generator_layers(h), name="conditional_generator")


def build_conditional_discriminator():
    """D(x, y) = psi(phi(x)) + embed(y) . phi(x): a projection discriminator."""
    import keras
    from keras import layers

    image = keras.Input(shape=(28, 28, 1), name="image")
    label = keras.Input(shape=(), dtype="int32", name="label")
    phi = discriminator_features(image)
    unconditional = layers.Dense(1, dtype="float32", name="logit")(phi)
    e = layers.Embedding(NUM_CLASSES, 7 * 7 * 2 * D_CHANNELS, name="class_embedding")(label)
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([e, phi])
    logit = layers.Add(dtype="float32", name="logit_plus_projection")([unconditional, projection])
    return keras.Model([image, label], logit, name="conditional_discriminator")


def build(name: str):
    """(generator, discriminator) of a recipe, untrained."""
    if name not in RECIPES:
        raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
    if RECIPES[name]["conditional"]:
        return build_conditional_generator(), build_conditional_discriminator()
    return build_generator(), build_discriminator()


def make_gan_class():
    """The GAN model class (the notebook's ``GAN`` and ``ConditionalGAN`` in one)."""
    import keras
    import tensorflow as tf

    class CourseGAN(keras.Model):
        def __init__(self, generator, discriminator, conditional=False, latent_dim=LATENT_DIM,
                     label_smoothing=0.1, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.generator, self.discriminator = generator, discriminator
            self.conditional, self.latent_dim, self.label_smoothing = conditional, latent_dim, label_smoothing
            self.noise = keras.random.SeedGenerator(seed)
            self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        def compile(self, d_optimizer, g_optimizer, **kwargs):
            super().compile(**kwargs)
            if keras.mixed_precision.global_policy().compute_dtype == "float16":
                d_optimizer, g_optimizer = (
                    o if isinstance(o, keras.optimizers.LossScaleOptimizer) else keras.optimizers.LossScaleOptimizer(o)
                    for o in (d_optimizer, g_optimizer))
            d_optimizer.build(self.discriminator.trainable_weights)
            g_optimizer.build(self.generator.trainable_weights)
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def _inputs(self, images_or_noise, labels):
            return [images_or_noise, labels] if self.conditional else images_or_noise

        def train_step(self, batch):
            if self.conditional:
                real_images, real_labels = batch
            else:
                real_images, real_labels = batch, None
            n = tf.shape(real_images)[0]
            fake_labels = keras.random.randint((n,), 0, NUM_CLASSES, seed=self.noise) if self.conditional else None
            z = keras.random.normal((n, self.latent_dim), seed=self.noise)
            fake_images = self.generator(self._inputs(z, fake_labels), training=True)
            with tf.GradientTape() as tape:
                real_logits = self.discriminator(self._inputs(real_images, real_labels), training=True)
                fake_logits = self.discriminator(self._inputs(fake_images, fake_labels), training=True)
                real_targets = tf.fill(tf.shape(real_logits), 1.0 - self.label_smoothing)
                d_loss = self.bce(real_targets, real_logits) + self.bce(tf.zeros_like(fake_logits), fake_logits)
                scaled = self.d_optimizer.scale_loss(d_loss)
            grads = tape.gradient(scaled, self.discriminator.trainable_weights)
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            fake_labels = keras.random.randint((n,), 0, NUM_CLASSES, seed=self.noise) if self.conditional else None
            z = keras.random.normal((n, self.latent_dim), seed=self.noise)
            with tf.GradientTape() as tape:
                fake_logits = self.discriminator(
                    self._inputs(self.generator(self._inputs(z, fake_labels), training=True), fake_labels),
                    training=True)
                g_loss = self.bce(tf.ones_like(fake_logits), fake_logits)
                scaled = self.g_optimizer.scale_loss(g_loss)
            grads = tape.gradient(scaled, self.generator.trainable_weights)
            self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {m.name: m.result() for m in self.metrics}

    return CourseGAN


def make_trainer(name: str, seed: int = 0):
    """A compiled ``CourseGAN`` for recipe ``name`` (fresh weights from ``seed``)."""
    import keras

    r = RECIPES[name]
    keras.utils.set_random_seed(seed)
    generator, discriminator = build(name)
    gan = make_gan_class()(generator, discriminator, conditional=r["conditional"],
                           label_smoothing=r["label_smoothing"], seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(r["d_lr"], beta_1=r["beta_1"]),
                g_optimizer=keras.optimizers.Adam(r["g_lr"], beta_1=r["beta_1"]), jit_compile=False)
    return gan


load_training_data = digits_pm1  # the real digits in [-1, 1], their labels and the loader's result


def epoch_dataset(name: str, x: np.ndarray, y: np.ndarray, epoch: int):
    """The batches of one epoch, in an order fixed by the epoch number (so a resumed run sees the same)."""
    import tensorflow as tf

    r = RECIPES[name]
    order = np.random.default_rng(10_000 + epoch).permutation(len(x))
    arrays = (x[order], y[order]) if r["conditional"] else x[order]
    return tf.data.Dataset.from_tensor_slices(arrays).batch(r["batch"], drop_remainder=True)


def sample(generator, n: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    """n images in [-1, 1] from a generator for standard-normal noise with this seed."""
    z = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype("float32")
    inputs = z if labels is None else [z, np.asarray(labels, np.int32)]
    return generator.predict(inputs, batch_size=500, verbose=0)


def evaluate(name: str, generator, n_eval: int = 1000, n_boot: int = 200) -> dict[str, Any]:
    """Held-out scores with the course judge: Frechet distance (bootstrap interval), floor, coverage.

    :func:`course_utils.recipes.judge.score_samples`: ``n_eval`` samples against ``n_eval``
    held-out digits that neither the judge nor the GAN trained on, and the floor, another
    ``n_eval`` of them. A conditional GAN is asked for digits at the training class frequencies
    for the distance, and for ``n_eval / 10`` of each digit for the label accuracy.
    """
    from . import judge

    loaded = load_training_data()[2]
    (_, y_train), _ = loaded
    n = min(n_eval, judge.MAX_EVAL)
    labels = None
    if RECIPES[name]["conditional"]:
        labels = np.random.default_rng(7).choice(np.asarray(y_train), n)
    fake01 = np.clip((sample(generator, n, seed=8, labels=labels) + 1) / 2, 0, 1)
    out = judge.score_samples(fake01, n_boot=n_boot, seed=0)
    out["data"] = loaded.source
    if labels is not None:
        requested = np.repeat(np.arange(NUM_CLASSES), n // NUM_CLASSES)
        images = np.clip((sample(generator, len(requested), 4, requested) + 1) / 2, 0, 1)
        out["label_accuracy"] = round(judge.label_accuracy(images, requested), 4)
    return out


class Trainer:
    """Trains one GAN recipe in chunks of steps for :func:`course_utils.training.train`.

    A checkpoint holds both networks, both optimisers' moments and the noise generator's state,
    and the batches of every epoch come in an order fixed by the epoch number, so a resumed run
    continues where it stopped.
    """

    def __init__(self, name: str, seed: int = 0):
        import tensorflow as tf

        # The discriminator's conv + bias + LeakyReLU fusion fails on some CPUs (harmless message).
        tf.config.optimizer.set_experimental_options({"remapping": False})
        if name not in RECIPES:
            raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
        self.name, self.recipe = name, RECIPES[name]
        self.x, self.y, self.loaded = load_training_data()
        self.gan = make_trainer(name, seed)
        self.steps_per_epoch = len(self.x) // self.recipe["batch"]
        self.steps_per_chunk = self.steps_per_epoch  # one fit call (and one checkpoint) per epoch

    def set_final_phase(self, final: bool) -> float:
        return self.recipe["g_lr"]  # constant rates, as in the notebook

    def train(self, epoch: int, start: int, n: int) -> float:
        ds = epoch_dataset(self.name, self.x, self.y, epoch).skip(start).take(n)
        hist = self.gan.fit(ds, epochs=1, verbose=0, shuffle=False)
        return float(hist.history["d_loss"][-1])

    def _variables(self):
        g = self.gan
        return (list(g.generator.weights) + list(g.discriminator.weights) + list(g.d_optimizer.variables)
                + list(g.g_optimizer.variables) + [g.noise.state])

    def save(self, path) -> None:
        save_variables(path, self._variables())

    def load(self, path) -> None:
        load_variables(path, self._variables())

    def export(self):
        return self.gan.generator

    def evaluate(self, model=None) -> dict[str, Any]:
        return evaluate(self.name, self.gan.generator if model is None else model)

    def describe(self) -> dict[str, Any]:
        from . import judge

        g = self.gan.generator
        return {
            "architecture": {"builder": f"course_utils.recipes.gan.{'build_conditional_generator' if self.recipe['conditional'] else 'build_generator'}",
                             "params": int(g.count_params()),
                             "discriminator_params": int(self.gan.discriminator.count_params()),
                             "file_holds": "the generator's weights only"},
            "data": {"source": self.loaded.source, "description": self.loaded.description,
                     "n_train": int(len(self.x)),
                     "heldout": "the judge's held-out digits (course_utils.recipes.judge): offline test digits "
                                  "that neither the GAN nor the judge trained on"},
            "judge": judge.describe_judge(),
        }


def load_course_generator(name: str):
    """The committed generator of recipe ``name`` (checksum verified against its manifest in ``data/weights``)."""
    from .. import weights

    return weights.load_weights(build(name)[0], name)
