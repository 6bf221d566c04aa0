"""Exercise checkers for notebook 02 (CNN classification).

* :func:`check_layer_shapes` - the output shape of each layer of a small CNN, by hand;
* :func:`check_stable_softmax` - a softmax that neither overflows nor underflows;
* :func:`check_half_params` - a model with at most half the parameters that keeps its
  test accuracy within 0.5 points of the notebook's CNN.

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


def check_half_params(
    answer: Any, *, baseline_params: int, baseline_accuracy: float, tolerance: float = 0.005
) -> bool:
    """Check a smaller model: at most half the baseline's parameters, accuracy within 0.5 points.

    ``answer``: ``(model, test_accuracy)`` where ``model`` is a ``keras.Model`` (its
    parameters are counted) or a parameter count, and ``test_accuracy`` in [0, 1] is the
    accuracy it reached on the same test split. ``baseline_params`` and
    ``baseline_accuracy`` describe the notebook's CNN; ``tolerance`` is 0.005 (0.5 points).
    """
    name = "half the parameters"
    if answer is None:
        return not_answered(name)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return feedback(name, False, "answer with a pair: (model, test_accuracy)")
    model, accuracy = answer
    if model is None or accuracy is None:
        return not_answered(name)
    if hasattr(model, "count_params"):
        n_params = int(model.count_params())
    elif isinstance(model, (int, np.integer)) and not isinstance(model, bool):
        n_params = int(model)
    else:
        return feedback(name, False, "the first item must be a keras.Model or its parameter count")
    try:
        accuracy = float(accuracy)
    except (TypeError, ValueError):
        return feedback(name, False, "the second item must be the test accuracy, a number in [0, 1]")
    if not 0.0 <= accuracy <= 1.0:
        return feedback(name, False, f"accuracy must be a fraction in [0, 1], got {accuracy}")
    if n_params > baseline_params / 2:
        return feedback(
            name, False,
            f"{n_params:,} parameters is more than half of {baseline_params:,}; "
            "shrink the largest layer (usually the Dense after Flatten)",
        )
    if accuracy < baseline_accuracy - tolerance:
        return feedback(
            name, False,
            f"accuracy {accuracy:.4f} is more than {100 * tolerance:.1f} points below "
            f"{baseline_accuracy:.4f}; train longer or keep more filters",
        )
    return feedback(
        name, True,
        detail=f"{n_params:,} parameters ({n_params / baseline_params:.0%} of the baseline), "
        f"accuracy {accuracy:.4f} vs {baseline_accuracy:.4f}.",
    )
