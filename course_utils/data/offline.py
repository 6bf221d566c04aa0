"""The offline fallbacks and the shared loader logic that decides when to use them.

:func:`load_mnist_offline` (MNIST's 10,000 test digits shipped in ``data/offline/mnist``),
:func:`load_digits28` (the last resort: scikit-learn's 8x8 digits at 28x28), the synthetic
shapes stand-ins for CIFAR-10 and Oxford-IIIT Pets, and ``_load``: test mode -> the fallback;
else fetch and read; offline -> the fallback or :class:`DataUnavailableError`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable

import numpy as np

from .. import paths
from .download import FALLBACK_ENV, _display, fetch, sha256sum
from .idx import _as_nhwc_uint8, read_idx
from .registry import _MNIST_IDX, REGISTRY, ChecksumError, DataUnavailableError, Loaded

__all__ = [
    "DIGITS28_DESC",
    "OFFLINE_MNIST_DESC",
    "OFFLINE_MNIST_FILES",
    "OFFLINE_SPLIT",
    "SHAPES_DESC",
    "load_digits28",
    "load_mnist_offline",
]


# --------------------------------------------------------------------------------------
# Offline fallbacks
# --------------------------------------------------------------------------------------
#: MNIST's test split (the two ``t10k`` IDX files, 10,000 digits), shipped with the course in
#: ``data/offline/mnist`` as its offline digits, split :data:`OFFLINE_SPLIT` = (train, test).
OFFLINE_MNIST_FILES = tuple(f for f in _MNIST_IDX if f.name.startswith("t10k"))
OFFLINE_SPLIT = (8000, 2000)
_OFFLINE_SEED = 0


def _offline_mnist_dirs() -> list[Path]:
    """``data/offline/mnist`` of the course root, then of the clone that holds this package."""
    found = []
    for root in (paths.data_dir(), Path(__file__).resolve().parents[2] / "data"):
        folder = (root / "offline" / "mnist").resolve()
        if folder not in found:
            found.append(folder)
    return found


def _offline_mnist_files() -> dict[str, Path]:
    """The two offline IDX files, checked; DataUnavailableError if absent, ChecksumError if damaged."""
    for folder in _offline_mnist_dirs():
        files = {f.name: folder / f.name for f in OFFLINE_MNIST_FILES}
        if not all(p.is_file() for p in files.values()):
            continue
        for f in OFFLINE_MNIST_FILES:
            found = sha256sum(files[f.name])
            if found != f.sha256:
                raise ChecksumError(
                    f"{_display(files[f.name])} is damaged: sha256 {found}, expected {f.sha256}. "
                    "It is MNIST's test split as shipped with the course; restore it with "
                    f"`git checkout -- data/offline/mnist` (or copy the official {f.name} there)."
                )
        return files
    where = ", ".join(_display(d) for d in _offline_mnist_dirs())
    raise DataUnavailableError(f"the offline MNIST files are missing (looked in {where})")


def load_mnist_offline(*, verbose: bool = False) -> Loaded:
    """The course's offline digits: MNIST's 10,000 test digits, split 8,000 train / 2,000 test.

    The two official IDX files (``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``,
    CC BY-SA 3.0, Y. LeCun, C. Cortes, C. J. C. Burges) ship in ``data/offline/mnist`` and are
    checked against their sha256. The split is stratified by label with a fixed seed, so every
    run sees the same 8,000 / 2,000 digits. Returns a :class:`Loaded` with source
    ``"mnist-t10k"``: x uint8 (N, 28, 28, 1) in 0-255, y int64 (N,). When the files are
    missing (a copy of the package without its ``data`` folder), returns
    :func:`load_digits28` instead, saying so; a damaged file raises :class:`ChecksumError`.
    """
    try:
        files = _offline_mnist_files()
    except ChecksumError:
        raise
    except DataUnavailableError as exc:
        print(f"{exc}; using the last resort, scikit-learn's 8x8 digits upsampled to 28x28")
        return load_digits28(verbose=verbose)
    (x_train, y_train), (x_test, y_test) = _offline_mnist_arrays(str(files[OFFLINE_MNIST_FILES[0].name]),
                                                                  str(files[OFFLINE_MNIST_FILES[1].name]))
    result = Loaded((x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy()),
                    "mnist-t10k", OFFLINE_MNIST_DESC)
    if verbose:
        print(f"mnist-t10k: {OFFLINE_MNIST_DESC}")
    return result


OFFLINE_MNIST_DESC = (f"MNIST's test digits from data/offline/mnist "
                      f"({OFFLINE_SPLIT[0]} train / {OFFLINE_SPLIT[1]} test, stratified)")


@functools.lru_cache(maxsize=2)
def _offline_mnist_arrays(images: str, labels: str):
    from sklearn.model_selection import train_test_split

    x = _as_nhwc_uint8(read_idx(images))
    y = read_idx(labels).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, train_size=OFFLINE_SPLIT[0], test_size=OFFLINE_SPLIT[1], stratify=y,
        random_state=_OFFLINE_SEED,
    )
    return (x_train, y_train), (x_test, y_test)


DIGITS28_DESC = "scikit-learn's 8x8 digits upsampled to 28x28 (1347 train / 450 test)"


def load_digits28(*, verbose: bool = False) -> Loaded:
    """scikit-learn's 1,797 bundled 8x8 digits as MNIST-shaped 28x28 images (the last resort).

    Used only when the offline MNIST files (:func:`load_mnist_offline`) are missing. Each 8x8
    digit (values 0-16) is upsampled bilinearly to 20x20 and centred in a 28x28 frame with a
    4-pixel border, like MNIST's 20x20 digit box, then scaled to 0-255. Returns a
    :class:`Loaded` with source ``"digits-28"``: x uint8 (N, 28, 28, 1) in 0-255, y int64
    (N,) in 0-9; a stratified split with a fixed seed, 1,347 train / 450 test.
    """
    (x_train, y_train), (x_test, y_test) = _digits28_arrays()
    if verbose:
        print(f"digits-28: {DIGITS28_DESC}")
    # Copies, so a notebook that edits its arrays in place cannot change the next call's data.
    return Loaded((x_train.copy(), y_train.copy()), (x_test.copy(), y_test.copy()), "digits-28", DIGITS28_DESC)


@functools.lru_cache(maxsize=1)
def _digits28_arrays():
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    small = digits.images.astype(np.float32) / 16.0  # (1797, 8, 8) in [0, 1]
    big = zoom(small, (1, 20 / 8, 20 / 8), order=1, mode="nearest", grid_mode=True)
    x = np.zeros((len(small), 28, 28), np.float32)
    x[:, 4:24, 4:24] = np.clip(big, 0.0, 1.0)
    x = np.round(x * 255.0).astype(np.uint8)[..., None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=450, stratify=y, random_state=0
    )
    return (x_train, y_train), (x_test, y_test)


def _fallback_shapes_classification(size: int = 32):
    from ..shapes import make_shape_classification

    x_train, y_train = make_shape_classification(3000, size=size, seed=0)
    x_test, y_test = make_shape_classification(600, size=size, seed=1)
    to8 = lambda x: np.round(x * 255).astype(np.uint8)  # noqa: E731
    return Loaded((to8(x_train), y_train), (to8(x_test), y_test), "shapes-32", SHAPES_DESC)


SHAPES_DESC = "synthetic 32x32 shapes (3 classes, 3000 train / 600 test)"


def _fallback_pets(size: int):
    from scipy.ndimage import binary_erosion

    from ..shapes import make_scenes

    def part(n, seed):
        s = make_scenes(n, size=size, max_objects=1, seed=seed, size_range=(0.4, 0.8))
        fg = s.semantic > 0
        inner = np.stack([binary_erosion(m, iterations=max(1, size // 64)) for m in fg])
        masks = np.where(inner, 1, np.where(fg, 2, 0)).astype(np.uint8)
        return np.round(s.images * 255).astype(np.uint8), masks

    return Loaded(part(400, 0), part(100, 1), "pets-shapes", _pets_desc(size))


def _pets_desc(size: int) -> str:
    return f"synthetic {size}x{size} shapes scenes with pet-style masks (400 train / 100 test)"


# --------------------------------------------------------------------------------------
# When to fall back (shared by the loaders)
# --------------------------------------------------------------------------------------
def _fallback_allowed(fallback: bool | None) -> bool:
    if fallback is not None:
        return bool(fallback)
    return os.environ.get(FALLBACK_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def _test_mode() -> bool:
    from ..runtime import is_test_mode

    return is_test_mode()


def _load(
    key: str,
    reader: Callable[[dict[str, Path]], tuple],
    fallback_fn: Callable[[], Loaded],
    fallback: bool | None,
    verbose: bool,
) -> Loaded:
    """Shared logic: test mode -> fallback; else fetch and read; offline -> fallback or error."""
    dataset = REGISTRY[key]
    if _test_mode() and fallback is not False:
        result = fallback_fn()
        if verbose:
            print(f"test mode: using {result.description} instead of {dataset.title}")
        return result
    try:
        files = fetch(key, verbose=verbose)
    except ChecksumError:
        raise
    except DataUnavailableError as exc:
        if not _fallback_allowed(fallback):
            raise
        result = fallback_fn()
        if verbose:
            print(f"offline: using {result.description} instead of {dataset.title} ({_short_reason(exc)})")
        return result
    train, test = reader(files)
    where = sorted({_display(p.parent) for p in files.values()})
    desc = f"{dataset.title}: {len(train[0])} train / {len(test[0])} test from {', '.join(where)}"
    if verbose:
        print(desc)
    return Loaded(train, test, key, desc)


def _short_reason(exc: BaseException) -> str:
    cause = exc.__cause__
    if cause is None:
        return "no local copy, download not possible"
    reason = getattr(cause, "reason", cause)
    return f"download failed: {reason}"
