"""course_utils.conv against Keras layers, scipy.signal and tf.GradientTape.

Every from-scratch result must match the reference to 1e-5. Keras's Conv2D does not
support strides > 1 together with dilation_rate > 1, and TensorFlow's CPU kernel for
Conv2DTranspose does not support dilation_rate > 1, so the Keras comparisons draw only
configurations Keras accepts; the remaining ones are checked by consistency (loops vs
im2col) and by the adjoint identity <conv(z), x> == <z, conv_transpose(x)>.

The Keras comparisons run with TensorFlow's oneDNN kernels off (tests/conftest.py): with them
on, TensorFlow 2.21 on AVX-512 CPUs computes some strided convolutions wrongly (the pinned
example below), and a reference must be right before it can judge anything.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scipy import signal

from course_utils import conv

ATOL = 1e-5
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@st.composite
def conv_case(draw, allow_stride_with_dilation: bool = False):
    """A random convolution configuration: shapes, strides, dilation, padding and a seed."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if max(strides) > 1 and not allow_stride_with_dilation:
        dilation = (1, 1)  # Keras: strides > 1 is not supported with dilation_rate > 1
    else:
        dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    min_h, min_w = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    h, w = draw(st.integers(min_h, min_h + 7)), draw(st.integers(min_w, min_w + 7))
    return {
        "n": draw(st.integers(1, 2)),
        "h": h,
        "w": w,
        "c": draw(st.integers(1, 3)),
        "f": draw(st.integers(1, 3)),
        "k": (kh, kw),
        "strides": strides,
        "dilation": dilation,
        "padding": padding,
        "seed": draw(st.integers(0, 2**16)),
    }


def _data(case):
    rng = _rng(case["seed"])
    x = rng.uniform(-1, 1, (case["n"], case["h"], case["w"], case["c"])).astype(np.float32)
    w = rng.uniform(-1, 1, (*case["k"], case["c"], case["f"])).astype(np.float32)
    b = rng.uniform(-1, 1, case["f"]).astype(np.float32)
    return x, w, b


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    "n, k, padding, stride, dilation, expected",
    [
        (32, 3, "valid", 1, 1, 30),
        (32, 3, "same", 1, 1, 32),
        (32, 3, "same", 2, 1, 16),
        (33, 3, "same", 2, 1, 17),
        (227, 11, "valid", 4, 1, 55),
        (10, 3, "valid", 1, 2, 6),
        (10, 3, "full", 1, 1, 12),
        (2, 5, "valid", 1, 1, 0),
    ],
)
def test_conv_output_size_table(n, k, padding, stride, dilation, expected):
    assert conv.conv_output_size(n, k, padding, stride, dilation) == expected


@given(
    n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3)
)
@settings(max_examples=200, deadline=None)
def test_same_padding_rule(n, k, s, d):
    before, after = conv.padding_amounts(n, k, "same", s, d)
    total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
    assert (before, after) == (total // 2, total - total // 2)
    assert conv.conv_output_size(n, k, "same", s, d) == -(-n // s)


# ----------------------------------------------------------------------------- convolution
# Found by hypothesis: batch 2, a 2x3x1 input, a 1x2 kernel, strides (1, 2), 'valid', one output
# column. With TF_ENABLE_ONEDNN_OPTS=1 on an AVX-512 CPU, tf.nn.conv2d returned 0.459 or -6e19 for
# one output where course_utils.conv (and TensorFlow with oneDNN off) give -0.816.
ONEDNN_CASE = {
    "n": 2, "h": 2, "w": 3, "c": 1, "f": 1, "k": (1, 2), "strides": (1, 2),
    "dilation": (1, 1), "padding": "valid", "seed": 0,
}


def test_onednn_regression_shape_against_numpy():
    # The same case checked without TensorFlow: an explicit sum over the two taps.
    x, w, b = _data(ONEDNN_CASE)
    expected = x[:, :, 0:1, 0] * w[0, 0, 0, 0] + x[:, :, 1:2, 0] * w[0, 1, 0, 0] + b[0]
    got = conv.conv2d(x, w, b, (1, 2), "valid")
    assert got.shape == (2, 2, 1, 1)
    np.testing.assert_allclose(got[..., 0], expected, atol=ATOL, rtol=0)


def test_suite_runs_tensorflow_without_onednn():
    import os

    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"


@given(case=conv_case())
@example(case=ONEDNN_CASE)
@SETTINGS
def test_conv2d_matches_keras(case):
    x, w, b = _data(case)
    layer = keras.layers.Conv2D(
        case["f"], case["k"], strides=case["strides"], padding=case["padding"],
        dilation_rate=case["dilation"],
    )
    layer.build(x.shape)
    layer.set_weights([w, b])
    expected = np.asarray(layer(x))
    args = (case["strides"], case["padding"], case["dilation"])
    got = conv.conv2d(x, w, b, *args)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(conv.conv2d_loops(x, w, b, *args), expected, atol=ATOL, rtol=0)


@given(case=conv_case(allow_stride_with_dilation=True))
@settings(max_examples=40, deadline=None)
def test_loops_and_im2col_agree_everywhere(case):
    # Includes stride > 1 with dilation > 1 and 'full' padding, which Keras does not offer.
    x, w, b = _data(case)
    for padding in (case["padding"], "full"):
        args = (case["strides"], padding, case["dilation"])
        np.testing.assert_allclose(conv.conv2d(x, w, b, *args), conv.conv2d_loops(x, w, b, *args), atol=ATOL)


@given(
    h=st.integers(3, 9), w=st.integers(3, 9), kh=st.integers(1, 3), kw=st.integers(1, 3),
    mode=st.sampled_from(["valid", "full", "same"]), seed=st.integers(0, 999),
)
@settings(max_examples=40, deadline=None)
def test_single_channel_matches_scipy(h, w, kh, kw, mode, seed):
    rng = _rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    if mode == "same":
        assume(kh % 2 == 1 and kw % 2 == 1)  # scipy centres even kernels differently from TF
    ours = conv.conv2d(x[None, :, :, None], k[:, :, None, None], padding=mode)[0, :, :, 0]
    np.testing.assert_allclose(ours, signal.correlate2d(x, k, mode=mode), atol=1e-10)
    # True convolution = cross-correlation with the kernel flipped in both axes.
    flipped = k[::-1, ::-1]
    ours_conv = conv.conv2d(x[None, :, :, None], flipped[:, :, None, None], padding=mode)[0, :, :, 0]
    np.testing.assert_allclose(ours_conv, signal.convolve2d(x, k, mode=mode), atol=1e-10)


def test_im2col_layout_and_col2im_adjoint():
    rng = _rng(1)
    x = rng.normal(size=(2, 5, 6, 3))
    cols = conv.im2col(x, (2, 3), strides=(1, 2), padding="same", dilation_rate=1)
    assert cols.shape == (2, 5, 3, 2 * 3 * 3)
    # Row (0, 1, 1) is the window starting at padded (1, 2), flattened in (p, q, c) order.
    top, _ = conv.padding_amounts(5, 2, "same", 1)
    left, _ = conv.padding_amounts(6, 3, "same", 2)
    xp = np.pad(x, ((0, 0), (top, 1 - top), (left, 2 * left), (0, 0)))
    np.testing.assert_array_equal(cols[0, 1, 1], xp[0, 1:3, 2:5, :].reshape(-1))
    g = rng.normal(size=cols.shape)
    back = conv.col2im(g, x.shape, (2, 3), (1, 2), "same")
    assert np.isclose(np.sum(cols * g), np.sum(x * back))


# ----------------------------------------------------------------------------- pooling
@given(case=conv_case(), mode=st.sampled_from(["max", "avg"]), default_strides=st.booleans())
@SETTINGS
def test_pool2d_matches_keras(case, mode, default_strides):
    x, _, _ = _data(case)
    strides = None if default_strides else case["strides"]
    cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    layer = cls(pool_size=case["k"], strides=strides, padding=case["padding"])
    assume(conv.conv_output_size(case["h"], case["k"][0], case["padding"], (strides or case["k"])[0]) > 0)
    expected = np.asarray(layer(x))
    got = conv.pool2d(x, case["k"], strides, case["padding"], mode=mode)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)


def test_avg_pool_same_excludes_padding():
    x = np.ones((1, 3, 3, 1))
    # Every window averages real pixels only, so a constant image stays constant.
    np.testing.assert_allclose(conv.pool2d(x, 2, 2, "same", mode="avg"), np.ones((1, 2, 2, 1)))


# ----------------------------------------------------------------------------- transposed
@given(case=conv_case(), op=st.integers(-1, 2))
@SETTINGS
def test_conv2d_transpose_matches_keras(case, op):
    case = {**case, "dilation": (1, 1)}  # TensorFlow's CPU Conv2DTranspose has no dilation
    output_padding = None if op < 0 else (min(op, case["strides"][0] - 1), min(op, case["strides"][1] - 1))
    x, _, b = _data(case)
    w = _rng(case["seed"] + 1).uniform(-1, 1, (*case["k"], case["f"], case["c"])).astype(np.float32)
    try:
        got = conv.conv2d_transpose(x, w, b, case["strides"], case["padding"], output_padding)
    except ValueError:
        got = None  # an output_padding whose output does not convolve back to x's size
    try:
        layer = keras.layers.Conv2DTranspose(
            case["f"], case["k"], strides=case["strides"], padding=case["padding"],
            output_padding=output_padding,
        )
    except ValueError:
        # Keras before 3.11 (the oldest tested set) takes no zero in output_padding; there
        # TensorFlow's own op, given the output size, is the reference.
        if output_padding is None or 0 not in output_padding:
            raise
        layer = None
    if layer is None:
        if got is None:
            return
        expected = tf.nn.conv2d_transpose(x, w, got.shape, strides=case["strides"],
                                          padding=case["padding"].upper()).numpy() + b
        np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)
        return
    layer.build(x.shape)
    layer.set_weights([w, b])
    if got is None:
        with pytest.raises(Exception):
            layer(x)
        return
    expected = np.asarray(layer(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)


@given(case=conv_case(allow_stride_with_dilation=True))
@settings(max_examples=40, deadline=None)
def test_conv2d_transpose_is_the_adjoint(case):
    # <conv2d(z, w), y> == <z, conv2d_transpose(y, w)>, dilation and stride included.
    rng = _rng(case["seed"])
    w = rng.normal(size=(*case["k"], case["f"], case["c"]))
    y = rng.normal(size=(case["n"], case["h"], case["w"], case["c"]))
    args = (case["strides"], case["padding"])
    try:
        zt = conv.conv2d_transpose(y, w, None, *args, None, case["dilation"])
    except ValueError:
        return
    z = rng.normal(size=zt.shape)
    lhs = np.sum(conv.conv2d(z, w, None, *args, case["dilation"]) * y)
    assert np.isclose(lhs, np.sum(z * zt))


def test_transposed_output_sizes_follow_keras():
    assert conv.conv_transpose_output_size(4, 3, "same", 2) == 8
    assert conv.conv_transpose_output_size(4, 3, "valid", 2) == 9
    assert conv.conv_transpose_output_size(4, 1, "valid", 3) == 12  # max(k, s) - k extra
    assert conv.conv_transpose_output_size(4, 3, "same", 2, output_padding=0) == 7


# ----------------------------------------------------------------------------- backward
@given(case=conv_case())
@settings(max_examples=25, deadline=None)
def test_conv2d_backward_matches_gradient_tape(case):
    import tensorflow as tf

    x, w, _ = _data(case)
    args = (case["strides"], case["padding"], case["dilation"])
    dy = _rng(case["seed"] + 2).uniform(-1, 1, conv.conv2d(x, w, None, *args).shape).astype(np.float32)
    xt, wt = tf.constant(x), tf.Variable(w)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        y = keras.ops.conv(xt, wt, strides=case["strides"], padding=case["padding"],
                           dilation_rate=case["dilation"])
        loss = tf.reduce_sum(y * dy)  # so dL/dy == dy
    dx_ref, dw_ref = tape.gradient(loss, xt).numpy(), tape.gradient(loss, wt).numpy()
    dx, dw = conv.conv2d_backward(x, w, dy, *args)
    np.testing.assert_allclose(dx, dx_ref, atol=ATOL, rtol=0)
    np.testing.assert_allclose(dw, dw_ref, atol=ATOL * 10, rtol=1e-5)


# ----------------------------------------------------------------------------- errors
X = np.zeros((1, 5, 5, 3))
W = np.zeros((3, 3, 3, 2))


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: conv.conv2d(X, W, padding="causal"), "padding"),
        (lambda: conv.conv2d(X, np.zeros((3, 3, 4, 2))), "w"),
        (lambda: conv.conv2d(X[0], W), "x"),
        (lambda: conv.conv2d(X, W, b=np.zeros(3)), "b"),
        (lambda: conv.conv2d(X, W, strides=0), "strides"),
        (lambda: conv.conv2d(X, W, dilation_rate=(1, 2, 3)), "dilation_rate"),
        (lambda: conv.conv2d(X, np.zeros((7, 7, 3, 2))), "x"),
        (lambda: conv.conv2d_loops(X, np.zeros((3, 3, 2, 2))), "w"),
        (lambda: conv.im2col(X, 3, padding="SAMEISH"), "padding"),
        (lambda: conv.pool2d(X, 2, mode="median"), "mode"),
        (lambda: conv.pool2d(X, 2, padding="full"), "padding"),
        (lambda: conv.conv2d_transpose(X, np.zeros((3, 3, 2, 4))), "w"),
        (lambda: conv.conv2d_transpose(X, np.zeros((3, 3, 2, 3)), strides=2, output_padding=2), "output_padding"),
        (lambda: conv.conv2d_backward(X, W, np.zeros((1, 5, 5, 2))), "dy"),
        (lambda: conv.conv_output_size(5, 3, "reflect"), "padding"),
        (lambda: conv.col2im(np.zeros((1, 3, 3, 5)), X.shape, 3), "cols"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()
