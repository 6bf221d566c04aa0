"""Datasets for the course: one registry of real datasets, offline fallbacks and sample photos.

Every real dataset (MNIST, Fashion-MNIST, CIFAR-10, Oxford-IIIT Pets) is a :class:`Dataset` in
:data:`REGISTRY`: a few files, each with its official URL and sha256. A loader looks for each
file, in order, in

1. the folder named by ``COURSE_DATA_DIR`` (as ``<dir>/<dataset>/<file>`` or ``<dir>/<file>``),
2. the course cache ``data/cache/<dataset>/<file>``,
3. a download from ``COURSE_DATA_MIRROR`` + ``<dataset>/<file>`` (or + ``<file>``) when that
   variable is set (a lab server; the official URL is then not tried), else from the
   official URL.

Every file is checked against its sha256; downloads go to a temporary file that is renamed
into place only once complete and verified, so an interrupted download never looks finished,
and a corrupt or partial cached file is deleted and fetched again. MNIST and Fashion-MNIST are
also read from the original IDX ``.gz`` files when a lecturer drops them into the data folder.

In ``test`` mode (``COURSE_MODE=test``) the loaders always return the offline fallbacks
(:func:`load_mnist_offline` for MNIST-shaped data: MNIST's own 10,000 test digits, which ship
with the course under ``data/offline/mnist``); in other modes they fall back only when the
data cannot be found or downloaded, and say so in one line. ``fallback=False`` (or the
environment variable ``COURSE_DATA_FALLBACK=0``) turns the fallback off: the loader then
raises :class:`DataUnavailableError` with what to do. Nothing is downloaded at import time,
and importing this package imports neither TensorFlow nor scikit-image.

Where things are (each module imports only from those listed before it):

- :mod:`~course_utils.data.registry`: the errors (:class:`DataUnavailableError`,
  :class:`ChecksumError`), :class:`Loaded`, :class:`RemoteFile`, :class:`Dataset`,
  :data:`REGISTRY` with its four datasets (URLs and sha256) and :func:`register`.
- :mod:`~course_utils.data.download`: :func:`fetch` (``COURSE_DATA_DIR``, ``data/cache``,
  ``COURSE_DATA_MIRROR``, sha256 checks, the atomic download and its ``TIMEOUT``),
  :func:`sha256sum` and the environment variable names.
- :mod:`~course_utils.data.idx`: the IDX format, :func:`read_idx`.
- :mod:`~course_utils.data.offline`: the offline fallbacks (:func:`load_mnist_offline` from
  ``data/offline/mnist``, :func:`load_digits28`, the shapes stand-ins for CIFAR-10 and Pets)
  and ``_load``, which decides when a loader falls back.
- :mod:`~course_utils.data.mnist`: :func:`load_mnist`, :func:`load_fashion_mnist`.
- :mod:`~course_utils.data.cifar`: :func:`load_cifar10`.
- :mod:`~course_utils.data.pets`: :func:`load_oxford_pets`.
- :mod:`~course_utils.data.lfw`: :func:`load_lfw`, :func:`load_lfw_pairs`.
- :mod:`~course_utils.data.photos`: :func:`load_photos`, :data:`PHOTO_TRAIN`, :data:`PHOTO_TEST`.

Every name is re-exported here, so ``from course_utils import data; data.load_mnist()`` keeps
working. Constants are copies: a test or notebook that changes one (for example ``TIMEOUT``)
sets it on the module that reads it (``course_utils.data.download``).
"""

from __future__ import annotations

# Public constants and ``_load`` (used by the tests) are re-exported too, though not in
# ``__all__`` (which lists what it listed before the split), hence the noqa marks.
from .cifar import load_cifar10
from .download import DATA_DIR_ENV, FALLBACK_ENV, MIRROR_ENV, TIMEOUT, fetch, sha256sum  # noqa: F401
from .idx import read_idx
from .lfw import LFW_SLICE, LFW_TITLE, load_lfw, load_lfw_pairs  # noqa: F401
from .mnist import load_fashion_mnist, load_mnist
from .offline import (  # noqa: F401
    DIGITS28_DESC,
    OFFLINE_MNIST_DESC,
    OFFLINE_MNIST_FILES,
    OFFLINE_SPLIT,
    SHAPES_DESC,
    _load,
    load_digits28,
    load_mnist_offline,
)
from .pets import load_oxford_pets
from .photos import BT601, PHOTO_TEST, PHOTO_TRAIN, load_photos  # noqa: F401
from .registry import (  # noqa: F401
    FALLBACK_SOURCES,
    REGISTRY,
    ChecksumError,
    DataUnavailableError,
    Dataset,
    Loaded,
    RemoteFile,
    register,
)

__all__ = [
    "ChecksumError",
    "DataUnavailableError",
    "Dataset",
    "PHOTO_TEST",
    "PHOTO_TRAIN",
    "REGISTRY",
    "RemoteFile",
    "fetch",
    "load_cifar10",
    "Loaded",
    "load_digits28",
    "load_fashion_mnist",
    "load_lfw",
    "load_lfw_pairs",
    "load_mnist",
    "load_mnist_offline",
    "load_oxford_pets",
    "load_photos",
    "read_idx",
    "register",
    "sha256sum",
]
