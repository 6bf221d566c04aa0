"""Exercise checkers for notebook 01 (the mathematics of convolution).

Each checker prints one line and returns ``True`` or ``False``; ``None`` means "not answered".
The questions are stated in the notebook; the constants below are the same numbers.
"""

from __future__ import annotations

import numpy as np

from ._check import feedback, not_answered

#: Exercise 1: AlexNet's first layer - a 227x227 input, an 11x11 kernel, stride 4, 'valid'.
OUTPUT_SIZE_QUESTION = {"n": 227, "k": 11, "stride": 4, "padding": "valid"}
#: Exercise 3: Conv2D(32, kernel_size=5, strides=2, padding="same") on a (64, 64, 16) input.
PARAM_COUNT_QUESTION = {"input_shape": (64, 64, 16), "filters": 32, "kernel_size": 5}
#: Exercise 4: 2x2 average pooling (stride 2) of a 3-channel image as one convolution.
AVG_POOL_QUESTION = {"pool_size": 2, "channels": 3}


def _number(answer) -> int | None:
    """``answer`` as an int, or ``None`` when it is not a whole number."""
    try:
        value = float(np.asarray(answer).item())
    except (TypeError, ValueError):
        return None
    return int(value) if np.isfinite(value) and value == int(value) else None


def check_output_size(answer) -> bool:
    """Exercise 1: the output height of an 11x11, stride-4, 'valid' convolution of 227x227 pixels."""
    name = "output size"
    if answer is None:
        return not_answered(name)
    from ..conv import conv_output_size

    q = OUTPUT_SIZE_QUESTION
    expected = conv_output_size(q["n"], q["k"], q["padding"], q["stride"])
    return feedback(
        name,
        _number(answer) == expected,
        hint="'valid' means no padding: floor((n - k) / s) + 1.",
        detail=f"({q['n']} - {q['k']}) // {q['stride']} + 1 = {expected}.",
    )


def _edge_images(size: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(size)[:, None] * np.ones((1, size))
    horizontal = (rows >= size // 2).astype(np.float64)  # dark top, bright bottom
    return horizontal, horizontal.T.copy(), np.ones((size, size))


def check_horizontal_edge_kernel(answer) -> bool:
    """Exercise 2: a 2-D kernel that responds to horizontal edges and not to vertical ones or flat areas.

    The kernel is correlated ('valid') with a horizontal step, a vertical step and a flat
    image; it must respond clearly to the first and (almost) not at all to the other two.
    """
    name = "horizontal-edge kernel"
    if answer is None:
        return not_answered(name)
    from ..conv import conv2d

    kernel = np.asarray(answer, dtype=np.float64)
    if kernel.ndim != 2 or min(kernel.shape) < 1 or max(kernel.shape) > 7 or not np.all(np.isfinite(kernel)):
        return feedback(name, False, hint="give a 2-D array of numbers, e.g. 3x3.")
    responses = []
    for image in _edge_images():
        y = conv2d(image[None, :, :, None], kernel[:, :, None, None])
        responses.append(float(np.abs(y).max()))
    horizontal, vertical, flat = responses
    ok = horizontal > 1e-6 and vertical <= 0.05 * horizontal and flat <= 0.05 * horizontal
    return feedback(
        name,
        ok,
        hint="weights that change from top to bottom (e.g. -1 row on top, +1 row below) and "
        "whose columns each sum to zero, so a flat area or a vertical edge gives 0.",
        detail=f"response to a horizontal step {horizontal:.3g}, to a vertical step {vertical:.3g}.",
    )


def check_param_count(answer) -> bool:
    """Exercise 3: trainable parameters of Conv2D(32, 5, strides=2, padding='same') on (64, 64, 16)."""
    name = "parameter count"
    if answer is None:
        return not_answered(name)
    q = PARAM_COUNT_QUESTION
    k, c, f = q["kernel_size"], q["input_shape"][-1], q["filters"]
    expected = k * k * c * f + f
    got = _number(answer)
    hint = "kernel_h * kernel_w * in_channels * filters + filters (one bias per filter)."
    if got == k * k * c * f:
        hint = "almost: do not forget the biases, one per filter."
    return feedback(
        name,
        got == expected,
        hint=hint + " Image size and stride do not change the count.",
        detail=f"{k}*{k}*{c}*{f} + {f} = {expected}.",
    )


def check_avg_pool_as_conv(answer) -> bool:
    """Exercise 4: a kernel ``w`` with ``conv2d(x, w, strides=2) == pool2d(x, 2, mode='avg')``.

    ``x`` has 3 channels; ``w`` must have shape (2, 2, 3, 3) and reproduce 2x2 average
    pooling on random images.
    """
    name = "average pooling as a convolution"
    if answer is None:
        return not_answered(name)
    from ..conv import conv2d, pool2d

    q = AVG_POOL_QUESTION
    k, c = q["pool_size"], q["channels"]
    w = np.asarray(answer, dtype=np.float64)
    if w.shape != (k, k, c, c):
        return feedback(
            name, False, hint=f"w must have shape (kernel_h, kernel_w, in, out) = {(k, k, c, c)}, got {w.shape}."
        )
    x = np.random.default_rng(0).uniform(size=(2, 6, 8, c))
    ok = bool(np.allclose(conv2d(x, w, strides=k), pool2d(x, k, mode="avg"), atol=1e-6))
    return feedback(
        name,
        ok,
        hint="pooling averages each channel on its own: w[:, :, i, j] is 1/4 when i == j and 0 otherwise.",
    )
