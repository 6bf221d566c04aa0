"""Exercise checkers for notebook 01 (the mathematics of convolution).

Each checker prints one line and returns ``True`` or ``False``; ``None`` means "not answered".
The questions are stated in the notebook; the constants below are the same numbers.
"""

from __future__ import annotations

import numpy as np

from ._check import feedback, not_answered, whole_number

#: Exercise 1: AlexNet's first layer - a 227x227 input, an 11x11 kernel, stride 4, 'valid'.
OUTPUT_SIZE_QUESTION = {"n": 227, "k": 11, "stride": 4, "padding": "valid"}
#: Exercise 3: Conv2D(32, kernel_size=5, strides=2, padding="same") on a (64, 64, 16) input.
PARAM_COUNT_QUESTION = {"input_shape": (64, 64, 16), "filters": 32, "kernel_size": 5}
#: Exercise 4: 2x2 average pooling (stride 2) of a 3-channel image as one convolution.
AVG_POOL_QUESTION = {"pool_size": 2, "channels": 3}
#: Exercise 5: (input shape, kernel shape) pairs on which ``grad_w(x, g)`` is tried.
WEIGHT_GRADIENT_CASES = (((7, 9), (3, 2)), ((6, 6), (1, 1)), ((5, 8), (4, 3)), ((8, 5), (2, 5)))


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
        whole_number(answer) == expected,
        hint="'valid' means no padding: floor((n - k) / s) + 1.",
        detail=f"({q['n']} - {q['k']}) // {q['stride']} + 1 = {expected}.",
    )


def _edge_images(size: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(size)[:, None] * np.ones((1, size))
    horizontal = (rows >= size // 2).astype(np.float64)  # dark top, bright bottom
    return horizontal, horizontal.T.copy(), np.ones((size, size))


def check_horizontal_edge_kernel(answer) -> bool:
    """Exercise 2: a 3x3 kernel that responds to horizontal edges and not to vertical ones or flat areas.

    The kernel is correlated ('valid') with a horizontal step, a vertical step and a flat
    image; it must respond clearly to the first and (almost) not at all to the other two.
    """
    name = "horizontal-edge kernel"
    if answer is None:
        return not_answered(name)
    from ..conv import conv2d

    try:
        kernel = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return feedback(name, False, hint="give a 3x3 array of numbers.")
    if kernel.shape != (3, 3) or not np.all(np.isfinite(kernel)):
        return feedback(name, False, hint=f"the question asks for a 3x3 kernel of numbers, got shape {kernel.shape}.")
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
    got = whole_number(answer)
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
        hint="pooling averages each channel on its own: which input channels should output channel c "
        "read, and with what weight on each of the 4 pixels of its window?",
    )


def _weight_gradient_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dw of a 'valid', stride-1 cross-correlation: the 'valid' cross-correlation of x with g."""
    from scipy import signal

    return signal.correlate2d(x, g, mode="valid")


def check_weight_gradient(answer) -> bool:
    """Exercise 5: a function ``grad_w(x, g)`` returning dL/dw of ``y = correlate2d(x, w)``.

    ``x`` is one (H, W) channel, the convolution is a 'valid', stride-1 cross-correlation
    with a (k_h, k_w) kernel, and ``g = dL/dy`` has shape (H - k_h + 1, W - k_w + 1); the
    function must return dL/dw with shape (k_h, k_w). It is called on random inputs of
    several shapes (see :data:`WEIGHT_GRADIENT_CASES`) and compared with SciPy's
    ``signal.correlate2d(x, g, mode="valid")``.
    """
    name = "weight gradient"
    if answer is None:
        return not_answered(name)
    if not callable(answer):
        return feedback(name, False, hint="give a function grad_w(x, g) that returns an array, not a value.")
    rng = np.random.default_rng(1)
    for (h, w), (kh, kw) in WEIGHT_GRADIENT_CASES:
        x = rng.uniform(-1, 1, size=(h, w))
        g = rng.uniform(-1, 1, size=(h - kh + 1, w - kw + 1))
        expected = _weight_gradient_reference(x, g)
        try:
            got = np.asarray(answer(x.copy(), g.copy()), dtype=np.float64)
        except Exception as exc:  # a student's function may fail in any way; report it in one line
            return feedback(name, False, hint=f"grad_w raised {type(exc).__name__}: {exc} (x {x.shape}, g {g.shape}).")
        if got.shape != expected.shape:
            return feedback(
                name, False,
                hint=f"for x of shape {x.shape} and g of shape {g.shape} dL/dw has the kernel's shape "
                f"{expected.shape}, got {got.shape}.",
            )
        if not np.allclose(got, expected, atol=1e-8):
            hint = "dL/dw[p, q] = sum over i, j of g[i, j] * x[i + p, j + q]: correlate x with g."
            if np.allclose(got, expected[::-1, ::-1], atol=1e-8):
                hint = "almost: your result is flipped in both axes (a convolution); correlate x with g instead."
            return feedback(name, False, hint=hint)
    return feedback(name, True, detail=f"matches scipy.signal.correlate2d(x, g, 'valid') on {len(WEIGHT_GRADIENT_CASES)} shapes.")


#: Exercise 6: (input shape NHWC, kernel (kh, kw), dilation) cases on which ``im2col_dilated`` is tried.
IM2COL_CASES = (((1, 7, 7, 1), (3, 3), 2), ((2, 9, 8, 3), (2, 3), 3), ((1, 6, 5, 2), (3, 2), 1),
                ((1, 8, 9, 1), (1, 4), 2))


def check_im2col_dilated(answer) -> bool:
    """Exercise 6: ``answer(x, kh, kw, dilation)`` returns every dilated patch of ``x`` as a row.

    ``x`` NHWC (N, H, W, C), stride 1, ``'valid'`` padding, dilation ``d``: output
    (N, OH, OW, kh*kw*C) with OH = H - (kh - 1) d, OW = W - (kw - 1) d, each row ordered
    (p, q, c) like ``w.reshape(-1, F)``, so ``rows @ w.reshape(-1, F)`` is the dilated
    convolution. Compared with :func:`course_utils.conv.im2col` on several shapes, including
    non-square kernels, several channels and dilation 1.
    """
    name = "dilated im2col"
    if answer is None:
        return not_answered(name)
    if not callable(answer):
        return feedback(name, False, "pass the function itself, e.g. check_im2col_dilated(im2col_dilated)")
    from ..conv import im2col

    rng = np.random.default_rng(3)
    for shape, (kh, kw), d in IM2COL_CASES:
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        want = im2col(x, (kh, kw), dilation_rate=d)
        try:
            got = np.asarray(answer(x.copy(), kh, kw, d), dtype=np.float64)
        except Exception as exc:  # the student's code failed
            return feedback(name, False, f"your function raised {type(exc).__name__}: {exc}")
        if got.shape != want.shape:
            return feedback(name, False, f"for x {shape}, a {kh}x{kw} kernel and dilation {d} the result has shape "
                                         f"{want.shape} (N, OH, OW, kh*kw*C) with OH = H - (kh - 1) * d; got {got.shape}")
        if not np.allclose(got, want, atol=1e-6):
            return feedback(name, False, "right shape, wrong values: with dilation d, neighbouring kernel taps "
                                         "read pixels d apart; a row is ordered (p, q, c) like w.reshape(-1, F)")
    return feedback(name, True, detail=f"{len(IM2COL_CASES)} cases, dilations 1-3.")
