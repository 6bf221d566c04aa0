"""The course's digit classifier: load it (or train a small one) and use it to judge images.

Notebook 02 trains a CNN on MNIST-shaped digits and saves it as
``data/artifacts/digits_classifier.keras``; :func:`load_classifier` loads that artifact. When it is missing, it
trains a small CNN in seconds on :func:`course_utils.data.load_mnist` (the offline
digits, MNIST's own test split, when offline or in test mode) and caches it under a separate name
(``digits_classifier_quick.keras``), so the notebook's own artifact is never overwritten.

:func:`load_judge` loads the **course judge** instead: the committed classifier
(``data/weights/judge.weights.h5``) with which notebooks 05, 06 and 09 check that generated
digits look like digits and, through its ``"features"`` layer, compute a Fréchet distance. It is
the same file on every machine, so their scores compare with each other and with the manifests.

Input convention of the digit classifier (the judge): float32 images of shape
``(N, 28, 28, 1)`` with values in ``[0, 1]`` (pixel / 255), white digit on black. Output:
softmax probabilities over the 10 classes, shape ``(N, 10)``. The penultimate layer is a
``Dense`` layer named ``"features"``. :func:`prepare_images` converts uint8 or float images to
this convention; :func:`predict_labels` accepts any classifier and checks the images against
that model's own input shape (e.g. ``(N, 32, 32, 3)`` for a CIFAR-10 model of notebook 02).

Only a digit classifier may be saved as the judge: :func:`notebook_artifact_path` gives every
other dataset of notebook 02 its own file name, and :func:`save_classifier` refuses to write
``digits_classifier.keras`` for a model that breaks the contract or was trained on other data.

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
#: Datasets whose model notebook 02 may save as the judge: MNIST, its offline stand-in
#: (``mnist-t10k``, MNIST's test digits) and the last-resort ``digits-28``.
DIGIT_DATASETS = ("mnist", "mnist-t10k", "digits-28")
FEATURE_LAYER = "features"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
INPUT_CONVENTION = (
    "float32 images (N, 28, 28, 1) in [0, 1] (pixel / 255), white digit on black; "
    "output: softmax probabilities (N, 10); penultimate Dense layer 'features'"
)

# The quick recipe: at most this many training images, and about this many image passes
# in total (3 epochs of the 8,000 offline MNIST digits; 2 epochs of 12 000 MNIST images).
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


def notebook_artifact_path(dataset: str, mode: str) -> Path:
    """Where notebook 02 saves the classifier it trained on ``dataset`` in run mode ``mode``.

    ``dataset`` is notebook 02's ``DATASET`` (``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``,
    ...). Only ``"mnist"`` gives the judge's path, :func:`default_path`; any other dataset gets
    ``<dataset>_classifier.keras`` in the same folder, so it can never replace the judge. In
    ``test`` mode, when the file there was saved by a ``quick`` or ``full`` run, the result is
    ``<stem>_test.keras`` instead: a 1-epoch model never replaces a better one.
    """
    if not isinstance(dataset, str) or not dataset.isidentifier():
        raise ValueError(f"dataset must be a dataset name such as 'mnist' or 'cifar10', got {dataset!r}")
    if not isinstance(mode, str) or mode not in ("test", "quick", "full"):
        raise ValueError(f"mode must be 'test', 'quick' or 'full', got {mode!r}")
    target = default_path() if dataset == "mnist" else paths.artifacts_dir() / f"{dataset}_classifier.keras"
    if mode == "test" and read_info(target).get("mode") in ("quick", "full"):
        target = target.with_name(f"{target.stem}_test.keras")
    return target


def _is_judge_path(path: Path) -> bool:
    return path.name == ARTIFACT_NAME or path.name == f"{Path(ARTIFACT_NAME).stem}_test.keras"


def _check_judge(model: "keras.Model", info: dict) -> None:
    """ValueError unless ``model`` (trained on ``info['dataset']``) meets the judge's contract."""
    shape = _model_image_shape(model)
    out = tuple(model.outputs[0].shape[1:])
    problems = []
    if shape != IMAGE_SHAPE:
        problems.append(f"its input is {shape}, expected {IMAGE_SHAPE}")
    if out != (NUM_CLASSES,):
        problems.append(f"its output is {out}, expected ({NUM_CLASSES},)")
    if FEATURE_LAYER not in [layer.name for layer in model.layers]:
        problems.append(f"it has no layer named {FEATURE_LAYER!r}")
    if "dataset" in info and info["dataset"] not in DIGIT_DATASETS:
        problems.append(f"it was trained on {info['dataset']!r}, expected one of {DIGIT_DATASETS}")
    if problems:
        raise ValueError(
            f"model cannot be saved as the digit classifier {ARTIFACT_NAME} that notebooks 05 and "
            f"06 load: {'; '.join(problems)}. Save it under another name "
            "(see notebook_artifact_path)."
        )


def _check_path(path: str | os.PathLike | None) -> Path:
    if path is None:
        return default_path()
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a str or os.PathLike ending in .keras, got {type(path).__name__}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras (the Keras 3 format), got {str(path)!r}")
    return path


def _check_image_shape(image_shape: Any) -> tuple:
    ok = (
        isinstance(image_shape, (tuple, list))
        and len(image_shape) == 3
        and all(d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
                for d in image_shape)
    )
    if not ok:
        raise ValueError(
            f"image_shape must be (height, width, channels) with positive ints (or None for any "
            f"size), got {image_shape!r}"
        )
    return tuple(None if d is None else int(d) for d in image_shape)


def _shape_text(image_shape: tuple) -> str:
    dims = ", ".join("any" if d is None else str(d) for d in image_shape)
    text = f"(N, {dims})"
    if image_shape[-1] == 1:
        text = f"(N, {', '.join('any' if d is None else str(d) for d in image_shape[:2])}) or {text}"
    return text


def prepare_images(x: Any, image_shape: tuple = IMAGE_SHAPE, *, what: str = "") -> np.ndarray:
    """Convert images to a classifier's input: float32 ``(N, *image_shape)`` in [0, 1].

    ``image_shape`` is ``(height, width, channels)``, by default the digit classifier's
    ``(28, 28, 1)``; ``None`` in it accepts any size along that axis. One-channel images may
    also come as ``(N, H, W)``. Accepts unsigned integers 0-255 (divided by 255) or floats
    already in [0, 1]. Floats outside [0, 1] (beyond a 1e-3 tolerance, then clipped), NaNs,
    other shapes and other dtypes raise ``ValueError``; ``what`` is added to the shape message
    (e.g. "the input shape of model 'lenet'").
    """
    image_shape = _check_image_shape(image_shape)
    if hasattr(x, "numpy"):
        x = x.numpy()
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim == 3 and image_shape[-1] == 1:
        x = x[..., None]
    if x.ndim != 4 or any(want is not None and got != want for got, want in zip(x.shape[1:], image_shape)):
        suffix = f" ({what})" if what else ""
        raise ValueError(f"x must have shape {_shape_text(image_shape)}{suffix}, got {tuple(x.shape)}")
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


def _model_image_shape(model: "keras.Model") -> tuple:
    """The image shape ``(H, W, C)`` a model takes (``None`` where any size goes)."""
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in model.inputs]
        raise ValueError(f"model must take one batch of images (N, H, W, C), its inputs are {shapes}")
    return tuple(None if d is None else int(d) for d in model.inputs[0].shape[1:])


def feature_model(model: "keras.Model") -> "keras.Model":
    """A model mapping the classifier's input to its ``"features"`` layer output.

    Input: the classifier's input (for the judge float32 ``(N, 28, 28, 1)`` in [0, 1]);
    output: ``(N, D)`` features (the activations of the penultimate Dense layer), as used for
    the Fréchet distance; float32 when that layer computes in float32 (notebook 02 sets
    ``dtype="float32"`` on it, so mixed precision does not change them).
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
    """Predicted class (the argmax of ``model``'s output) for each image: int64, shape ``(N,)``.

    ``x``: images of ``model``'s own input shape, e.g. ``(N, 28, 28)`` or ``(N, 28, 28, 1)``
    for the digit classifier, ``(N, 32, 32, 3)`` for a CIFAR-10 model; uint8 0-255 or float in
    [0, 1] (see :func:`prepare_images`). Other shapes raise ``ValueError`` naming the model's
    input shape. ``batch_size``: images per forward pass (a positive int).
    """
    _check_model(model)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    shape = _model_image_shape(model)
    x = prepare_images(x, shape, what=f"the input shape of model {model.name!r}")
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
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probs")(x)  # float32 under mixed precision
    return keras.Model(inputs, outputs, name="digits_classifier_quick")


def train_quick_classifier(seed: int = 0, *, verbose: bool = False) -> tuple["keras.Model", dict]:
    """Train :func:`build_quick_classifier` on :func:`course_utils.data.load_mnist`.

    Uses at most 12 000 training images and about 20 000 image passes (3 epochs of the
    8,000 offline digits, 10-20 s on two CPU cores). Returns the model and an info dict with
    ``dataset``, ``n_train``, ``epochs``, ``test_accuracy`` (on the loader's test split) and
    ``seconds``.
    """
    import keras

    from . import data

    start = time.perf_counter()
    loaded = data.load_mnist(verbose=verbose)
    (x_train, y_train), (x_test, y_test) = loaded
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
        "dataset": loaded.source,
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
    with the model's input convention in a JSON file beside it (see :func:`read_info`). The
    judge's file names (``digits_classifier.keras`` and its ``_test`` variant) take only a
    model that meets the digit contract, trained on ``DIGIT_DATASETS`` when ``info`` names
    its dataset; anything else raises ``ValueError`` and nothing is written.
    """
    _check_model(model)
    path = _check_path(path)
    if _is_judge_path(path):
        _check_judge(model, info)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    shape = _model_image_shape(model)
    convention = INPUT_CONVENTION if shape == IMAGE_SHAPE else (
        f"float32 images (N, {', '.join(str(d) for d in shape)}) in [0, 1] (pixel / 255); "
        f"output: softmax probabilities (N, {', '.join(str(d) for d in model.outputs[0].shape[1:])})"
    )
    meta = {"input_convention": convention, "feature_layer": FEATURE_LAYER, **info}
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
                dataset = read_info(candidate).get("dataset", "mnist")
                kind = "digit classifier" if dataset in DIGIT_DATASETS else "classifier"
                print(f"Loaded the {kind} {candidate.name}{_describe(candidate)}.")
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


def load_judge(*, verbose: bool = True) -> "keras.Model":
    """The course judge: the committed digit classifier that scores every generative model.

    ``data/weights/judge.weights.h5`` (checksum verified against ``judge.json``), made by
    ``python -m course_utils.pretrain judge``: :func:`build_quick_classifier` trained on the
    offline digits' 8,000 training images. Unlike :func:`load_classifier` it is the same file on
    every machine, so Frechet distances and label accuracies are comparable between notebooks,
    runs and the course-weight manifests. Same input convention (float32 ``(N, 28, 28, 1)`` in
    [0, 1]) and ``"features"`` layer. The digits it has never seen are the offline test split;
    :mod:`course_utils.recipes.judge` scores samples against them.
    """
    from . import weights

    model = weights.load_weights(build_quick_classifier(), "judge")
    if verbose:
        manifest = weights.read_manifest("judge")
        held = manifest.get("heldout", {})
        print(f"Loaded the course judge {weights.weights_path('judge').name} ({manifest['steps']:,} steps on "
              f"{manifest['data']['n_train']:,} offline digits; test accuracy {held.get('test_accuracy')} "
              f"on {held.get('n_test')} held-out digits).")
    return model
