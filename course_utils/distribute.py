"""Several GPUs: one ``tf.distribute`` strategy for the whole course, and the batch it implies.

A lab machine or a cloud box often has more than one GPU. Keras trains on all of them with
data parallelism when the model is built and compiled inside a ``tf.distribute.MirroredStrategy``
scope: every replica holds a copy of the weights, takes its share of each batch, and the
gradients are summed across replicas before one identical update (Keras averages the loss over
the *global* batch). :func:`strategy` picks it:

- ``MirroredStrategy`` over every visible GPU when there is more than one;
- TensorFlow's default strategy (one device, no copies) otherwise;
- ``COURSE_DEVICES`` overrides both: ``"1"`` for the default strategy, or device names such as
  ``"GPU:0,GPU:1"`` (also ``"CPU:0,CPU:1"`` with logical CPU devices, which the tests use).

With ``n`` replicas a batch of ``B`` per replica makes a global batch of ``n * B``
(:func:`global_batch`); the notebooks keep the per-replica batch of their parameters cell.

Example::

    strategy = course_utils.distribute.strategy()
    with strategy.scope():
        model = build_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=course_utils.distribute.global_batch(BATCH_SIZE, strategy))
"""

from __future__ import annotations

import os
import re
from typing import Any

DEVICES_ENV = "COURSE_DEVICES"
_NAME = re.compile(r"^(?:/device:|/job:localhost/replica:0/task:0/device:)?(GPU|CPU):(\d+)$", re.IGNORECASE)


def parse_devices(spec: str | None) -> list[str] | None:
    """``None`` (automatic) for an empty spec, ``[]`` for ``"1"`` (one device), else device names.

    Names are returned as ``"/device:GPU:0"``; a bad entry raises ``ValueError`` naming
    ``COURSE_DEVICES`` and the expected form.
    """
    if spec is None or not str(spec).strip():
        return None
    spec = str(spec).strip()
    if spec == "1":
        return []
    names = []
    for part in spec.split(","):
        match = _NAME.match(part.strip())
        if not match:
            raise ValueError(f"{DEVICES_ENV} must be '1' or device names such as 'GPU:0,GPU:1', got {spec!r}")
        names.append(f"/device:{match.group(1).upper()}:{match.group(2)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{DEVICES_ENV} names a device twice: {spec!r}")
    return names


def split_cpu(devices: str | None = None) -> int:
    """Split the CPU into logical devices when ``COURSE_DEVICES`` names ``CPU:1`` or higher.

    ``MirroredStrategy`` over ``"CPU:0,CPU:1"`` needs TensorFlow to see two CPU devices, which it
    does only if told before it starts; :func:`course_utils.setup` calls this first. Returns the
    number of logical CPU devices made (0: nothing to do). Raises ``RuntimeError`` if TensorFlow
    has already started and sees fewer devices than asked for.
    """
    names = parse_devices(devices if devices is not None else os.environ.get(DEVICES_ENV)) or []
    cpus = [int(n.rsplit(":", 1)[1]) for n in names if ":CPU:" in n]
    if not cpus or max(cpus) == 0:
        return 0
    import tensorflow as tf

    wanted = max(cpus) + 1
    [cpu] = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * wanted)
    except RuntimeError:  # TensorFlow has started: fine if the devices are already there
        if len(tf.config.list_logical_devices("CPU")) < wanted:
            raise RuntimeError(f"{DEVICES_ENV} names CPU:{wanted - 1}, but TensorFlow started with fewer CPU "
                               "devices: set it before the first TensorFlow call (restart the kernel)") from None
    return wanted


def strategy(devices: str | None = None):
    """The course's ``tf.distribute`` strategy: see the module docstring.

    ``devices`` (same form as ``COURSE_DEVICES``) replaces the environment variable.
    """
    import tensorflow as tf

    names = parse_devices(devices if devices is not None else os.environ.get(DEVICES_ENV))
    if names is None:
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if not names:
        return tf.distribute.get_strategy()
    available = {f"/device:{d.device_type}:{d.name.rsplit(':', 1)[1]}" for d in tf.config.list_logical_devices()}
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(f"{DEVICES_ENV} names {missing}, but TensorFlow sees only {sorted(available)}")
    if len(names) == 1:
        return tf.distribute.OneDeviceStrategy(names[0])
    return tf.distribute.MirroredStrategy(devices=names)


def replicas(strat: Any = None) -> int:
    """How many copies of the model train in step (1 for the default strategy)."""
    import tensorflow as tf

    return int((strat or tf.distribute.get_strategy()).num_replicas_in_sync)


def global_batch(per_replica: int, strat: Any = None) -> int:
    """The batch a ``fit`` call takes: ``per_replica`` images on each of :func:`replicas` devices."""
    if isinstance(per_replica, bool) or not isinstance(per_replica, int) or per_replica < 1:
        raise ValueError(f"per_replica must be a positive integer (images per device), got {per_replica!r}")
    return per_replica * replicas(strat)


_AGREEING_LSO: Any = None


def _agreeing_loss_scale_optimizer() -> type:
    """``keras.optimizers.LossScaleOptimizer`` whose replicas agree on whether a step overflowed."""
    global _AGREEING_LSO
    if _AGREEING_LSO is None:
        import keras
        import tensorflow as tf

        @keras.saving.register_keras_serializable(package="course_utils")
        class ReplicaLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
            """Skips a step on every replica when the gradients of any replica are not finite.

            Keras's ``LossScaleOptimizer`` checks each replica's own gradients before they are
            summed, so one replica can apply a step that another skips; with a VAE under
            ``mixed_float16`` on two devices that put NaN into the weights (tests/test_distribute.py).
            """

            def check_finite(self, grads):
                finite = super().check_finite(grads)
                context = tf.distribute.get_replica_context()
                if context is None or context.num_replicas_in_sync == 1:
                    return finite
                not_finite = context.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, "float32"))
                return not_finite < 0.5

        _AGREEING_LSO = ReplicaLossScaleOptimizer
    return _AGREEING_LSO


def optimizer(inner: Any, strat: Any = None) -> Any:
    """The optimizer to compile with: ``inner`` itself, except under ``mixed_float16`` on several replicas.

    There it is wrapped in a loss-scale optimizer whose replicas agree on skipping a step that
    overflowed (Keras would wrap ``inner`` in its own ``LossScaleOptimizer``, which lets them
    disagree). Call it inside ``strategy.scope()``.
    """
    import keras

    if not isinstance(inner, keras.optimizers.Optimizer):
        raise ValueError(f"inner must be a keras.optimizers.Optimizer, got {type(inner).__name__}")
    if keras.mixed_precision.global_policy().name != "mixed_float16" or replicas(strat) == 1:
        return inner
    if isinstance(inner, keras.optimizers.LossScaleOptimizer):
        raise ValueError("inner must be the optimizer to wrap, not a LossScaleOptimizer")
    return _agreeing_loss_scale_optimizer()(inner)


def describe(strat: Any = None) -> str:
    """One line: the strategy's class and its devices, e.g. ``MirroredStrategy on 2 devices (GPU:0, GPU:1)``."""
    import tensorflow as tf

    strat = strat or tf.distribute.get_strategy()
    try:
        devices = tuple(strat.extended.worker_devices)
    except (RuntimeError, AttributeError):  # the default strategy has no device list
        devices = ()
    short = ", ".join(d.rsplit("device:", 1)[-1] for d in devices)
    return f"{type(strat).__name__} on {replicas(strat)} device(s)" + (f" ({short})" if short else "")
