"""MNIST and Fashion-MNIST: read from Keras's ``mnist.npz`` or the four IDX ``.gz`` files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .idx import _as_nhwc_uint8, read_idx
from .offline import _load, load_mnist_offline

__all__ = ["load_fashion_mnist", "load_mnist"]


def _read_mnist_like(files: dict[str, Path]) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if "mnist.npz" in files:
        with np.load(files["mnist.npz"], allow_pickle=False) as f:
            xtr, ytr, xte, yte = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    else:
        xtr = read_idx(files["train-images-idx3-ubyte.gz"])
        ytr = read_idx(files["train-labels-idx1-ubyte.gz"])
        xte = read_idx(files["t10k-images-idx3-ubyte.gz"])
        yte = read_idx(files["t10k-labels-idx1-ubyte.gz"])
    return ((_as_nhwc_uint8(xtr), ytr.astype(np.int64)), (_as_nhwc_uint8(xte), yte.astype(np.int64)))


def load_mnist(*, fallback: bool | None = None, verbose: bool = True):
    """MNIST: ``((x_train, y_train), (x_test, y_test))``, x uint8 (N, 28, 28, 1) 0-255, y int64.

    60,000 train / 10,000 test handwritten digits. In test mode, and when the data can be
    neither found locally nor downloaded, returns :func:`load_mnist_offline` instead (MNIST's
    own test digits, split 8,000 / 2,000) and prints one line saying so. The result is a
    :class:`Loaded`: its ``source`` is ``"mnist"`` or the stand-in's name. ``fallback=False`` never falls back (not even in test mode) and
    raises :class:`DataUnavailableError` saying what to do; ``None`` (the default) follows
    ``COURSE_DATA_FALLBACK`` (on unless ``0``). ``verbose=False`` prints nothing.
    """
    return _load("mnist", _read_mnist_like, load_mnist_offline, fallback, verbose)


def load_fashion_mnist(*, fallback: bool | None = None, verbose: bool = True):
    """Fashion-MNIST, same format as :func:`load_mnist` (60,000 / 10,000 clothing images, 10 classes).

    The offline fallback is :func:`load_mnist_offline` (digits, not clothes: the notice says so).
    """
    return _load("fashion_mnist", _read_mnist_like, load_mnist_offline, fallback, verbose)
