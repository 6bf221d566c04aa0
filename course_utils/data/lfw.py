"""Labeled Faces in the Wild, through scikit-learn (notebook 08): identities and verification pairs."""

from __future__ import annotations

import http.client
import os
from pathlib import Path

import numpy as np

from .. import paths
from .download import DATA_DIR_ENV, _display
from .offline import _OFFLINE_SEED, _fallback_allowed, _short_reason, _test_mode, load_mnist_offline
from .registry import DataUnavailableError, Loaded

__all__ = ["LFW_SLICE", "LFW_TITLE", "load_lfw", "load_lfw_pairs"]


#: LFW's crop for the course: a square around the face in the 250x250 funnelled images
#: (rows 70-195 as scikit-learn's default, columns centred on the same face).
LFW_SLICE = (slice(70, 195), slice(63, 188))
LFW_TITLE = "Labeled Faces in the Wild (LFW)"


def _lfw_data_home() -> Path:
    """Where scikit-learn keeps LFW: ``COURSE_DATA_DIR/lfw`` when it holds ``lfw_home``, else
    ``data/cache/lfw``."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env and (Path(env).expanduser() / "lfw" / "lfw_home").is_dir():
        return Path(env).expanduser() / "lfw"
    return paths.data_dir() / "cache" / "lfw"


def _lfw_faces(images: np.ndarray, size: int) -> np.ndarray:
    """scikit-learn's float gray faces (N, h, w) -> uint8 (N, size, size, 1) in 0-255.

    scikit-learn 1.x returns floats in [0, 1] (older releases 0-255); both are handled."""
    from skimage.transform import resize

    images = np.asarray(images, np.float32)
    if images.size and images.max() <= 1.0:
        images = images * 255.0
    x = np.stack([resize(im, (size, size), order=1, anti_aliasing=True, preserve_range=True)
                  for im in images]) if len(images) else np.zeros((0, size, size))
    return np.clip(np.round(x), 0, 255).astype(np.uint8)[..., None]


def _sklearn_lfw(fetch, **kwargs):
    """Call a scikit-learn LFW fetcher: download only outside test mode; errors -> DataUnavailableError."""
    home = _lfw_data_home()
    try:
        return fetch(data_home=str(home), funneled=True, resize=0.4, slice_=LFW_SLICE,
                     download_if_missing=not _test_mode(), **kwargs)
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        raise DataUnavailableError(
            f"{LFW_TITLE} could not be read from {_display(home)} or downloaded ({exc}); put "
            "scikit-learn's lfw_home folder there (or in COURSE_DATA_DIR/lfw) and try again"
        ) from exc


def load_lfw(size: int = 32, min_faces_per_person: int = 20, *, fallback: bool | None = None,
             verbose: bool = True) -> Loaded:
    """LFW identities for face recognition: ``((x_train, y_train), (x_test, y_test))``.

    Faces come from scikit-learn's :func:`sklearn.datasets.fetch_lfw_people` (the funnelled
    images, which scikit-learn downloads and verifies itself), kept in ``data/cache/lfw``:
    people with at least ``min_faces_per_person`` images, a square crop around the face
    (:data:`LFW_SLICE`) in gray, resized to ``size`` x ``size``. x uint8 (N, size, size, 1) in
    0-255; y int64 identity indices into ``result.target_names``; a stratified 75/25 split of
    each person's images with a fixed seed. In test mode, and when LFW can be neither found nor
    downloaded, returns the course's offline digits instead (:func:`load_mnist_offline`, source
    ``"mnist-t10k"``: digit classes stand in for identities) and says so in one line.
    ``fallback=False`` never falls back and raises :class:`DataUnavailableError` (in test mode it
    reads a local copy but never downloads); ``None`` follows ``COURSE_DATA_FALLBACK``.
    """
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size: expected an int >= 8, got {size!r}")
    if not isinstance(min_faces_per_person, (int, np.integer)) or min_faces_per_person < 2:
        raise ValueError(f"min_faces_per_person: expected an int >= 2, got {min_faces_per_person!r}")
    from sklearn.datasets import fetch_lfw_people
    from sklearn.model_selection import train_test_split

    def stand_in(notice: str) -> Loaded:
        result = load_mnist_offline()
        if verbose:
            print(notice.format(desc=result.description))
        result.target_names = tuple(str(d) for d in range(10))
        return result

    if _test_mode() and fallback is not False:
        return stand_in("test mode: using {desc} as stand-in identities instead of " + LFW_TITLE)
    try:
        people = _sklearn_lfw(fetch_lfw_people, min_faces_per_person=int(min_faces_per_person))
    except DataUnavailableError as exc:
        if not _fallback_allowed(fallback):
            raise
        return stand_in("offline: using {desc} as stand-in identities instead of "
                        f"{LFW_TITLE} ({_short_reason(exc)})")
    x = _lfw_faces(people.images, int(size))
    y = people.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y,
                                                        random_state=_OFFLINE_SEED)
    desc = (f"{LFW_TITLE}: {len(np.unique(y))} people with >= {min_faces_per_person} images, "
            f"{len(x_train)} train / {len(x_test)} test, {size}x{size} gray, from {_display(_lfw_data_home())}")
    if verbose:
        print(desc)
    result = Loaded((x_train, y_train), (x_test, y_test), "lfw", desc)
    result.target_names = tuple(str(n) for n in people.target_names)
    return result


def load_lfw_pairs(size: int = 32, *, verbose: bool = True) -> Loaded:
    """The standard LFW verification pairs (View 1): ``((pairs_train, same_train), (pairs_test, same_test))``.

    From :func:`sklearn.datasets.fetch_lfw_pairs` (``pairsDevTrain.txt``: 2,200 pairs;
    ``pairsDevTest.txt``: 1,000 pairs; half genuine), cropped and resized like :func:`load_lfw`:
    pairs uint8 (P, 2, size, size, 1), same int64 (P,) with 1 = same person. There is no
    stand-in for these pairs: offline (or in test mode without a local copy) it raises
    :class:`DataUnavailableError`; call it when :func:`load_lfw` returned ``source == "lfw"``.
    """
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size: expected an int >= 8, got {size!r}")
    from sklearn.datasets import fetch_lfw_pairs

    parts = []
    for subset in ("train", "test"):
        bunch = _sklearn_lfw(fetch_lfw_pairs, subset=subset)
        pairs = bunch.pairs  # (P, 2, h, w)
        flat = _lfw_faces(pairs.reshape(-1, *pairs.shape[2:]), int(size))
        parts.append((flat.reshape(len(pairs), 2, int(size), int(size), 1), bunch.target.astype(np.int64)))
    desc = (f"{LFW_TITLE} pairs (View 1): {len(parts[0][1])} train / {len(parts[1][1])} test pairs, "
            f"{size}x{size} gray")
    if verbose:
        print(desc)
    return Loaded(parts[0], parts[1], "lfw_pairs", desc)
