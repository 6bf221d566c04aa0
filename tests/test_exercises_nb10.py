"""Tests for the notebook-10 exercise checkers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.exercises import nb10


def _one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def test_lstm_layer(capsys):
    assert nb10.check_lstm_layer(((20, 32), 6272)) is True
    assert "6,272" in _one_line(capsys)
    assert nb10.check_lstm_layer(([None, 20, 32], np.int64(6272))) is True
    _one_line(capsys)
    for wrong, word in ((((32,), 6272), "return_sequences"), (((20, 16), 6272), "units"),
                        (((20, 32), 1568), "four"), (((20, 32), 4704), "GRU"), (((20, 32), 6144), "biases"),
                        (((20, 32), 2176), "recurrent kernel"), (((20, 32), 100), "W (features")):
        assert nb10.check_lstm_layer(wrong) is False
        assert word in _one_line(capsys)
    for bad in (6272, ("x", 6272), ((20, 32), "many")):
        assert nb10.check_lstm_layer(bad) is False
        assert "pair" in _one_line(capsys)
    assert nb10.check_lstm_layer(None) is False
    assert "not answered" in _one_line(capsys)


def test_lstm_layer_agrees_with_keras():
    import keras

    s = nb10.LSTM_LAYER
    layer = keras.layers.LSTM(s["units"], return_sequences=s["return_sequences"])
    out = layer(keras.Input((s["time"], s["features"])))
    assert nb10.check_lstm_layer((tuple(out.shape), layer.count_params()))


def test_bptt_gradient_against_gradient_tape(capsys):
    import tensorflow as tf

    s = nb10.SCALAR_RNN
    w, u = tf.Variable(s["w"], dtype=tf.float64), tf.Variable(s["u"], dtype=tf.float64)
    with tf.GradientTape() as tape:
        h = tf.constant(0.0, tf.float64)
        for xt in s["x"]:
            h = tf.tanh(w * xt + u * h)
        loss = 0.5 * (h - s["y"]) ** 2
    du, dw = tape.gradient(loss, [u, w])
    ours = nb10.bptt_gradient(s["w"], s["u"], s["x"], s["y"])
    assert np.allclose(ours, (du.numpy(), dw.numpy()), atol=1e-12)
    assert nb10.check_bptt_gradient(float(du)) is True
    assert "correct" in _one_line(capsys)


def test_bptt_gradient_hints(capsys):
    s = nb10.SCALAR_RNN
    du, dw = nb10.bptt_gradient(s["w"], s["u"], s["x"], s["y"])
    h = [0.0]
    for xt in s["x"]:
        h.append(math.tanh(s["w"] * xt + s["u"] * h[-1]))
    last_only = (h[3] - s["y"]) * (1 - h[3] ** 2) * h[2]
    for wrong, word in ((last_only, "last step"), (dw, "dL/dw"), (-du, "sign"), (1.0, "unroll")):
        assert nb10.check_bptt_gradient(wrong) is False
        assert word in _one_line(capsys)
    assert nb10.check_bptt_gradient("x") is False
    _one_line(capsys)
    assert nb10.check_bptt_gradient(None) is False
    assert "not answered" in _one_line(capsys)


def test_bleu(capsys):
    # By hand: p1 = 9/10, p2 = 7/9, p3 = 5/8, p4 = 4/7, same length (BP = 1); the product is 1/4.
    expected = (9 / 10 * 7 / 9 * 5 / 8 * 4 / 7) ** 0.25
    assert expected == pytest.approx(0.5 ** 0.5)
    assert nb10.check_bleu(expected) is True
    assert "0.7071" in _one_line(capsys)
    unclipped = (10 / 10 * 7 / 9 * 5 / 8 * 4 / 7) ** 0.25  # 'square' counted twice
    for wrong, word in ((unclipped, "clip"), ((9 / 10 + 7 / 9 + 5 / 8 + 4 / 7) / 4, "geometric"), (4 / 7, "p4"),
                        (100 * expected, "percentage"), (0.5, "BP")):
        assert nb10.check_bleu(wrong) is False
        assert word in _one_line(capsys)
    assert nb10.check_bleu([0.1, 0.2]) is False
    _one_line(capsys)
    assert nb10.check_bleu(None) is False
    assert "not answered" in _one_line(capsys)
