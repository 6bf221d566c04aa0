"""``course_utils.distribute``: one strategy for several GPUs, tested on two virtual CPU devices.

TensorFlow can split the CPU into logical devices before it starts, so ``MirroredStrategy`` runs
here as it would over two GPUs. Training a few steps with the same initial weights, data order
and global batch must give the same weights on two replicas as on one device: the only
difference is the order of floating-point sums (each replica sums its half of the batch), so the
weights agree to float32 round-off. Each case runs in a fresh Python process, because logical
devices must be set before TensorFlow initialises.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from course_utils import distribute

TOLERANCE = 1e-5  # absolute, on weights of order 0.1 after 6 SGD steps

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from course_utils import distribute

    def build():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((8, 8, 1))
        h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
        h = keras.layers.GlobalAveragePooling2D()(h)
        outputs = keras.layers.Dense(3, activation="softmax", name="probs")(h)
        return keras.Model(inputs, outputs)

    rng = np.random.default_rng(1)
    x = rng.random((96, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 96)
    out = {}
    for label, spec in (("one", "1"), ("two", sys.argv[1])):
        strategy = distribute.strategy(spec)
        with strategy.scope():
            model = build()
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        batch = distribute.global_batch(8, strategy) if label == "two" else 16
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        out[label] = {"weights": [w.tolist() for w in model.get_weights()], "replicas": distribute.replicas(strategy),
                      "describe": distribute.describe(strategy)}
    print("RESULT " + json.dumps(out))
''')


def _run(spec: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop(distribute.DEVICES_ENV, None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, spec], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_two_replicas_train_like_one_device_with_the_same_global_batch():
    import numpy as np

    out = _run("CPU:0,CPU:1")
    assert out["one"]["replicas"] == 1 and out["two"]["replicas"] == 2
    assert out["two"]["describe"] == "MirroredStrategy on 2 device(s) (CPU:0, CPU:1)"
    diffs = [np.abs(np.array(a) - np.array(b)).max() for a, b in zip(out["one"]["weights"], out["two"]["weights"])]
    assert _training_moved_the_weights(out), "training changed nothing: the comparison would be empty"
    print(f"largest weight difference, two replicas vs one device: {max(diffs):.2e}")
    assert max(diffs) < TOLERANCE, diffs


def _training_moved_the_weights(out) -> bool:
    # Training must have moved the weights away from one another's start (a sanity check that the
    # comparison above compares trained weights, not two untouched copies).
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    h = keras.layers.GlobalAveragePooling2D()(h)
    init = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(h)).get_weights()
    return max(np.abs(np.array(a) - b).max() for a, b in zip(out["one"]["weights"], init)) > 1e-3


@pytest.mark.parametrize("spec, expected", [
    (None, None), ("", None), ("1", []), ("GPU:0,GPU:1", ["/device:GPU:0", "/device:GPU:1"]),
    ("cpu:0, /device:CPU:1", ["/device:CPU:0", "/device:CPU:1"]),
])
def test_parse_devices(spec, expected):
    assert distribute.parse_devices(spec) == expected


@pytest.mark.parametrize("spec", ["two", "GPU", "GPU:0,GPU:0", "TPU:0"])
def test_bad_device_specs_name_the_variable(spec):
    with pytest.raises(ValueError, match="COURSE_DEVICES"):
        distribute.parse_devices(spec)


def test_default_strategy_on_one_device_and_unknown_devices_refused():
    import tensorflow as tf

    assert distribute.strategy("1") is tf.distribute.get_strategy()
    assert distribute.replicas(distribute.strategy("1")) == 1
    assert distribute.global_batch(32) == 32
    assert distribute.describe(distribute.strategy("1")) == "_DefaultDistributionStrategy on 1 device(s)"
    with pytest.raises(ValueError, match="COURSE_DEVICES names"):
        distribute.strategy("GPU:7")
    with pytest.raises(ValueError, match="per_replica"):
        distribute.global_batch(0)


CUSTOM_STEP_SCRIPT = textwrap.dedent('''
    import json, os, sys
    os.environ["COURSE_DEVICES"] = "CPU:0,CPU:1"
    import course_utils
    course_utils.setup(0, precision=sys.argv[1], verbose=False)  # splits the CPU in two
    import numpy as np
    import tensorflow as tf
    import keras
    from keras import layers, ops
    from course_utils import distribute

    class Step(keras.Model):
        """A custom train_step as notebook 05 writes it: a mean over the replica's batch."""

        def __init__(self, *args, divide=True, **kwargs):
            super().__init__(*args, **kwargs)
            self.divide = divide

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = ops.mean(ops.sum(ops.square(self(x, training=True) - y), axis=-1))
                if self.divide:  # the global-batch average (tf.distribute guide)
                    loss = loss / tf.distribute.get_strategy().num_replicas_in_sync
                scaled = self.optimizer.scale_loss(loss)
            self.optimizer.apply(tape.gradient(scaled, self.trainable_weights), self.trainable_weights)
            return {"loss": loss}

    def build(divide=True):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((16,))
        h = layers.Dense(32, activation="relu")(inputs)
        return Step(inputs, layers.Dense(4, dtype="float32")(h), divide=divide)

    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 16)).astype("float32")
    y = rng.normal(size=(256, 4)).astype("float32")
    out = {}
    if sys.argv[1] == "float32":
        for label, spec, divide in (("one", "1", True), ("two", "CPU:0,CPU:1", True), ("two_undivided", "CPU:0,CPU:1", False)):
            strat = distribute.strategy(spec)
            with strat.scope():
                model = build(divide)
                model.compile(optimizer=distribute.optimizer(keras.optimizers.SGD(0.05), strat))
            model.fit(x, y, batch_size=distribute.global_batch(16, strat) if label != "one" else 32,
                      epochs=2, shuffle=False, verbose=0)
            out[label] = [w.tolist() for w in model.get_weights()]
    else:  # mixed_float16: a small VAE whose loss (hundreds of nats) makes float16 overflow at times
        class Sampling(layers.Layer):
            def __init__(self, seed=None, **kwargs):
                super().__init__(**kwargs)
                self.seed_generator = keras.random.SeedGenerator(seed)

            def call(self, mean, log_var):
                eps = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
                return mean + ops.exp(0.5 * log_var) * eps

        def encoder(d):
            image = keras.Input((28, 28, 1))
            h = layers.Flatten()(layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(image))
            mean, log_var = layers.Dense(d, dtype="float32")(h), layers.Dense(d, dtype="float32")(h)
            return keras.Model(image, [mean, log_var, Sampling(seed=0)(mean, log_var)])

        def decoder(d):
            z = keras.Input((d,))
            h = layers.Reshape((14, 14, 16))(layers.Dense(14 * 14 * 16, activation="relu")(z))
            return keras.Model(z, layers.Conv2DTranspose(1, 3, strides=2, padding="same", dtype="float32")(h))

        class VAE(keras.Model):
            def __init__(self, enc, dec, **kwargs):
                super().__init__(**kwargs)
                self.enc, self.dec = enc, dec
                self.tracker = keras.metrics.Mean(name="loss")

            @property
            def metrics(self):
                return [self.tracker]

            def call(self, x):
                return self.dec(self.enc(x)[0])

            def train_step(self, data):
                x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
                with tf.GradientTape() as tape:
                    mean, log_var, z = self.enc(x, training=True)
                    logits = self.dec(z, training=True)
                    recon = ops.mean(ops.sum(ops.binary_crossentropy(x, logits, from_logits=True), axis=(1, 2, 3)))
                    kl = ops.mean(-0.5 * ops.sum(1 + log_var - mean ** 2 - ops.exp(log_var), axis=-1))
                    loss = recon + kl
                    scaled = self.optimizer.scale_loss(loss / tf.distribute.get_strategy().num_replicas_in_sync)
                self.optimizer.apply(tape.gradient(scaled, self.trainable_weights), self.trainable_weights)
                self.tracker.update_state(loss)
                return {"loss": self.tracker.result()}

        images = (np.random.default_rng(0).random((640, 28, 28, 1)) > 0.7).astype("float32")
        strat = distribute.strategy("CPU:0,CPU:1")
        label = sys.argv[2]
        with strat.scope():
            model = VAE(encoder(16), decoder(16))
            opt = keras.optimizers.Adam(3e-3)
            model.compile(optimizer=distribute.optimizer(opt, strat) if label == "course" else opt, jit_compile=False)
        losses = [model.fit(images, batch_size=64, epochs=1, verbose=0).history["loss"][0] for _ in range(3)]
        copies = [[np.asarray(t).tolist() for t in strat.experimental_local_results(w.value)]
                  for w in model.trainable_weights]
        out = {"optimizer": type(model.optimizer).__name__, "loss": losses,
               "scale": float(np.asarray(model.optimizer.dynamic_scale.value)),
               "finite": bool(all(np.isfinite(np.array(c)).all() for c in copies)),
               "copies_equal": bool(all(np.array_equal(c[0], c[1]) for c in copies))}
    print("RESULT " + json.dumps(out))
''')


def _run_custom(precision: str, label: str = "") -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop(distribute.DEVICES_ENV, None)
    proc = subprocess.run([sys.executable, "-c", CUSTOM_STEP_SCRIPT, precision, label], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_custom_train_step_averaged_over_the_global_batch_trains_like_one_device():
    import numpy as np

    out = _run_custom("float32")
    diff = lambda a, b: max(np.abs(np.array(u) - np.array(v)).max() for u, v in zip(out[a], out[b]))  # noqa: E731
    print(f"custom step, two replicas vs one device: {diff('one', 'two'):.2e}; "
          f"without dividing by the replica count: {diff('one', 'two_undivided'):.2e}")
    assert diff("one", "two") < TOLERANCE
    # Without the division the replicas' summed gradients are twice the global mean: a different run.
    assert diff("one", "two_undivided") > 100 * TOLERANCE


def test_course_optimizer_keeps_replicas_in_step_when_float16_overflows():
    # The same run with Keras's own LossScaleOptimizer (label "keras"), seen with Keras 3.15.1: losses
    # 535.9, 511.8, nan; loss scale 64; NaN weights that differ between the two copies. Not run here
    # (it costs as much as this run, and a later Keras may fix it).
    course = _run_custom("mixed_float16", "course")
    print(f"course_utils.distribute.optimizer: {course}")
    assert course["optimizer"] == "ReplicaLossScaleOptimizer"
    assert course["scale"] < 32768.0, "no step overflowed: the case this test is for did not happen"
    assert course["finite"] and course["copies_equal"], course


def test_optimizer_is_unchanged_on_one_device_and_refuses_bad_input():
    import keras

    adam = keras.optimizers.Adam()
    assert distribute.optimizer(adam, distribute.strategy("1")) is adam
    with pytest.raises(ValueError, match="inner must be"):
        distribute.optimizer("adam")
