"""course_utils.classifier: the digit classifier contract, input checks, train-if-missing and caching.

Every test works in a temporary course folder (``COURSE_ROOT`` is monkeypatched), so the
real data and artifacts are never touched. Test mode (conftest) makes ``load_mnist`` return
the offline digits (MNIST's test split, 8,000 / 2,000).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import course_utils
from course_utils import classifier, data, paths


@pytest.fixture
def course_root(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def small_model():
    """An untrained quick classifier: enough to check shapes and the contract."""
    import keras

    keras.utils.set_random_seed(0)
    return classifier.build_quick_classifier()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train once through load_classifier in a fresh course folder; reused by several tests."""
    root = tmp_path_factory.mktemp("course")
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSE_ROOT", str(root))
    try:
        model = course_utils.load_classifier(verbose=False)
    finally:
        mp.undo()
    return root, model


# -- input convention ------------------------------------------------------------------------
def test_prepare_images_uint8_and_float():
    rng = np.random.default_rng(0)
    x8 = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    out = classifier.prepare_images(x8)
    assert out.shape == (5, 28, 28, 1) and out.dtype == np.float32
    assert np.allclose(out[..., 0], x8 / 255.0)
    xf = rng.random((3, 28, 28, 1))
    assert np.allclose(classifier.prepare_images(xf), xf)
    assert classifier.prepare_images(np.zeros((0, 28, 28), np.uint8)).shape == (0, 28, 28, 1)


@settings(max_examples=20, deadline=None)
@given(arrays(np.uint8, (2, 28, 28, 1)))
def test_prepare_images_roundtrip(x):
    assert np.array_equal(np.round(classifier.prepare_images(x) * 255).astype(np.uint8), x)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((4, 32, 32), np.uint8), "shape"),
        (np.zeros((4, 28, 28, 3), np.uint8), "shape"),
        (np.zeros((28, 28), np.uint8), "shape"),
        (np.full((2, 28, 28), 255.0), r"\[0, 1\]"),
        (np.full((2, 28, 28), -0.5), r"\[0, 1\]"),
        (np.full((2, 28, 28), np.nan), "NaN"),
        (np.full((2, 28, 28), 300, np.int32), "0-255"),
        (np.zeros((2, 28, 28), bool), "dtype"),
    ],
)
def test_prepare_images_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        classifier.prepare_images(bad)


def test_path_must_be_keras(course_root):
    with pytest.raises(ValueError, match=r"\.keras"):
        classifier.load_classifier(course_root / "model.h5", train_if_missing=False)
    with pytest.raises(ValueError, match="path"):
        classifier.load_classifier(42)


# -- contract ---------------------------------------------------------------------------------
def test_contract(small_model):
    x = np.random.default_rng(1).random((7, 28, 28, 1)).astype(np.float32)
    probs = small_model.predict(x, verbose=0)
    assert probs.shape == (7, 10)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5) and np.all(probs >= 0)
    assert small_model.layers[-2].name != "features"  # dropout sits between; find it by name
    dense = [layer for layer in small_model.layers if layer.__class__.__name__ == "Dense"]
    assert dense[-2].name == classifier.FEATURE_LAYER
    feats = classifier.feature_model(small_model).predict(x, verbose=0)
    assert feats.shape == (7, small_model.get_layer("features").units)


def test_predict_labels(small_model):
    rng = np.random.default_rng(2)
    x8 = rng.integers(0, 256, size=(9, 28, 28), dtype=np.uint8)
    labels = classifier.predict_labels(small_model, x8, batch_size=4)
    assert labels.shape == (9,) and labels.dtype == np.int64
    assert labels.min() >= 0 and labels.max() <= 9
    expected = np.argmax(small_model.predict(x8[..., None] / 255.0, verbose=0), axis=1)
    assert np.array_equal(labels, expected)
    assert np.array_equal(classifier.predict_labels(small_model, x8[..., None] / 255.0), labels)
    assert classifier.predict_labels(small_model, np.zeros((0, 28, 28), np.uint8)).shape == (0,)


@pytest.mark.parametrize("bad_batch", [0, -3, 2.5, True, "8"])
def test_predict_labels_rejects_batch_size(small_model, bad_batch):
    with pytest.raises(ValueError, match="batch_size"):
        classifier.predict_labels(small_model, np.zeros((2, 28, 28), np.uint8), batch_size=bad_batch)


def test_predict_labels_and_features_reject_non_models():
    with pytest.raises(ValueError, match="keras.Model"):
        classifier.predict_labels("model", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="keras.Model"):
        classifier.feature_model(None)


def test_feature_model_needs_the_layer():
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, layers.Dense(10, name="out")(layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="features"):
        classifier.feature_model(model)


# -- loading, training when missing, caching ------------------------------------------------------
def test_missing_without_training_raises(course_root):
    with pytest.raises(FileNotFoundError, match="notebook 02"):
        classifier.load_classifier(train_if_missing=False)
    assert not list((course_root / "data" / "artifacts").glob("*.keras"))


def test_train_if_missing_is_accurate_and_cached(trained):
    root, model = trained
    artifacts = root / "data" / "artifacts"
    assert (artifacts / "digits_classifier_quick.keras").is_file()
    assert not (artifacts / "digits_classifier.keras").exists()  # never the notebook's artifact
    assert classifier.read_info(artifacts / "digits_classifier_quick.keras")["dataset"] == "mnist-t10k"
    (_, _), (x_test, y_test) = data.load_mnist_offline()
    accuracy = np.mean(classifier.predict_labels(model, x_test) == y_test)
    assert accuracy >= 0.95, accuracy
    assert model.get_layer("features") is not None


def test_second_call_loads_the_cache(trained, monkeypatch, capsys):
    root, model = trained
    monkeypatch.setenv("COURSE_ROOT", str(root))

    def no_training(*args, **kwargs):
        raise AssertionError("load_classifier retrained although a cached model exists")

    monkeypatch.setattr(classifier, "train_quick_classifier", no_training)
    again = course_utils.load_classifier()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Loaded" in out and "digits_classifier_quick.keras" in out
    x = data.load_mnist_offline()[1][0][:16]
    assert np.allclose(again.predict(x / 255.0, verbose=0), model.predict(x / 255.0, verbose=0), atol=1e-5)


def test_notebook_artifact_wins_over_the_cache(trained, small_model, monkeypatch, capsys):
    root, _ = trained
    monkeypatch.setenv("COURSE_ROOT", str(root))
    saved = classifier.save_classifier(small_model, dataset="digits-28", mode="test", test_accuracy=0.5)
    try:
        assert saved == paths.artifacts_dir() / "digits_classifier.keras"
        assert classifier.read_info(saved)["feature_layer"] == "features"
        loaded = classifier.load_classifier()
        assert "Loaded the digit classifier digits_classifier.keras" in capsys.readouterr().out
        x = np.random.default_rng(3).random((4, 28, 28, 1)).astype(np.float32)
        assert np.allclose(loaded.predict(x, verbose=0), small_model.predict(x, verbose=0), atol=1e-6)
        assert not list(saved.parent.glob(".digits_classifier-*"))  # no temporary files left
    finally:
        saved.unlink()
        classifier.info_path(saved).unlink()


def test_explicit_path_uses_a_sibling_cache(course_root, small_model, monkeypatch, capsys):
    target = course_root / "models" / "mine.keras"
    calls = []

    def fake_training(*args, **kwargs):
        calls.append(1)
        return small_model, {"dataset": "digits-28", "n_train": 1, "epochs": 1,
                             "test_accuracy": 0.1, "seconds": 0.0}

    monkeypatch.setattr(classifier, "train_quick_classifier", fake_training)
    classifier.load_classifier(target)
    assert "cached as mine_quick.keras" in capsys.readouterr().out
    assert (course_root / "models" / "mine_quick.keras").is_file() and not target.exists()
    classifier.load_classifier(target)
    assert len(calls) == 1
    assert "Loaded the digit classifier mine_quick.keras" in capsys.readouterr().out


def test_a_test_mode_artifact_is_flagged_outside_test_mode(course_root, small_model, monkeypatch, capsys):
    saved = classifier.save_classifier(small_model, dataset="digits-28", mode="test", test_accuracy=0.5)
    classifier.load_classifier(saved)
    assert "trained in test mode" not in capsys.readouterr().out  # conftest runs in test mode
    monkeypatch.setenv("COURSE_MODE", "quick")
    classifier.load_classifier(saved)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "trained in test mode" in out


# -- other input shapes (notebook 02 on CIFAR-10 or the synthetic shapes) --------------------------
@pytest.fixture(scope="module")
def colour_model():
    """A tiny untrained 32x32x3, 3-class classifier, like notebook 02's on the shapes fallback."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(8, activation="relu", name="features")(x)
    outputs = layers.Dense(3, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="colour")


def test_prepare_images_other_shapes():
    x8 = np.random.default_rng(4).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    out = classifier.prepare_images(x8, (32, 32, 3))
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.float32
    assert np.allclose(out, x8 / 255.0)
    # None accepts any size along that axis; one channel may drop its axis.
    assert classifier.prepare_images(np.zeros((2, 9, 13), np.uint8), (None, None, 1)).shape == (2, 9, 13, 1)
    with pytest.raises(ValueError, match=r"\(N, 32, 32, 3\)"):
        classifier.prepare_images(np.zeros((2, 32, 32), np.uint8), (32, 32, 3))


@pytest.mark.parametrize("bad", [(28, 28), (28, 0, 1), (28.0, 28, 1), "28x28", (True, 28, 1)])
def test_prepare_images_rejects_bad_image_shape(bad):
    with pytest.raises(ValueError, match="image_shape"):
        classifier.prepare_images(np.zeros((1, 28, 28, 1), np.uint8), bad)


def test_predict_labels_uses_the_models_input_shape(colour_model):
    x8 = np.random.default_rng(5).integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    labels = classifier.predict_labels(colour_model, x8)
    expected = np.argmax(colour_model.predict(x8 / 255.0, verbose=0), axis=1)
    assert labels.shape == (5,) and np.array_equal(labels, expected)
    assert labels.max() <= 2
    for bad in (np.zeros((2, 28, 28, 1), np.uint8), np.zeros((2, 32, 32), np.uint8),
                np.zeros((2, 32, 32, 1), np.uint8)):
        with pytest.raises(ValueError, match=r"x must have shape \(N, 32, 32, 3\).*'colour'"):
            classifier.predict_labels(colour_model, bad)


def test_predict_labels_digit_model_names_its_shape(small_model):
    with pytest.raises(ValueError, match=r"\(N, 28, 28\) or \(N, 28, 28, 1\).*input shape of model"):
        classifier.predict_labels(small_model, np.zeros((2, 32, 32, 3), np.uint8))


def test_feature_model_of_another_shape(colour_model):
    feats = classifier.feature_model(colour_model).predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0)
    assert feats.shape == (2, 8)


# -- the judge cannot be overwritten by a non-digit run ---------------------------------------------
def test_notebook_artifact_path(course_root):
    artifacts = course_root / "data" / "artifacts"
    assert classifier.notebook_artifact_path("mnist", "quick") == artifacts / "digits_classifier.keras"
    assert classifier.notebook_artifact_path("cifar10", "quick") == artifacts / "cifar10_classifier.keras"
    assert classifier.notebook_artifact_path("fashion_mnist", "test") == artifacts / "fashion_mnist_classifier.keras"
    for mode in ("test", "quick", "full"):
        for dataset in ("fashion_mnist", "cifar10"):
            assert classifier.notebook_artifact_path(dataset, mode).name != classifier.ARTIFACT_NAME
    with pytest.raises(ValueError, match="dataset"):
        classifier.notebook_artifact_path("../judge", "quick")
    with pytest.raises(ValueError, match="mode"):
        classifier.notebook_artifact_path("mnist", "fast")


def test_test_mode_never_replaces_a_quick_model(course_root, small_model):
    saved = classifier.save_classifier(small_model, classifier.notebook_artifact_path("mnist", "quick"),
                                       dataset="digits-28", mode="quick")
    target = classifier.notebook_artifact_path("mnist", "test")
    assert target == saved.with_name("digits_classifier_test.keras")
    # ...but a test-mode model may replace a test-mode one
    other = classifier.save_classifier(small_model, classifier.notebook_artifact_path("cifar10", "quick"),
                                       dataset="digits-28", mode="test")
    assert classifier.notebook_artifact_path("cifar10", "test") == other


def test_the_judge_takes_only_a_digit_classifier(course_root, small_model, colour_model):
    judge = classifier.default_path()
    with pytest.raises(ValueError, match=r"input is \(32, 32, 3\).*notebook_artifact_path"):
        classifier.save_classifier(colour_model, judge, dataset="shapes-32", mode="quick")
    with pytest.raises(ValueError, match="trained on 'fashion_mnist'"):
        classifier.save_classifier(small_model, judge, dataset="fashion_mnist", mode="quick")
    with pytest.raises(ValueError, match="input is"):
        classifier.save_classifier(colour_model, judge.with_name("digits_classifier_test.keras"))
    assert not judge.exists() and not list(judge.parent.glob("*.keras"))
    # the same model under its own name is fine, and says what it takes
    path = classifier.save_classifier(colour_model, classifier.notebook_artifact_path("cifar10", "quick"),
                                      dataset="shapes-32", mode="quick")
    assert "(N, 32, 32, 3)" in classifier.read_info(path)["input_convention"]


def test_loading_a_non_digit_model_does_not_call_it_a_digit_classifier(course_root, colour_model, capsys):
    path = classifier.save_classifier(colour_model, course_root / "cifar10_classifier.keras",
                                      dataset="shapes-32", mode="test")
    classifier.load_classifier(path)
    out = capsys.readouterr().out
    assert out.startswith("Loaded the classifier cifar10_classifier.keras") and "digit" not in out


def test_judge_with_a_separate_logits_layer(course_root):
    """Notebook 02's layout: Dense 'logits' then Activation('softmax') 'probs'; saved and reloaded as the judge."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Flatten()(inputs)
    x = layers.Dense(8, activation="relu", name="features", dtype="float32")(x)
    scores = layers.Dense(10, name="logits", dtype="float32")(x)
    model = keras.Model(inputs, layers.Activation("softmax", name="probs", dtype="float32")(scores))
    saved = classifier.save_classifier(model, dataset="mnist-t10k", mode="quick", test_accuracy=0.1)
    assert saved == classifier.default_path()
    reloaded = course_utils.load_classifier(saved)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    probs = reloaded.predict(x, verbose=0)
    logits = keras.Model(reloaded.input, reloaded.get_layer("logits").output).predict(x, verbose=0)
    assert np.allclose(probs, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match="fashion_mnist"):
        classifier.save_classifier(model, dataset="fashion_mnist", mode="quick")
