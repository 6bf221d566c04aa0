"""The notebook 01 exercise checkers: right answers pass, wrong ones fail, None is 'not answered'."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import exercises

SOBEL_Y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)


def _avg_kernel() -> np.ndarray:
    w = np.zeros((2, 2, 3, 3))
    for c in range(3):
        w[:, :, c, c] = 0.25
    return w


@pytest.mark.parametrize(
    "checker, right, wrongs",
    [
        (exercises.check_output_size, 55, [54, 56, 57, "x", 55.5]),
        (exercises.check_horizontal_edge_kernel, SOBEL_Y,
         [SOBEL_Y.T, np.ones((3, 3)), np.zeros((3, 3)), [1, 2], [[-1, -1, -1], [1, 1, 1]], "abc", [[1, 2], [3]]]),
        (exercises.check_param_count, 12832, [12800, 1000, 12832.5]),
        (exercises.check_avg_pool_as_conv, _avg_kernel(), [np.full((2, 2, 3, 3), 0.25), np.ones((2, 2, 3, 3)), np.zeros((2, 2, 3))]),
    ],
)
def test_checker(checker, right, wrongs, capsys):
    assert checker(right) is True
    assert "correct" in capsys.readouterr().out
    for wrong in wrongs:
        assert checker(wrong) is False
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "not yet" in out
    assert checker(None) is False
    assert "not answered" in capsys.readouterr().out


def test_other_right_answers(capsys):
    # The Prewitt kernel, a sign-flipped Sobel and numpy scalars also count.
    assert exercises.check_horizontal_edge_kernel([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
    assert exercises.check_horizontal_edge_kernel(-SOBEL_Y)
    assert exercises.check_output_size(np.int64(55))
    assert exercises.check_param_count(np.array(12832))


def test_param_count_hint_mentions_bias(capsys):
    assert not exercises.check_param_count(5 * 5 * 16 * 32)
    assert "bias" in capsys.readouterr().out


def test_avg_pool_hint_does_not_give_the_answer(capsys):
    assert not exercises.check_avg_pool_as_conv(np.full((2, 2, 3, 3), 0.25))
    assert "1/4 when" not in capsys.readouterr().out


def _grad_w_loops(x, g):
    # dL/dw[p, q] = sum_{i,j} g[i, j] x[i + p, j + q], written independently of the checker.
    kh, kw = x.shape[0] - g.shape[0] + 1, x.shape[1] - g.shape[1] + 1
    return np.array([[np.sum(g * x[p : p + g.shape[0], q : q + g.shape[1]]) for q in range(kw)] for p in range(kh)])


def test_grad_w_loops_matches_tensorflow():
    # The reference answer above is the true gradient: compare with tf.GradientTape.
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(7, 9)).astype(np.float32)
    w = tf.Variable(rng.uniform(-1, 1, size=(3, 2, 1, 1)).astype(np.float32))
    g = rng.uniform(-1, 1, size=(1, 5, 8, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.conv2d(x[None, :, :, None], w, 1, "VALID") * g)
    np.testing.assert_allclose(_grad_w_loops(x, g[0, :, :, 0]), tape.gradient(loss, w).numpy()[:, :, 0, 0], atol=1e-5)


def _flipped(x, g):
    return _grad_w_loops(x, g)[::-1, ::-1]


def _raises(x, g):
    raise RuntimeError("not written yet")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_flipped, "flipped"),  # a convolution instead of a correlation
        (lambda x, g: _grad_w_loops(x, g).T, "shape"),  # transposed: wrong shape for non-square kernels
        (lambda x, g: 2 * _grad_w_loops(x, g), "correlate x with g"),
        (lambda x, g: np.zeros((3, 2)), "correlate x with g"),  # right shape for the first case, wrong values
        (lambda x, g: _grad_w_loops(x, g).mean(), "shape"),
        (_raises, "RuntimeError"),
        (np.zeros((3, 2)), "function"),
    ],
)
def test_weight_gradient_rejects_wrong_answers(wrong, hint, capsys):
    assert exercises.nb01.check_weight_gradient(wrong) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "not yet" in out and hint in out


def test_weight_gradient_accepts_right_answers(capsys):
    from scipy import signal

    assert exercises.nb01.check_weight_gradient(_grad_w_loops) is True
    assert "correct" in capsys.readouterr().out
    assert exercises.nb01.check_weight_gradient(lambda x, g: signal.correlate2d(x, g, mode="valid")) is True
    # a function that changes its inputs in place cannot spoil the next case
    def destructive(x, g):
        out = _grad_w_loops(x, g)
        x[:] = 0
        return out
    assert exercises.nb01.check_weight_gradient(destructive) is True
    assert exercises.nb01.check_weight_gradient(None) is False
    assert "not answered" in capsys.readouterr().out


def _im2col_dilated(x, kh, kw, d):
    n, h, w, c = x.shape
    oh, ow = h - (kh - 1) * d, w - (kw - 1) * d
    cols = np.empty((n, oh, ow, kh, kw, c), x.dtype)
    for p in range(kh):
        for q in range(kw):
            cols[:, :, :, p, q, :] = x[:, p * d:p * d + oh, q * d:q * d + ow, :]
    return cols.reshape(n, oh, ow, kh * kw * c)


def test_im2col_reference_is_keras_dilated_convolution():
    """The checker's reference (conv.im2col) times the kernel equals Keras's dilated Conv2D."""
    import keras

    from course_utils.conv import im2col
    from course_utils.exercises import nb01

    rng = np.random.default_rng(0)
    for shape, (kh, kw), d in nb01.IM2COL_CASES:
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        layer = keras.layers.Conv2D(4, (kh, kw), dilation_rate=d, use_bias=False, dtype="float32")
        want = np.asarray(layer(x))
        w = np.asarray(layer.kernel)
        assert np.allclose(im2col(x, (kh, kw), dilation_rate=d) @ w.reshape(-1, 4), want, atol=1e-5)


def test_check_im2col_dilated(capsys):
    assert exercises.check_im2col_dilated(_im2col_dilated) is True
    assert "correct" in capsys.readouterr().out

    def undilated(x, kh, kw, d):  # ignores d: wrong shape for d > 1
        return _im2col_dilated(x, kh, kw, 1)

    def channel_first_order(x, kh, kw, d):  # rows ordered (c, p, q)
        r = _im2col_dilated(x, kh, kw, d)
        n, oh, ow, _ = r.shape
        return r.reshape(n, oh, ow, kh, kw, -1).transpose(0, 1, 2, 5, 3, 4).reshape(n, oh, ow, -1)

    def raises(x, kh, kw, d):
        raise RuntimeError("boom")

    for wrong in (undilated, channel_first_order, raises, "im2col", 3):
        assert exercises.check_im2col_dilated(wrong) is False
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "not yet" in out
    assert exercises.check_im2col_dilated(None) is False
    assert "not answered" in capsys.readouterr().out
