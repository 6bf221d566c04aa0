"""Exercise checkers for notebook 02 (CNN classification).

* :func:`check_layer_shapes` - the output shape of each layer of a small CNN, by hand;
* :func:`check_stable_softmax` - a softmax that neither overflows nor underflows;
* :func:`check_half_params` - a model with at most half the parameters that keeps its
  validation accuracy within 0.5 points of the notebook's CNN (both evaluated by the checker);
* :func:`check_per_class_accuracy` - per-class accuracy from a confusion matrix.

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


def check_half_params(
    answer: Any, *, baseline: Any, x_val: Any, y_val: Any, tolerance: float = 0.005
) -> bool:
    """Check a smaller model: at most half the baseline's parameters, accuracy within 0.5 points.

    ``answer``: a trained ``keras.Model``. ``baseline`` is the notebook's CNN; both are
    evaluated here on the validation images ``x_val`` (N, H, W, C) float in [0, 1] with
    labels ``y_val`` (N,), never on the test split, so the comparison uses the same images
    and no self-reported number. ``tolerance`` is 0.005 (0.5 points).
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
    n_params, base_params = int(answer.count_params()), int(baseline.count_params())
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


def _per_class_cases() -> list[tuple[np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, size=200)
    pred = np.where(rng.random(200) < 0.7, y, rng.integers(0, 5, size=200))
    never = y.copy()
    never[never == 3] = 1  # class 3 is never predicted
    skew = np.array([0] * 50 + [1] * 5 + [2] * 20)
    skew_pred = np.array([0] * 45 + [1] * 5 + [1] * 5 + [2] * 12 + [0] * 8)
    return [(y, pred, 5), (np.r_[y, 3, 3], np.r_[never, 3, 0], 5), (skew, skew_pred, 3)]


def _reference_per_class(y: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    return cm.diagonal() / cm.sum(axis=1)


def check_per_class_accuracy(fn: Callable[..., Any] | None) -> bool:
    """Check ``fn(y_true, y_pred, n_classes)``: per-class accuracy (recall), shape (n_classes,).

    Entry ``c`` is the fraction of images *of true class c* predicted as ``c``: the diagonal
    of the confusion matrix over its row sums. It is called on labelled cases, one with a class
    that is never predicted and one with unbalanced classes, where precision (column sums) or
    the overall accuracy give different numbers; every class in the cases has images.
    """
    name = "per-class accuracy"
    if fn is None:
        return not_answered(name)
    if not callable(fn):
        return feedback(name, False, "pass the function itself, e.g. check_per_class_accuracy(per_class_accuracy)")
    for y, pred, n in _per_class_cases():
        try:
            got = np.asarray(fn(y.copy(), pred.copy(), n), dtype=np.float64)
        except Exception as exc:  # the student's code failed
            return feedback(name, False, f"your function raised {type(exc).__name__}: {exc}")
        if got.shape != (n,):
            return feedback(name, False, f"return one number per class, shape ({n},), got {got.shape}")
        want = _reference_per_class(y, pred, n)
        if not np.allclose(got, want, atol=1e-9):
            return feedback(
                name, False,
                "divide the diagonal by the row sums (images of each true class), not the column sums",
            )
    return feedback(name, True)
