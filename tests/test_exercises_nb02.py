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


def _one_line(capsys, word: str) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and word in out, out
    return out


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


def _linear_model(weights_list):
    """Flatten then one bias-free-at-zero Dense(2) per weight matrix, set to those weights."""
    import keras
    from keras import layers

    inputs = keras.Input((2, 1, 1))
    x = layers.Flatten()(inputs)
    dense = []
    for _ in weights_list:
        dense.append(layers.Dense(2))
        x = dense[-1](x)
    model = keras.Model(inputs, x)
    for layer, w in zip(dense, weights_list):
        layer.set_weights([np.asarray(w, "float32"), np.zeros(2, "float32")])
    return model


def _two_pixel_data(n=200):
    rng = np.random.default_rng(0)
    x = rng.random((n, 2, 1, 1)).astype("float32")
    return x, x[:, :, 0, 0].argmax(axis=1)


def test_half_params_evaluates_the_models(capsys):
    eye, swap = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])
    x, y = _two_pixel_data()
    baseline = _linear_model([eye, eye, eye])  # 18 parameters, accuracy 1
    kw = dict(baseline=baseline, x_val=x, y_val=y)
    assert exercises.check_half_params(_linear_model([eye]), **kw) is True  # 6 parameters, accuracy 1
    _one_line(capsys, "correct")
    wrongs = [
        _linear_model([swap]),  # small but always wrong: its accuracy is measured, not reported
        _linear_model([eye, eye]),  # 12 parameters > 18 / 2
        (_linear_model([swap]), 1.0),  # a self-reported accuracy is not accepted
        6,  # a parameter count is not a model
        "model",
    ]
    for wrong in wrongs:
        assert exercises.check_half_params(wrong, **kw) is False
        _one_line(capsys, "not yet")
    # A model that is right on most but not all images: 10 of 200 flipped labels is 5 points.
    y_noisy = y.copy()
    y_noisy[:10] = 1 - y_noisy[:10]
    small_worse = _linear_model([[[1.0, 0.0], [0.0, 1.0]]])
    assert exercises.check_half_params(small_worse, baseline=baseline, x_val=x, y_val=y_noisy) is True
    _one_line(capsys, "correct")  # both are scored on the same (noisy) labels, so they tie
    assert exercises.check_half_params(None, **kw) is False
    _one_line(capsys, "not answered")


def test_half_params_bad_data_is_a_value_error():
    eye = np.eye(2)
    x, y = _two_pixel_data()
    with pytest.raises(ValueError, match="x_val"):
        exercises.check_half_params(_linear_model([eye]), baseline=_linear_model([eye] * 3), x_val=x[:, :, 0, 0], y_val=y)
    with pytest.raises(ValueError, match="baseline"):
        exercises.check_half_params(_linear_model([eye]), baseline=100, x_val=x, y_val=y)


def random_shift_right(images, max_shift, rng):
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    for k, img in enumerate(images):
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        padded = np.pad(img, ((max_shift, max_shift), (max_shift, max_shift), (0, 0)))
        out[k] = padded[max_shift - dy:max_shift - dy + h, max_shift - dx:max_shift - dx + w]
    return out


def test_random_shift(capsys):
    import scipy.ndimage as ndi

    assert exercises.check_random_shift(random_shift_right) is True
    _one_line(capsys, "correct")

    def scipy_shift(images, m, rng):  # an independent implementation: scipy's integer shift, zero fill
        return np.stack([ndi.shift(im, (*rng.integers(-m, m + 1, size=2), 0), order=0, cval=0) for im in images])

    assert exercises.check_random_shift(scipy_shift) is True
    _one_line(capsys, "correct")

    def rolled(images, m, rng):  # wraps around instead of zero fill
        return np.stack([np.roll(im, tuple(rng.integers(-m, m + 1, size=2)), axis=(0, 1)) for im in images])

    def in_place(images, m, rng):
        images[:] = random_shift_right(images, m, rng)
        return images

    def same_shift(images, m, rng):  # one offset for every image
        return np.stack([np.pad(im, ((1, 0), (0, 0), (0, 0)))[:-1] for im in images])

    def too_far(images, m, rng):
        return random_shift_right(images, m + 2, rng)

    def flipped(images, m, rng):  # a flip does not keep a digit's label
        return images[:, :, ::-1]

    def raises(images, m, rng):
        raise RuntimeError("boom")

    for wrong in [rolled, in_place, same_shift, too_far, flipped, raises, lambda i, m, r: i[:, :-1], "shift"]:
        assert exercises.check_random_shift(wrong) is False
        _one_line(capsys, "not yet")
    assert exercises.check_random_shift(None) is False
    _one_line(capsys, "not answered")


def test_half_params_counts_the_weights_a_lambda_reads(capsys):
    """A Lambda layer that calls the baseline owns 0 weights but reads all 18 of them."""
    import keras

    eye = np.eye(2)
    x, y = _two_pixel_data()
    baseline = _linear_model([eye, eye, eye])
    wrapper = keras.Sequential([keras.Input((2, 1, 1)), keras.layers.Lambda(lambda t: baseline(t))])
    assert wrapper.count_params() == 0
    assert nb02._params_used(wrapper, x[:2]) == 18 == nb02._params_used(baseline, x[:2])
    assert exercises.check_half_params(wrapper, baseline=baseline, x_val=x, y_val=y) is False
    assert "more than half" in _one_line(capsys, "not yet")


@pytest.mark.parametrize("checker", [exercises.check_layer_shapes, exercises.check_stable_softmax])
def test_checkers_never_raise_on_junk(checker, capsys):
    for junk in [object(), [], {}, 3.5, b"x"]:
        assert checker(junk) is False
        _one_line(capsys, "not yet")
