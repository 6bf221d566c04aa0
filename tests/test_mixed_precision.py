"""Mixed precision: a custom train_step that scales its loss trains as well as float32.

Notebooks 05 and 06 teach the pattern: inside the tape, ``optimizer.scale_loss(loss)``;
after it, ``optimizer.apply(grads, variables)``. Under the ``mixed_float16`` policy the
optimizer is a ``keras.optimizers.LossScaleOptimizer``, which multiplies the loss by its
loss scale (2**15 at the start) and divides the gradients by the same factor before the
update; on a plain optimizer ``scale_loss`` returns the loss unchanged.

The problem below is built so that the scaling matters: the loss is a mean over many
elements times a small factor, so the gradient that reaches each float16 activation is about
1e-9, below float16's smallest subnormal (about 6e-8). Without the scaling it rounds to 0 and
nothing trains; with it, the run follows the float32 one. Adam normalises the gradient by its
running RMS, so the tiny but exact float32 gradients train it fine (its epsilon is lowered so
that it cannot swamp gradients this small). This runs on the CPU in a few seconds.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

N_EXAMPLES, DIM = 512, 32  # one batch of 512 x 32 outputs: a mean over 16,384 elements
LOSS_FACTOR = 1e-5  # d loss / d output ~ 1e-5 * 2 * error / 16,384 ~ 1e-9, 0 in float16
STEPS = 40
LEARNING_RATE = 0.05
ADAM_EPSILON = 1e-12  # Adam's default 1e-7 would dominate weight gradients of ~1e-7


@pytest.fixture(autouse=True)
def _float32_afterwards():
    yield
    keras.mixed_precision.set_global_policy("float32")


class Regressor(keras.Model):
    """A linear map (float16 under mixed precision) with a float32 output, and a custom train_step."""

    def __init__(self, scale_loss: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.linear = layers.Dense(DIM, use_bias=False, name="linear")
        # The model's output computes in float32, as the Keras mixed-precision guide says.
        self.to_float32 = layers.Activation("linear", dtype="float32", name="output_float32")
        self.use_loss_scaling = scale_loss

    def call(self, x):
        return self.to_float32(self.linear(x))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = LOSS_FACTOR * ops.mean(ops.square(self(x, training=True) - y))
            # The notebooks' pattern: scale inside the tape (a no-op on a plain optimizer).
            scaled = self.optimizer.scale_loss(loss) if self.use_loss_scaling else loss
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)  # unscales; skips non-finite steps
        return {"loss": loss}


def problem():
    """Inputs and targets of an exactly solvable linear regression (float32, fixed seed)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_EXAMPLES, DIM)).astype("float32")
    w_true = (rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)).astype("float32")
    return x, x @ w_true


def train(policy: str, *, scale_loss: bool = True, auto_scale_loss: bool = True):
    """(initial MSE, final MSE, optimizer class name) after STEPS full-batch steps under `policy`.

    The MSE is measured in float32 NumPy on the model's float32 outputs, without LOSS_FACTOR.
    """
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)  # the same initial weights (float32 variables) under every policy
    x, y = problem()
    model = Regressor(scale_loss=scale_loss)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE, epsilon=ADAM_EPSILON),
                  auto_scale_loss=auto_scale_loss, jit_compile=False)

    def mse() -> float:
        return float(np.mean((model.predict(x, batch_size=N_EXAMPLES, verbose=0) - y) ** 2))

    model(x[:1])  # build the weights
    before = mse()
    # One epoch of STEPS identical full batches: STEPS calls of train_step without per-epoch overhead.
    model.fit(np.tile(x, (STEPS, 1)), np.tile(y, (STEPS, 1)), batch_size=N_EXAMPLES, epochs=1,
              shuffle=False, verbose=0)
    return before, mse(), type(model.optimizer).__name__


def fraction_removed(before: float, after: float) -> float:
    return (before - after) / before


def test_the_float16_gradients_underflow_by_construction():
    # The premise: the gradient reaching the float16 activations is below float16's smallest
    # subnormal, so it is exactly 0 in float16 and nonzero in float32.
    x, y = problem()
    error = x @ np.zeros((DIM, DIM), "float32") - y  # a typical initial error, |error| ~ 1
    grad = LOSS_FACTOR * 2 * error / error.size
    assert np.abs(grad).max() < float(np.finfo(np.float16).smallest_subnormal) / 2
    assert np.all(grad.astype(np.float16) == 0) and np.all(grad != 0)


def test_mixed_precision_with_loss_scaling_trains_like_float32():
    f32_before, f32_after, f32_optimizer = train("float32")
    mp_before, mp_after, mp_optimizer = train("mixed_float16")
    assert f32_optimizer == "Adam" and mp_optimizer == "LossScaleOptimizer"
    assert np.isclose(f32_before, mp_before, rtol=1e-2)  # same start (float16 forward pass)
    f32_drop, mp_drop = fraction_removed(f32_before, f32_after), fraction_removed(mp_before, mp_after)
    assert f32_drop > 0.8, f"the float32 run should learn: MSE {f32_before:.4f} -> {f32_after:.4f}"
    # Tolerance: the mixed run must remove the same fraction of the initial loss as the float32
    # run, give or take 0.05. Float16 activations (about 3 significant digits) and the
    # loss-scaled, subnormal float16 gradients perturb each step a little; they do not stop it.
    assert mp_drop >= f32_drop - 0.05, (
        f"mixed_float16 MSE {mp_before:.4f} -> {mp_after:.4f} (removed {mp_drop:.3f}); "
        f"float32 {f32_before:.4f} -> {f32_after:.4f} (removed {f32_drop:.3f})")


def test_without_loss_scaling_float16_gradients_vanish():
    # The control: the same step with a plain Adam and no scaling learns nothing, because every
    # gradient reaching the float16 layer rounds to 0. This keeps the test above meaningful.
    before, after, optimizer = train("mixed_float16", scale_loss=False, auto_scale_loss=False)
    assert optimizer == "Adam"
    assert fraction_removed(before, after) < 0.05, f"MSE {before:.4f} -> {after:.4f}"


def test_the_course_classifier_outputs_float32_under_mixed_precision():
    # The judge of notebooks 05, 06 and 09 and notebook 10's CNN: probabilities in float32.
    from course_utils import classifier

    keras.mixed_precision.set_global_policy("mixed_float16")
    model = classifier.build_quick_classifier()
    assert model.output.dtype == "float32"
    assert model.get_layer(classifier.FEATURE_LAYER).compute_dtype == "float16"
    probs = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    assert probs.dtype == np.float32 and np.allclose(probs.sum(axis=1), 1.0, atol=1e-6)
