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
