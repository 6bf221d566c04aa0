"""Tests for the notebook-11 exercise checkers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.exercises import nb11


def _one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_attention_weights(capsys):
    q, k = np.array(nb11.THREE_TOKENS["Q"]), np.array(nb11.THREE_TOKENS["K"])
    scores = q @ k.T
    right = _softmax(scores / 2.0)
    assert np.allclose(right.sum(axis=1), 1)
    assert nb11.check_attention_weights(right) is True
    assert "correct" in _one_line(capsys)
    assert nb11.check_attention_weights(np.round(right, 4).tolist()) is True
    _one_line(capsys)
    for wrong, word in ((_softmax(scores), "sqrt(d_k) = 2"), (_softmax(scores / 4), "not by d_k"),
                        (_softmax(scores / 2, axis=0), "each row"), (right.T, "transpose"),
                        (scores / 2, "softmax"), (np.full((3, 3), 1 / 3), "score_ij")):
        assert nb11.check_attention_weights(wrong) is False
        assert word in _one_line(capsys)
    for bad in ("x", [[1, 2], [3, 4]], np.full((3, 3), np.nan)):
        assert nb11.check_attention_weights(bad) is False
        assert "3x3" in _one_line(capsys)
    assert nb11.check_attention_weights(None) is False
    assert "not answered" in _one_line(capsys)


def test_attention_weights_agree_with_keras():
    keras = pytest.importorskip("keras")
    q = np.array(nb11.THREE_TOKENS["Q"], np.float32)[None, :, None, :]  # (B, T, heads, d_k)
    k = np.array(nb11.THREE_TOKENS["K"], np.float32)[None, :, None, :]
    eye = np.eye(3, dtype=np.float32)[None, :, None, :]  # values = one-hot: the output is the weights
    out = keras.ops.convert_to_numpy(keras.ops.dot_product_attention(q, k, eye))[0, :, 0, :]
    assert np.allclose(out, nb11.attention_weights_answer(), atol=1e-6)


def _keras_vit(image, patch, width, depth, heads, mlp, classes):
    """An independent Keras build of the exercise's ViT, to count its parameters."""
    import keras
    from keras import layers

    class Tokens(layers.Layer):
        def build(self, input_shape):
            self.cls = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros")
            self.pos = self.add_weight(shape=(1, input_shape[1] + 1, input_shape[-1]), initializer="zeros")

        def call(self, x):
            cls = keras.ops.broadcast_to(self.cls, (keras.ops.shape(x)[0], 1, x.shape[-1]))
            return keras.ops.concatenate([cls, x], axis=1) + self.pos

    inputs = keras.Input(image)
    x = layers.Conv2D(width, patch, strides=patch)(inputs)
    x = layers.Reshape((-1, width))(x)
    x = Tokens()(x)
    for _ in range(depth):
        h = layers.LayerNormalization()(x)
        x = x + layers.MultiHeadAttention(heads, width // heads)(h, h)
        h = layers.LayerNormalization()(x)
        x = x + layers.Dense(width)(layers.Dense(mlp, activation="gelu")(h))
    x = layers.LayerNormalization()(x)
    outputs = layers.Dense(classes)(x[:, 0])
    return keras.Model(inputs, outputs)


def test_vit_params(capsys):
    parts = nb11.vit_param_count(**nb11.VIT_CONFIG)
    total = parts["total"]
    assert total == sum(v for k, v in parts.items() if k != "total")
    assert nb11.check_vit_params(total) is True
    assert f"{total:,}" in _one_line(capsys)
    assert nb11.check_vit_params(np.int64(total)) is True
    _one_line(capsys)
    d = nb11.VIT_CONFIG["width"]
    for wrong, word in ((total - d, "class token"), (total - parts["position_embedding"], "position"),
                        (total - nb11.VIT_CONFIG["depth"] * 4 * d, "biases"), (total - 2 * d * 13, "LayerNorms"),
                        (total + 1, "add patch embedding")):
        assert nb11.check_vit_params(wrong) is False
        assert word in _one_line(capsys)
    assert nb11.check_vit_params("many") is False
    assert "integer" in _one_line(capsys)
    assert nb11.check_vit_params(None) is False
    assert "not answered" in _one_line(capsys)


@pytest.mark.parametrize("config", [nb11.VIT_CONFIG,
                                    dict(image=(28, 28, 1), patch=7, width=32, depth=2, heads=4, mlp=64, classes=10)])
def test_vit_param_count_agrees_with_keras(config):
    pytest.importorskip("keras")
    assert _keras_vit(**config).count_params() == nb11.vit_param_count(**config)["total"]


def test_vit_param_count_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divisible"):
        nb11.vit_param_count((30, 30, 1), 4, 64, 1, 4, 128, 10)
    with pytest.raises(ValueError, match="heads"):
        nb11.vit_param_count((28, 28, 1), 4, 64, 1, 3, 128, 10)


def test_attention_cost(capsys):
    n, n2, growth = nb11.attention_cost_answer()
    q = nb11.COST_QUESTION
    assert n == (q["image"] // q["patch"]) ** 2 and n2 == n * n and growth == 16
    assert nb11.check_attention_cost((n, n2, growth)) is True
    assert "correct" in _one_line(capsys)
    assert nb11.check_attention_cost([float(n), float(n2), 16.0]) is True
    _one_line(capsys)
    for wrong, word in (((14, 196, 16), "both sides"), ((n + 1, (n + 1) ** 2, 16), "class token"),
                        ((n, n, 16), "n x n"), ((n, n2, 4), "4 times"), ((n, n2, 2), "patch 8")):
        assert nb11.check_attention_cost(wrong) is False
        assert word in _one_line(capsys)
    assert nb11.check_attention_cost((1, 2)) is False
    assert "three numbers" in _one_line(capsys)
    assert nb11.check_attention_cost(None) is False
    assert "not answered" in _one_line(capsys)
    assert math.isclose(n, 196)
