"""The registry of real datasets: the errors, what a loader returns and the catalogue.

:class:`Dataset` and :class:`RemoteFile` describe a dataset's files (official URL, sha256, size);
:data:`REGISTRY` holds MNIST, Fashion-MNIST, CIFAR-10 and Oxford-IIIT Pets (:func:`register`
adds one). :class:`DataUnavailableError` and :class:`ChecksumError` are what the loaders raise;
:class:`Loaded` is what they return. The bottom of :mod:`course_utils.data`: imports nothing
from the package.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ChecksumError",
    "DataUnavailableError",
    "Dataset",
    "FALLBACK_SOURCES",
    "Loaded",
    "REGISTRY",
    "RemoteFile",
    "register",
]


# --------------------------------------------------------------------------------------
# Errors and the registry
# --------------------------------------------------------------------------------------
class DataUnavailableError(RuntimeError):
    """A dataset could be found neither locally nor by download (and no fallback was allowed)."""


class ChecksumError(DataUnavailableError):
    """A downloaded or local file does not have the sha256 the registry expects."""


class Loaded(tuple):
    """What a loader returns: unpacks as ``((x_train, y_train), (x_test, y_test))``.

    ``source`` names the data that actually ran: the dataset's key (``"mnist"``,
    ``"cifar10"``, ...) when the real files were read, else the stand-in's name
    (``"mnist-t10k"``, ``"digits-28"``, ``"shapes-32"``, ``"pets-shapes"``);
    ``description`` says the same in words, as the loader's notice printed it.
    """

    source: str
    description: str

    def __new__(cls, train, test, source: str, description: str):
        self = super().__new__(cls, (train, test))
        self.source = source
        self.description = description
        return self

    @property
    def is_fallback(self) -> bool:
        """True when this is a stand-in rather than the dataset that was asked for."""
        return self.source in FALLBACK_SOURCES


#: The names :attr:`Loaded.source` takes for the offline stand-ins.
FALLBACK_SOURCES = ("mnist-t10k", "digits-28", "shapes-32", "pets-shapes")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its file name, official URL, sha256 (hex) and size in bytes (shown only)."""

    name: str
    url: str
    sha256: str
    size: int | None = None


@dataclass(frozen=True)
class Dataset:
    """A registered dataset: its key, a display title and the files it needs.

    ``files`` are fetched (downloaded when missing); each tuple in ``alternatives`` is
    another complete set of files that is used instead when all of them are found locally
    (for example the four IDX ``.gz`` files of MNIST instead of Keras's ``mnist.npz``).
    """

    key: str
    title: str
    files: tuple[RemoteFile, ...]
    alternatives: tuple[tuple[RemoteFile, ...], ...] = ()
    licence: str = ""
    homepage: str = ""


REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add (or replace) a dataset in :data:`REGISTRY` and return it."""
    if not isinstance(dataset, Dataset):
        raise ValueError(f"dataset: expected a Dataset, got {type(dataset).__name__}")
    REGISTRY[dataset.key] = dataset
    return dataset


_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CVDF_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_PETS = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/"

_MNIST_IDX = (
    RemoteFile("train-images-idx3-ubyte.gz", _CVDF_MNIST + "train-images-idx3-ubyte.gz",
               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    RemoteFile("train-labels-idx1-ubyte.gz", _CVDF_MNIST + "train-labels-idx1-ubyte.gz",
               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    RemoteFile("t10k-images-idx3-ubyte.gz", _CVDF_MNIST + "t10k-images-idx3-ubyte.gz",
               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    RemoteFile("t10k-labels-idx1-ubyte.gz", _CVDF_MNIST + "t10k-labels-idx1-ubyte.gz",
               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
)

register(Dataset(
    key="mnist",
    title="MNIST",
    files=(RemoteFile("mnist.npz", _KERAS + "mnist.npz",
                      "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                      11490434),),
    alternatives=(_MNIST_IDX,),
    licence="CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. J. C. Burges)",
    homepage="http://yann.lecun.com/exdb/mnist/",
))

register(Dataset(
    key="fashion_mnist",
    title="Fashion-MNIST",
    files=(
        RemoteFile("train-images-idx3-ubyte.gz", _FASHION + "train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        RemoteFile("train-labels-idx1-ubyte.gz", _FASHION + "train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        RemoteFile("t10k-images-idx3-ubyte.gz", _FASHION + "t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        RemoteFile("t10k-labels-idx1-ubyte.gz", _FASHION + "t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    ),
    licence="MIT (Zalando Research)",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
))

register(Dataset(
    key="cifar10",
    title="CIFAR-10",
    files=(RemoteFile("cifar-10-python.tar.gz",
                      "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                      "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                      170498071),),
    licence="no explicit licence; free to use with citation of Krizhevsky (2009)",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
))

register(Dataset(
    key="oxford_pets",
    title="Oxford-IIIT Pets",
    files=(
        RemoteFile("images.tar.gz", _PETS + "images.tar.gz",
                   "67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d",
                   791918971),
        RemoteFile("annotations.tar.gz", _PETS + "annotations.tar.gz",
                   "52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91",
                   19173078),
    ),
    licence="CC BY-SA 4.0 (Parkhi, Vedaldi, Zisserman, Jawahar)",
    homepage="https://www.robots.ox.ac.uk/~vgg/data/pets/",
))
