"""The notebook 02 exercise checkers: right answers pass, wrong ones fail, None is 'not answered'."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax as scipy_softmax

from course_utils import exercises
from course_utils.exercises import nb02

RIGHT_SHAPES = [(28, 28, 8), (14, 14, 8), (14, 14, 16), (7, 7, 16), (4, 4, 32), (512,), (10,)]


def stable_softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def naive_softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)


def _one_line(capsys, word: str) -> None:
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and word in out, out


def test_shapes_answer_matches_keras():
    """The checker's answer is what Keras computes for the network the notebook describes."""
    import keras
    from keras import layers

    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 5, padding="valid", name="conv_a")(inputs)
    x = layers.MaxPooling2D(2, name="pool_a")(x)
    x = layers.Conv2D(16, 3, padding="same", name="conv_b")(x)
    x = layers.MaxPooling2D(2, name="pool_b")(x)
    x = layers.Conv2D(32, 3, strides=2, padding="same", name="conv_c")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(10, name="dense")(x)
    model = keras.Model(inputs, x)
    keras_shapes = [tuple(model.get_layer(n).output.shape[1:]) for n in nb02.SHAPES_LAYERS]
    assert keras_shapes == RIGHT_SHAPES == [tuple(s) for s in nb02.SHAPES_ANSWER]


def test_layer_shapes(capsys):
    assert exercises.check_layer_shapes(RIGHT_SHAPES) is True
    _one_line(capsys, "correct")
    as_dict = dict(zip(nb02.SHAPES_LAYERS, RIGHT_SHAPES))
    assert exercises.check_layer_shapes(as_dict) is True
    _one_line(capsys, "correct")
    with_batch = [(None, *s) for s in RIGHT_SHAPES]
    assert exercises.check_layer_shapes(with_batch) is True
    _one_line(capsys, "correct")
    wrongs = [
        RIGHT_SHAPES[:-1],
        [(32, 32, 8)] + RIGHT_SHAPES[1:],  # conv_a as if padding were "same"
        RIGHT_SHAPES[:4] + [(3, 3, 32)] + RIGHT_SHAPES[5:],  # floor instead of ceil for "same"
        RIGHT_SHAPES[:5] + [(16 * 32,), (1, 10)],
        {"conv_a": (28, 28, 8)},
        "28x28x8",
        42,
    ]
    for wrong in wrongs:
        assert exercises.check_layer_shapes(wrong) is False
        _one_line(capsys, "not yet")
    assert exercises.check_layer_shapes(None) is False
    _one_line(capsys, "not answered")


def test_stable_softmax(capsys):
    assert exercises.check_stable_softmax(stable_softmax) is True
    _one_line(capsys, "correct")
    assert exercises.check_stable_softmax(lambda z: scipy_softmax(z, axis=-1)) is True
    _one_line(capsys, "correct")

    def raises(z):
        raise RuntimeError("boom")

    wrongs = [
        naive_softmax,  # overflows to nan for logits near 1000
        lambda z: scipy_softmax(z, axis=0),  # wrong axis
        lambda z: stable_softmax(z)[:, :1],  # wrong shape
        lambda z: np.exp(z - z.max(axis=-1, keepdims=True)),  # not normalised
        raises,
        "softmax",
    ]
    for wrong in wrongs:
        assert exercises.check_stable_softmax(wrong) is False
        _one_line(capsys, "not yet")
    assert exercises.check_stable_softmax(None) is False
    _one_line(capsys, "not answered")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=12))
def test_reference_softmax_is_stable(row):
    """The checker's reference agrees with scipy and is finite for any finite logits."""
    z = np.array([row])
    ref = nb02._reference_softmax(z)
    assert np.all(np.isfinite(ref))
    assert np.allclose(ref.sum(axis=-1), 1.0)
    assert np.allclose(ref, scipy_softmax(z, axis=-1), atol=1e-12)


class _FakeModel:
    def __init__(self, n: int):
        self.n = n

    def count_params(self) -> int:
        return self.n


def test_half_params(capsys):
    kw = dict(baseline_params=100_000, baseline_accuracy=0.985)
    for right in [(_FakeModel(50_000), 0.98), (40_000, 0.99), [_FakeModel(10), 0.9801]]:
        assert exercises.check_half_params(right, **kw) is True
        _one_line(capsys, "correct")
    wrongs = [
        (_FakeModel(50_001), 0.99),  # too many parameters
        (40_000, 0.979),  # more than 0.5 points worse
        (40_000, 98.5),  # a percentage, not a fraction
        (40_000, "high"),
        ("model", 0.99),
        _FakeModel(40_000),  # no accuracy
        (1, 2, 3),
    ]
    for wrong in wrongs:
        assert exercises.check_half_params(wrong, **kw) is False
        _one_line(capsys, "not yet")
    assert exercises.check_half_params(None, **kw) is False
    _one_line(capsys, "not answered")
    assert exercises.check_half_params((None, None), **kw) is False
    _one_line(capsys, "not answered")


def test_half_params_counts_a_keras_model(capsys):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    outputs = layers.Dense(10)(layers.Flatten()(inputs))  # 7850 parameters
    model = keras.Model(inputs, outputs)
    assert exercises.check_half_params((model, 0.97), baseline_params=15_700, baseline_accuracy=0.97)
    _one_line(capsys, "correct")
    assert not exercises.check_half_params((model, 0.97), baseline_params=15_699, baseline_accuracy=0.97)
    _one_line(capsys, "not yet")


@pytest.mark.parametrize("checker", [exercises.check_layer_shapes, exercises.check_stable_softmax])
def test_checkers_never_raise_on_junk(checker, capsys):
    for junk in [object(), [], {}, 3.5, b"x"]:
        assert checker(junk) is False
        _one_line(capsys, "not yet")
