"""Exercise checkers for notebook 02 (CNN classification).

* :func:`check_layer_shapes` - the output shape of each layer of a small CNN, by hand;
* :func:`check_stable_softmax` - a softmax that neither overflows nor underflows;
* :func:`check_half_params` - a model with at most half the parameters that keeps its
  validation accuracy within 1 point of the notebook's CNN (both evaluated by the checker, the
  parameters counted by what the model reads);
* :func:`check_random_shift` - a label-preserving augmentation: random shifts with zero fill.

Each prints one line and returns ``True`` or ``False``; ``None`` means "not answered yet".
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._check import feedback, not_answered

#: The exercise network (input 32x32x3), described in the notebook:
#: Conv2D(8, 5, "valid") - MaxPool(2) - Conv2D(16, 3, "same") - MaxPool(2) - Conv2D(32, 3, strides=2, "same")
#: - Flatten - Dense(10)
SHAPES_LAYERS = ("conv_a", "pool_a", "conv_b", "pool_b", "conv_c", "flatten", "dense")
SHAPES_ANSWER = ((28, 28, 8), (14, 14, 8), (14, 14, 16), (7, 7, 16), (4, 4, 32), (512,), (10,))


def _as_shape(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    try:
        out = tuple(value)
    except TypeError:
        return None
    if out and out[0] is None:  # a Keras shape with the batch axis
        out = out[1:]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out):
        return None
    return tuple(int(v) for v in out)


def check_layer_shapes(answer: Any) -> bool:
    """Check the per-layer output shapes of the exercise CNN (batch axis left out).

    ``answer``: a list of 7 shapes in layer order (``conv_a`` ... ``dense``) or a dict
    from those layer names to shapes, each a tuple such as ``(28, 28, 8)``.
    """
    name = "layer shapes"
    if answer is None:
        return not_answered(name)
    if isinstance(answer, dict):
        missing = [k for k in SHAPES_LAYERS if k not in answer]
        if missing:
            return feedback(name, False, f"give a shape for every layer; missing {missing}")
        answer = [answer[k] for k in SHAPES_LAYERS]
    try:
        answer = list(answer)
    except TypeError:
        return feedback(name, False, "give a list of 7 shapes, one per layer, e.g. [(28, 28, 8), ...]")
    if len(answer) != len(SHAPES_ANSWER):
        return feedback(
            name, False, f"give {len(SHAPES_ANSWER)} shapes (one per layer), got {len(answer)}"
        )
    for layer, got, want in zip(SHAPES_LAYERS, answer, SHAPES_ANSWER):
        shape = _as_shape(got)
        if shape != want:
            return feedback(
                name,
                False,
                f"{layer} is not {got!r}; use out = floor((in + 2*pad - kernel) / stride) + 1, "
                "with pad = 0 for 'valid' and out = ceil(in / stride) for 'same'",
            )
    return feedback(name, True, detail=f"{len(SHAPES_ANSWER)} layers right.")


def _reference_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(5, 10)),
        np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -999.0]]),
        np.array([[0.0, 0.0, 0.0, 0.0]]),
        rng.normal(scale=300.0, size=(4, 7)),
    ]


def check_stable_softmax(fn: Callable[[np.ndarray], Any] | None) -> bool:
    """Check a function ``fn(z)`` returning the softmax of logits ``z`` (N, C) along the last axis.

    It is called on ordinary logits and on logits of size +-1000 (where ``exp`` overflows
    unless the maximum is subtracted first); every result must be finite and match the
    reference to 1e-6.
    """
    name = "stable softmax"
    if fn is None:
        return not_answered(name)
    if not callable(fn):
        return feedback(name, False, "pass the function itself, e.g. check_stable_softmax(my_softmax)")
    for z in _softmax_cases():
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(fn(z.copy()), dtype=np.float64)
        except Exception as exc:  # the student's code failed
            return feedback(name, False, f"your function raised {type(exc).__name__}: {exc}")
        if got.shape != z.shape:
            return feedback(name, False, f"the output must have the input's shape {z.shape}, got {got.shape}")
        if not np.all(np.isfinite(got)):
            return feedback(name, False, "NaN or inf for large logits: subtract the row maximum before exp")
        if not np.allclose(got, _reference_softmax(z), atol=1e-6):
            return feedback(name, False, "values differ from softmax; normalise along the last axis (axis=-1)")
    return feedback(name, True)


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    probs = np.asarray(model.predict(x, batch_size=256, verbose=0))
    return float(np.mean(probs.argmax(axis=-1) == y))


def _params_used(model: Any, x: np.ndarray) -> int:
    """Parameters a model really uses: its own weights, or every trainable variable read while
    it predicts ``x`` if that is more (a ``Lambda`` layer wrapping another model owns no weights
    but reads all of that model's). Counted once per variable."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        model(tf.constant(x, tf.float32), training=False)
    read = {id(v): int(np.prod(v.shape)) for v in tape.watched_variables()}
    return max(int(model.count_params()), sum(read.values()))


def check_half_params(
    answer: Any, *, baseline: Any, x_val: Any, y_val: Any, tolerance: float = 0.01
) -> bool:
    """Check a smaller model: at most half the baseline's parameters, accuracy within 1 point.

    ``answer``: a trained ``keras.Model``. Its parameters are the weights it owns or, if more,
    every trainable variable it reads while predicting (so wrapping the baseline in a ``Lambda``
    layer counts the baseline's weights). ``baseline`` is the notebook's CNN; both are
    evaluated here on the validation images ``x_val`` (N, H, W, C) float in [0, 1] with
    labels ``y_val`` (N,), never on the test split, so the comparison uses the same images
    and no self-reported number. ``tolerance`` is 0.01 (1 point).
    """
    import keras

    name = "half the parameters"
    if answer is None:
        return not_answered(name)
    if not isinstance(answer, keras.Model):
        return feedback(name, False, f"answer with the trained keras.Model itself, got {type(answer).__name__}")
    if not isinstance(baseline, keras.Model):
        raise ValueError(f"baseline must be a keras.Model, got {type(baseline).__name__}")
    x_val, y_val = np.asarray(x_val), np.asarray(y_val)
    if x_val.ndim != 4 or y_val.shape != (len(x_val),) or len(x_val) == 0:
        raise ValueError(
            f"x_val must be images (N, H, W, C) and y_val labels (N,), got {x_val.shape} and {y_val.shape}"
        )
    n_params, base_params = _params_used(answer, x_val[:2]), _params_used(baseline, x_val[:2])
    if n_params > base_params / 2:
        return feedback(
            name, False,
            f"{n_params:,} parameters is more than half of {base_params:,}; "
            "shrink the largest layer (usually the Dense after Flatten)",
        )
    try:
        accuracy = _accuracy(answer, x_val, y_val)
    except Exception as exc:  # the student's model does not take these images
        return feedback(name, False, f"predicting the validation images failed: {type(exc).__name__}: {exc}")
    base_accuracy = _accuracy(baseline, x_val, y_val)
    if accuracy < base_accuracy - tolerance:
        return feedback(
            name, False,
            f"validation accuracy {accuracy:.4f} is more than {100 * tolerance:.1f} points below "
            f"the CNN's {base_accuracy:.4f}; train longer or keep more filters",
        )
    return feedback(
        name, True,
        detail=f"{n_params:,} parameters ({n_params / base_params:.0%} of the CNN), validation "
        f"accuracy {accuracy:.4f} vs {base_accuracy:.4f} on {len(y_val)} images.",
    )


#: The shift exercise: images are shifted by whole pixels, at most this many in each direction.
MAX_SHIFT = 3


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(img)
    h, w = img.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def _which_shift(src: np.ndarray, out: np.ndarray, max_shift: int) -> tuple[int, int] | None:
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if np.array_equal(_shift(src, dy, dx), out):
                return dy, dx
    return None


def check_random_shift(fn: Callable[..., Any] | None) -> bool:
    """Check ``fn(images, max_shift, rng)``: each image shifted by its own random whole-pixel
    offset (dy, dx), each in ``[-max_shift, max_shift]``, with zeros where no pixel comes from.

    Called on 64 random images (64, 12, 12, 1) with ``max_shift=3`` and a seeded
    ``np.random.Generator``: the output must have the input's shape, every image must be an
    exact shift of its input within the range (a shift keeps the label of a digit), the inputs
    must not be modified, and the offsets must vary (at least 10 different ones, some with
    |dy| or |dx| equal to 3).
    """
    name = "random shift"
    if fn is None:
        return not_answered(name)
    if not callable(fn):
        return feedback(name, False, "pass the function itself, e.g. check_random_shift(random_shift)")
    images = np.random.default_rng(7).random((64, 12, 12, 1)).astype(np.float32) + 0.1
    given = images.copy()
    try:
        out = np.asarray(fn(given, MAX_SHIFT, np.random.default_rng(0)))
    except Exception as exc:  # the student's code failed
        return feedback(name, False, f"your function raised {type(exc).__name__}: {exc}")
    if not np.array_equal(given, images):
        return feedback(name, False, "do not change the input images; write the shifted ones into a new array")
    if out.shape != images.shape:
        return feedback(name, False, f"return the batch in the input's shape {images.shape}, got {out.shape}")
    offsets = []
    for src, img in zip(images, out):
        found = _which_shift(src, img, MAX_SHIFT)
        if found is None:
            return feedback(name, False, "each output must be its input moved by whole pixels, at most max_shift "
                                         "in each direction, with zeros filled in where nothing moved in")
        offsets.append(found)
    if len(set(offsets)) < 10 or max(max(abs(a), abs(b)) for a, b in offsets) < MAX_SHIFT:
        return feedback(name, False, "draw an offset per image, uniformly from -max_shift to max_shift in each "
                                     f"direction (got {len(set(offsets))} different offsets)")
    return feedback(name, True, detail=f"{len(set(offsets))} different offsets in 64 images.")
