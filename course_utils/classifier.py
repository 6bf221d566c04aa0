"""The course's digit classifier: load it (or train a small one) and use it to judge images.

Notebook 02 trains a CNN on MNIST-shaped digits and saves it as
``data/artifacts/digits_classifier.keras``; notebooks 05 and 06 reuse it to check that
generated digits look like digits and, through its ``"features"`` layer, to compute a
Fréchet distance. :func:`load_classifier` loads that artifact. When it is missing, it
trains a small CNN in seconds on :func:`course_utils.data.load_mnist` (the offline
digits-28 fallback when offline or in test mode) and caches it under a separate name
(``digits_classifier_quick.keras``), so the notebook's own artifact is never overwritten.

Input convention of every model here: float32 images of shape ``(N, 28, 28, 1)`` with
values in ``[0, 1]`` (pixel / 255), white digit on black. Output: softmax probabilities
over the 10 classes, shape ``(N, 10)``. The penultimate layer is a ``Dense`` layer named
``"features"``. :func:`prepare_images` converts uint8 or float images to this convention.

TensorFlow/Keras is imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import paths

if TYPE_CHECKING:  # pragma: no cover
    import keras

ARTIFACT_NAME = "digits_classifier.keras"
FEATURE_LAYER = "features"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
INPUT_CONVENTION = (
    "float32 images (N, 28, 28, 1) in [0, 1] (pixel / 255), white digit on black; "
    "output: softmax probabilities (N, 10); penultimate Dense layer 'features'"
)

# The quick recipe: at most this many training images, and about this many image passes
# in total (15 epochs of the 1347 digits-28 images; 2 epochs of 12 000 MNIST images).
QUICK_MAX_TRAIN = 12_000
QUICK_SAMPLE_PASSES = 20_000
QUICK_MAX_EPOCHS = 15
QUICK_BATCH = 32


def default_path() -> Path:
    """Where notebook 02 saves the classifier: ``artifacts_dir() / "digits_classifier.keras"``."""
    return paths.artifacts_dir() / ARTIFACT_NAME


def quick_path(path: str | os.PathLike | None = None) -> Path:
    """Where :func:`load_classifier` caches the classifier it trains when ``path`` is missing.

    ``digits_classifier.keras`` -> ``digits_classifier_quick.keras`` in the same folder.
    """
    path = _check_path(path)
    return path.with_name(f"{path.stem}_quick.keras")


def _check_path(path: str | os.PathLike | None) -> Path:
    if path is None:
        return default_path()
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a str or os.PathLike ending in .keras, got {type(path).__name__}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras (the Keras 3 format), got {str(path)!r}")
    return path


def prepare_images(x: Any) -> np.ndarray:
    """Convert digit images to the classifier's input: float32 ``(N, 28, 28, 1)`` in [0, 1].

    Accepts ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` arrays, either unsigned integers 0-255
    (divided by 255) or floats already in [0, 1]. Floats outside [0, 1] (beyond a 1e-3
    tolerance, then clipped), NaNs, other shapes and other dtypes raise ``ValueError``.
    """
    if hasattr(x, "numpy"):
        x = x.numpy()
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"x must have shape (N, 28, 28) or (N, 28, 28, 1), got {tuple(x.shape)}"
        )
    if x.dtype == np.uint8 or (np.issubdtype(x.dtype, np.integer) and x.dtype != np.bool_):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(
                f"x: integer images must hold values 0-255, got range [{x.min()}, {x.max()}]"
            )
        return (x.astype(np.float32) / 255.0)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be uint8 (0-255) or float ([0, 1]) images, got dtype {x.dtype}")
    x = x.astype(np.float32)
    if x.size:
        if not np.all(np.isfinite(x)):
            raise ValueError("x contains NaN or infinite values")
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            hint = " (0-255 floats? divide by 255)" if hi > 1.5 else ""
            raise ValueError(f"x: float images must be in [0, 1], got range [{lo:.3g}, {hi:.3g}]{hint}")
        x = np.clip(x, 0.0, 1.0)
    return x


def _check_model(model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")


def feature_model(model: "keras.Model") -> "keras.Model":
    """A model mapping the classifier's input to its ``"features"`` layer output.

    Input: float32 ``(N, 28, 28, 1)`` in [0, 1]; output: ``(N, D)`` float32 features (the
    activations of the penultimate Dense layer), as used for the Fréchet distance.
    """
    import keras

    _check_model(model)
    try:
        layer = model.get_layer(FEATURE_LAYER)
    except ValueError:
        names = [layer.name for layer in model.layers]
        raise ValueError(
            f"model has no layer named {FEATURE_LAYER!r}; its layers are {names}"
        ) from None
    return keras.Model(model.inputs, layer.output, name=f"{model.name}_features")


def predict_labels(model: "keras.Model", x: Any, batch_size: int = 256) -> np.ndarray:
    """Predicted class (0-9) for each image, as an int64 array of shape ``(N,)``.

    ``x``: ``(N, 28, 28)`` or ``(N, 28, 28, 1)``, uint8 0-255 or float in [0, 1]; see
    :func:`prepare_images`. ``batch_size``: images per forward pass (a positive int).
    """
    _check_model(model)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    x = prepare_images(x)
    if len(x) == 0:
        return np.zeros((0,), dtype=np.int64)
    probs = model.predict(x, batch_size=int(batch_size), verbose=0)
    return np.argmax(probs, axis=-1).astype(np.int64)


def build_quick_classifier() -> "keras.Model":
    """The small CNN :func:`load_classifier` trains when no saved classifier exists.

    Conv(16, 3x3) - MaxPool - Conv(32, 3x3) - MaxPool - Dropout - Dense(64, "features") -
    Dropout - Dense(10, softmax): 56 714 parameters, input ``(28, 28, 1)`` in [0, 1].
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Conv2D(16, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Dense(64, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="digits_classifier_quick")


def train_quick_classifier(seed: int = 0, *, verbose: bool = False) -> tuple["keras.Model", dict]:
    """Train :func:`build_quick_classifier` on :func:`course_utils.data.load_mnist`.

    Uses at most 12 000 training images and about 20 000 image passes (15 epochs on the
    digits-28 fallback, 10-20 s on two CPU cores). Returns the model and an info dict with
    ``dataset``, ``n_train``, ``epochs``, ``test_accuracy`` (on the loader's test split) and
    ``seconds``.
    """
    import keras

    from . import data

    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = data.load_mnist(verbose=verbose)
    fallback = len(x_train) + len(x_test) <= 1797  # the digits-28 fallback: 1347 + 450 images
    x_train, x_test = prepare_images(x_train), prepare_images(x_test)
    y_train, y_test = np.asarray(y_train, np.int64), np.asarray(y_test, np.int64)
    rng = np.random.default_rng(seed)
    if len(x_train) > QUICK_MAX_TRAIN:
        keep = rng.choice(len(x_train), QUICK_MAX_TRAIN, replace=False)
        x_train, y_train = x_train[keep], y_train[keep]
    epochs = int(min(QUICK_MAX_EPOCHS, max(2, math.ceil(QUICK_SAMPLE_PASSES / len(x_train)))))

    keras.utils.set_random_seed(seed)
    model = build_quick_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=QUICK_BATCH, epochs=epochs, verbose=0)
    _, acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    info = {
        "dataset": "digits-28" if fallback else "mnist",
        "n_train": int(len(x_train)),
        "epochs": epochs,
        "test_accuracy": round(float(acc), 4),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return model, info


def info_path(path: str | os.PathLike) -> Path:
    """The JSON file saved beside a classifier (``x.keras`` -> ``x.json``)."""
    return Path(path).with_suffix(".json")


def read_info(path: str | os.PathLike) -> dict:
    """The description saved beside a classifier, ``{}`` when there is none or it is unreadable."""
    try:
        return json.loads(info_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_classifier(model: "keras.Model", path: str | os.PathLike | None = None, **info: Any) -> Path:
    """Save ``model`` atomically to ``path`` (default: the notebook-02 artifact) and return it.

    Writes to a temporary file in the same folder, then renames it, so a reader never sees a
    half-written model. ``info`` (e.g. ``dataset``, ``test_accuracy``, ``mode``) is stored
    with the input convention in a JSON file beside the model (see :func:`read_info`).
    """
    _check_model(model)
    path = _check_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    meta = {"input_convention": INPUT_CONVENTION, "feature_layer": FEATURE_LAYER, **info}
    from .report import to_jsonable

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(to_jsonable(meta, name="info"), fh, indent=1)
    os.replace(tmp, info_path(path))
    return path


def _describe(path: Path) -> str:
    info = read_info(path)
    parts = [f"{k}={info[k]}" for k in ("dataset", "mode", "test_accuracy") if k in info]
    text = f" ({', '.join(parts)})" if parts else ""
    if info.get("mode") == "test":
        from .runtime import is_test_mode

        if not is_test_mode():
            text += "; it was trained in test mode (1 epoch): run notebook 02 in quick mode for a better one"
    return text


def load_classifier(
    path: str | os.PathLike | None = None, *, train_if_missing: bool = True, verbose: bool = True
) -> "keras.Model":
    """Load the digit classifier, training a small one first when none is saved.

    Looks for ``path`` (default ``artifacts_dir() / "digits_classifier.keras"``, the model
    notebook 02 saves), then for its quick cache ``<stem>_quick.keras`` beside it. When
    neither exists and ``train_if_missing`` is true, trains :func:`build_quick_classifier`
    on :func:`course_utils.data.load_mnist` (10-20 s on two CPU cores for the offline
    digits) and saves it to the quick cache, never to ``path``; later calls load that cache.
    Otherwise raises ``FileNotFoundError``. Prints one line saying what was loaded or
    trained when ``verbose``.

    Returns a ``keras.Model``: float32 ``(N, 28, 28, 1)`` in [0, 1] -> softmax ``(N, 10)``,
    with the penultimate Dense layer named ``"features"`` (see :func:`feature_model`).
    """
    import keras

    path = _check_path(path)
    cache = quick_path(path)
    for candidate in (path, cache):
        if candidate.is_file():
            model = keras.models.load_model(candidate, compile=False)
            if verbose:
                print(f"Loaded the digit classifier {candidate.name}{_describe(candidate)}.")
            return model
    if not train_if_missing:
        raise FileNotFoundError(
            f"no classifier at {path} or {cache}; run notebook 02 (02_cnn_classification) "
            "or call load_classifier(train_if_missing=True)"
        )
    model, info = train_quick_classifier(verbose=False)
    save_classifier(model, cache, mode="quick-classifier", **info)
    if verbose:
        print(
            f"No {path.name} found: trained a small classifier on {info['dataset']} in "
            f"{info['seconds']:.0f} s (test accuracy {info['test_accuracy']:.3f}), "
            f"cached as {cache.name}."
        )
    return model
