"""The course judge: one committed digit classifier that scores every generative model.

Notebooks 05, 06 and 09 and the generative course weights are all scored by the same network
on the same held-out digits, so their numbers can be compared with each other and with the
manifests in ``data/weights``, on any machine. The judge is :func:`course_utils.classifier.
build_quick_classifier` (two conv layers, a 64-unit ReLU layer named ``"features"``, softmax)
trained by ``python -m course_utils.pretrain judge --steps N`` on the offline digits' training
split (8,000 of MNIST's test digits, :func:`course_utils.data.load_mnist_offline`).

**Held-out digits.** The reference and the floor always come from the other 2,000 offline digits,
which neither the judge nor any course weights trained on (the course weights train on
:func:`course_utils.data.load_mnist`, whose training split is either these 8,000 digits or
MNIST's 60,000 training digits, disjoint from MNIST's test digits). The reference is the first
``n`` of a fixed permutation, the floor the next ``n``: what a perfect generator, drawing fresh
digits, would score at that size.

:func:`score_samples` gives the Frechet distance of a set of generated digits to the reference
(with a bootstrap interval), the floor at the same size and the judge's class shares;
:func:`label_accuracy` gives how often the judge sees the digit a conditional model was asked for.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..training import load_variables, save_variables

NUM_CLASSES = 10
#: Held-out digits available per side (the 2,000 held-out offline digits, halved).
MAX_EVAL = 1000

RECIPES: dict[str, dict[str, Any]] = {
    "judge": {
        "family": "judge",
        "task": "the course judge: digit classifier for Frechet distances and label accuracy "
                "(course_utils.classifier.build_quick_classifier)",
        "data": "the offline digits' 8,000 training images (course_utils.data.load_mnist_offline)",
        "batch": 32, "lr": 1e-3, "optimizer": "Adam", "loss": "sparse categorical cross-entropy",
        "default_steps": 2_500,
    },
}


def build(name: str = "judge"):
    from .. import classifier

    if name not in RECIPES:
        raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
    return classifier.build_quick_classifier()


def _offline():
    from .. import data

    return data.load_mnist_offline(verbose=False)


@functools.lru_cache(maxsize=None)
def _heldout_order() -> np.ndarray:
    (_, _), (x_test, _) = _offline()
    return np.random.default_rng(0).permutation(len(x_test))


def heldout_digits(n: int = MAX_EVAL) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(reference01, reference_labels, floor01, floor_labels)``: two disjoint sets of ``n``.

    Held-out offline digits as float32 ``(n, 28, 28, 1)`` in [0, 1]; ``n`` at most 1,000.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_EVAL:
        raise ValueError(f"n must be an integer from 2 to {MAX_EVAL} (images per side), got {n!r}")
    (_, _), (x_test, y_test) = _offline()
    order = _heldout_order()
    ref, flo = order[:n], order[n:2 * n]
    x01 = x_test.astype("float32") / 255.0
    return x01[ref], np.asarray(y_test)[ref], x01[flo], np.asarray(y_test)[flo]


@functools.lru_cache(maxsize=2)
def _judge_and_features(verbose: bool = False):
    from .. import classifier

    judge = classifier.load_judge(verbose=verbose)
    return judge, classifier.feature_model(judge)


def features(images01: np.ndarray) -> np.ndarray:
    """The judge's ``features`` activations ``(N, 64)`` for float images ``(N, 28, 28[, 1])`` in [0, 1]."""
    from .. import classifier

    x = classifier.prepare_images(images01, what="the judge's input")
    return _judge_and_features()[1].predict(x, batch_size=500, verbose=0)


def predicted_labels(images01: np.ndarray) -> np.ndarray:
    """The judge's digit (0-9) for each image."""
    from .. import classifier

    return classifier.predict_labels(_judge_and_features()[0], images01, batch_size=500)


def label_accuracy(images01: np.ndarray, requested: np.ndarray) -> float:
    """Share of images the judge reads as the digit they were generated for."""
    requested = np.asarray(requested)
    if requested.ndim != 1 or len(requested) != len(images01) or len(requested) == 0:
        raise ValueError(f"requested must be one label per image ({len(images01)}), got shape {requested.shape}")
    return float(np.mean(predicted_labels(images01) == requested))


def score_samples(images01: np.ndarray, *, n_boot: int = 200, seed: int = 0, weights=None) -> dict[str, Any]:
    """Judge a set of generated digits (float ``(N, 28, 28[, 1])`` in [0, 1], N <= 1,000).

    Returns ``frechet_distance`` and ``frechet_distance_real`` (the floor: held-out real digits),
    each ``[value, low, high]`` with a 95% bootstrap interval, both against the same ``N``
    held-out reference digits; ``class_shares`` (the judge's label shares) and
    ``class_coverage_min``; ``n_images_each``. ``weights`` (one per image) reweight the
    samples' Frechet statistics, e.g. to another class mix.
    """
    from ..metrics.generative import frechet_distance_interval

    n = len(images01)
    ref01, _, floor01, _ = heldout_digits(n)
    ref_f = features(ref01)
    fd = frechet_distance_interval(features(images01), ref_f, n_boot=n_boot, seed=seed, weights_a=weights)
    fd_real = frechet_distance_interval(features(floor01), ref_f, n_boot=n_boot, seed=seed + 1)
    shares = np.bincount(predicted_labels(images01), minlength=NUM_CLASSES) / n
    return {
        "n_images_each": n,
        "frechet_distance": [round(float(v), 2) for v in fd],
        "frechet_distance_real": [round(float(v), 2) for v in fd_real],
        "class_shares": [round(float(s), 4) for s in shares],
        "class_coverage_min": round(float(shares.min()), 4),
    }


def describe_judge() -> dict[str, Any]:
    """What a generative manifest records of the judge that scored it: file, sha256, training size, accuracy."""
    from .. import weights

    m = weights.read_manifest("judge")
    return {"file": m["file"], "sha256": m["sha256"], "n_train": m["data"]["n_train"],
            "test_accuracy": m["heldout"]["test_accuracy"]}


class Trainer:
    """Trains the judge in chunks of steps for :func:`course_utils.training.train`."""

    def __init__(self, name: str = "judge", seed: int = 0):
        import keras

        if name not in RECIPES:
            raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
        from .. import classifier

        self.name, self.recipe = name, RECIPES[name]
        self.loaded = _offline()
        (x, y), (xt, yt) = self.loaded
        self.x, self.y = classifier.prepare_images(x), np.asarray(y, np.int64)
        self.x_test, self.y_test = classifier.prepare_images(xt), np.asarray(yt, np.int64)
        keras.utils.set_random_seed(seed)
        self.model = build(name)
        self.optimizer = keras.optimizers.Adam(self.recipe["lr"])
        self.model.compile(optimizer=self.optimizer, loss="sparse_categorical_crossentropy",
                           metrics=["accuracy"], jit_compile=False)
        self.optimizer.build(self.model.trainable_weights)
        self.steps_per_epoch = len(self.x) // self.recipe["batch"]
        self.steps_per_chunk = self.steps_per_epoch

    def set_final_phase(self, final: bool) -> float:
        return self.recipe["lr"]

    def train(self, epoch: int, start: int, n: int) -> float:
        b = self.recipe["batch"]
        order = np.random.default_rng(10_000 + epoch).permutation(len(self.x))[start * b:(start + n) * b]
        hist = self.model.fit(self.x[order], self.y[order], batch_size=b, epochs=1, shuffle=False, verbose=0)
        return float(hist.history["loss"][-1])

    def _variables(self):
        return list(self.model.weights) + list(self.optimizer.variables)

    def save(self, path) -> None:
        save_variables(path, self._variables())

    def load(self, path) -> None:
        load_variables(path, self._variables())

    def export(self):
        return self.model

    def evaluate(self, model=None) -> dict[str, Any]:
        model = self.model if model is None else model
        pred = np.argmax(model.predict(self.x_test, batch_size=500, verbose=0), axis=-1)
        acc = np.mean(pred == self.y_test)
        per_class = [round(float(np.mean(pred[self.y_test == c] == c)), 4) for c in range(NUM_CLASSES)]
        return {"test_accuracy": round(float(acc), 4), "n_test": int(len(self.y_test)),
                "per_class_accuracy": per_class, "data": self.loaded.source}

    def describe(self) -> dict[str, Any]:
        return {
            "architecture": {"builder": "course_utils.classifier.build_quick_classifier",
                             "params": int(self.model.count_params()),
                             "file_holds": "the classifier's weights"},
            "data": {"source": self.loaded.source, "description": self.loaded.description,
                     "n_train": int(len(self.x)),
                     "heldout": "the offline digits' 2,000 test images (never trained on)"},
        }
