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
and importing this module imports neither TensorFlow nor scikit-image.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import paths

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

DATA_DIR_ENV = "COURSE_DATA_DIR"
MIRROR_ENV = "COURSE_DATA_MIRROR"
FALLBACK_ENV = "COURSE_DATA_FALLBACK"
#: Seconds to wait for a server to answer (connect and each read); offline, DNS fails at once.
TIMEOUT = 10.0
_CHUNK = 1 << 20


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


# --------------------------------------------------------------------------------------
# Finding, verifying and downloading files
# --------------------------------------------------------------------------------------
def sha256sum(path: str | os.PathLike) -> str:
    """The sha256 of a file as a lowercase hex string (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _display(path: Path) -> str:
    """A path relative to the course folder when it lies inside it (no absolute paths in notebooks)."""
    try:
        return str(path.resolve().relative_to(paths.repo_root()))
    except ValueError:
        return str(path)


def _data_dir_candidates(dataset: Dataset, file: RemoteFile) -> list[Path]:
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if not env:
        return []
    root = Path(env).expanduser()
    return [root / dataset.key / file.name, root / file.name]


def _cache_path(dataset: Dataset, file: RemoteFile) -> Path:
    return paths.data_dir() / "cache" / dataset.key / file.name


def _is_valid(path: Path, file: RemoteFile) -> bool:
    # The size is only informative (shown before a download); the sha256 alone decides.
    return path.is_file() and sha256sum(path) == file.sha256


def _find_local(
    dataset: Dataset, file: RemoteFile, *, repair_cache: bool,
    corrupt: list[tuple[Path, str]] | None = None,
) -> Path | None:
    """A verified local copy of ``file``; a corrupt cached copy is deleted when ``repair_cache``.

    A file that fails its checksum in ``COURSE_DATA_DIR`` (the user's own folder) is never
    touched: it is appended to ``corrupt`` as ``(path, found_sha256)`` so the caller can say so.
    """
    for candidate in _data_dir_candidates(dataset, file):
        if candidate.is_file():
            found = sha256sum(candidate)
            if found == file.sha256:
                return candidate
            if corrupt is not None:
                corrupt.append((candidate, found))
    cached = _cache_path(dataset, file)
    if cached.is_file():
        if _is_valid(cached, file):
            return cached
        if repair_cache:
            print(f"{dataset.title}: {_display(cached)} is corrupt or incomplete; fetching it again")
            cached.unlink(missing_ok=True)
    return None


def _corrupt_message(dataset: Dataset, file: RemoteFile, path: Path, found: str) -> str:
    """What to say about a file in the user's folder whose sha256 does not match."""
    return (
        f"{dataset.title}: {path} (in COURSE_DATA_DIR) is corrupt or incomplete: its sha256 is "
        f"{found}, expected {file.sha256}. The course never changes files in your folder: "
        f"replace it with a good copy of {file.name} (from {file.url}) or delete it."
    )


def _source_urls(dataset: Dataset, file: RemoteFile) -> list[str]:
    """Where to download from: the mirror (``<base>/<key>/<file>``, then ``<base>/<file>``)
    when ``COURSE_DATA_MIRROR`` is set, else the official URL."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        base = mirror.rstrip("/")
        return [f"{base}/{dataset.key}/{file.name}", f"{base}/{file.name}"]
    return [file.url]


def _download(url: str, dest: Path, file: RemoteFile, announce: str | None = None) -> None:
    """Stream ``url`` into a temporary file beside ``dest``, verify it, then rename it into place.

    Raises :class:`ChecksumError` (and leaves nothing behind) when the bytes do not match,
    and ``OSError``/``urllib.error.URLError`` when the server cannot be reached.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f".{dest.name}.*.part"):  # left by a killed process
        try:
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
        except OSError:
            pass
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        request = urllib.request.Request(url, headers={"User-Agent": "course-utils"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
            if announce:  # only once the server answered: offline, the notice stays one line
                print(announce, flush=True)
            received = 0
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
            expected = resp.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and received != int(expected):
                raise ConnectionError(f"download interrupted: got {received} of {expected} bytes")
        got = digest.hexdigest()
        if got != file.sha256:
            raise ChecksumError(
                f"{file.name} downloaded from {url} has sha256 {got}, expected {file.sha256}; "
                "the file was discarded. The server holds a wrong or truncated copy: replace it "
                "(or unset COURSE_DATA_MIRROR to use the official URL) and try again."
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        try:
            dest.parent.rmdir()  # only when empty: a failed first download leaves no folder
        except OSError:
            pass
        raise


def fetch(key: str, *, download: bool = True, verbose: bool = True) -> dict[str, Path]:
    """Paths of a registered dataset's files, found locally or downloaded, all sha256-verified.

    ``key`` names a dataset in :data:`REGISTRY` (``"mnist"``, ``"fashion_mnist"``,
    ``"cifar10"``, ``"oxford_pets"``). Returns a dict file name -> path. A complete local set
    of one of the dataset's ``alternatives`` is returned as is; otherwise each of its
    ``files`` is looked up in ``COURSE_DATA_DIR``, then ``data/cache`` (a corrupt cached copy
    is deleted), then downloaded into ``data/cache/<key>/`` from ``COURSE_DATA_MIRROR`` or
    the official URL when ``download`` is true. Raises :class:`DataUnavailableError` saying
    what to do when a file cannot be had, :class:`ChecksumError` when a download is corrupt.
    """
    if key not in REGISTRY:
        raise ValueError(f"key: no dataset {key!r} in the registry; known: {sorted(REGISTRY)}")
    dataset = REGISTRY[key]
    for files in dataset.alternatives:
        found = {f.name: _find_local(dataset, f, repair_cache=False) for f in files}
        if all(found.values()):
            return found  # type: ignore[return-value]
    result: dict[str, Path] = {}
    for file in dataset.files:
        corrupt: list[tuple[Path, str]] = []
        local = _find_local(dataset, file, repair_cache=True, corrupt=corrupt)
        if local is None:
            if not download:
                _raise_if_corrupt(dataset, file, corrupt, None)
                raise DataUnavailableError(_missing_message(dataset, file, None))
            dest = _cache_path(dataset, file)
            size = f" ({file.size / 1e6:.1f} MB)" if file.size else ""
            urls = _source_urls(dataset, file)
            for k, url in enumerate(urls):
                announce = f"{dataset.title}: downloading {file.name}{size} from {url}" if verbose else None
                try:
                    _download(url, dest, file, announce)
                    break
                except ChecksumError:
                    raise
                except urllib.error.HTTPError as exc:
                    if exc.code == 404 and k + 1 < len(urls):
                        continue  # a flat mirror folder: try the next address
                    _raise_if_corrupt(dataset, file, corrupt, exc)
                    raise DataUnavailableError(_missing_message(dataset, file, f"{url}: {exc}")) from exc
                except (OSError, http.client.HTTPException) as exc:
                    _raise_if_corrupt(dataset, file, corrupt, exc)
                    raise DataUnavailableError(_missing_message(dataset, file, f"{url}: {exc}")) from exc
            local = dest
        if corrupt and verbose:  # a good copy was found elsewhere: still tell the user
            for path, found in corrupt:
                print(_corrupt_message(dataset, file, path, found) + f" Using {_display(local)}.")
        result[file.name] = local
    return result


def _raise_if_corrupt(
    dataset: Dataset, file: RemoteFile, corrupt: list[tuple[Path, str]], cause: BaseException | None
) -> None:
    """Raise :class:`ChecksumError` naming the user's corrupt copy, when there is one."""
    if corrupt:
        path, found = corrupt[0]
        failure = f" No good copy could be had elsewhere either ({cause})." if cause else ""
        raise ChecksumError(_corrupt_message(dataset, file, path, found) + failure + " Then run again.")


def _missing_message(dataset: Dataset, file: RemoteFile, failure: str | None) -> str:
    env = os.environ.get(DATA_DIR_ENV) or "unset"
    how = f"downloading failed ({failure})" if failure else "downloading was not allowed"
    return (
        f"{dataset.title} is not available: {file.name} is neither in COURSE_DATA_DIR ({env}) nor "
        f"in data/cache/{dataset.key}/, and {how}. To fix it, do one of: connect to the internet "
        f"and run again; put {file.name} (sha256 {file.sha256}, from {file.url}) into "
        f"data/cache/{dataset.key}/ or into the folder named by COURSE_DATA_DIR; set "
        f"COURSE_DATA_MIRROR=http://host:port/ to a lab mirror (see data/README.md); or allow "
        f"the offline fallback (fallback=True, and unset {FALLBACK_ENV})."
    )


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed (``.gz``) or raw.

    The header is two zero bytes, a type code (0x08 = uint8, ...) and the number of
    dimensions, then one big-endian uint32 per dimension. Returns the array with that shape
    and native byte order, e.g. (10000, 28, 28) uint8 for ``t10k-images-idx3-ubyte.gz``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"path: {path.name} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(
            f"path: {path.name} holds {len(raw) - offset} data bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _as_nhwc_uint8(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.uint8)[..., None]


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


def _read_cifar10(files: dict[str, Path]):
    import pickle
    import tarfile

    batches: dict[str, dict] = {}
    with tarfile.open(files["cifar-10-python.tar.gz"], "r:gz") as tar:
        for member in tar:
            base = member.name.rsplit("/", 1)[-1]
            if base.startswith("data_batch_") or base == "test_batch":
                fh = tar.extractfile(member)
                assert fh is not None
                # Safe to unpickle: the archive's sha256 was verified against the registry.
                batches[base] = pickle.load(fh, encoding="bytes")

    def stack(names):
        x = np.concatenate([batches[n][b"data"] for n in names]).reshape(-1, 3, 32, 32)
        y = np.concatenate([np.asarray(batches[n][b"labels"]) for n in names])
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.uint8), y.astype(np.int64)

    return stack([f"data_batch_{i}" for i in range(1, 6)]), stack(["test_batch"])


def _read_pets(files: dict[str, Path], size: int):
    import io
    import tarfile

    from PIL import Image

    def split_names(text: str) -> list[str]:
        return [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]

    masks: dict[str, np.ndarray] = {}
    with tarfile.open(files["annotations.tar.gz"], "r:gz") as tar:
        lists = {}
        for member in tar:
            if member.name.endswith(("trainval.txt", "test.txt")) and "annotations/" in member.name:
                lists[member.name.rsplit("/", 1)[-1]] = tar.extractfile(member).read().decode()
            elif "/trimaps/" in member.name and member.name.endswith(".png") and "/._" not in member.name:
                name = member.name.rsplit("/", 1)[-1][:-4]
                trimap = Image.open(io.BytesIO(tar.extractfile(member).read()))
                trimap = np.asarray(trimap.resize((size, size), Image.NEAREST), dtype=np.uint8)
                # Trimap 1 = pet, 2 = background, 3 = border  ->  1 = pet, 0 = background, 2 = border.
                masks[name] = np.choose(np.clip(trimap, 1, 3) - 1, [1, 0, 2]).astype(np.uint8)
    train_names, test_names = split_names(lists["trainval.txt"]), split_names(lists["test.txt"])
    wanted = set(train_names) | set(test_names)
    images: dict[str, np.ndarray] = {}
    with tarfile.open(files["images.tar.gz"], "r|gz") as tar:
        for member in tar:
            if not member.name.endswith(".jpg"):
                continue
            name = member.name.rsplit("/", 1)[-1][:-4]
            if name in wanted:
                img = Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")
                images[name] = np.asarray(img.resize((size, size), Image.BILINEAR), dtype=np.uint8)

    def stack(names):
        names = [n for n in names if n in images and n in masks]
        return np.stack([images[n] for n in names]), np.stack([masks[n] for n in names])

    return stack(train_names), stack(test_names)


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
# Loaders
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


def load_cifar10(*, fallback: bool | None = None, verbose: bool = True):
    """CIFAR-10: x uint8 (N, 32, 32, 3) 0-255, y int64 (N,) in 0-9; 50,000 train / 10,000 test.

    The offline fallback is synthetic coloured shapes from :mod:`course_utils.shapes`
    (3 classes: circle, square, triangle; 3,000 train / 600 test, 32x32x3 uint8).
    """
    return _load("cifar10", _read_cifar10, _fallback_shapes_classification, fallback, verbose)


def load_oxford_pets(size: int = 128, *, fallback: bool | None = None, verbose: bool = True):
    """Oxford-IIIT Pets for segmentation: ``((x_train, m_train), (x_test, m_test))``.

    x uint8 (N, size, size, 3) 0-255, resized without keeping the aspect ratio (bilinear);
    masks uint8 (N, size, size): 0 = background, 1 = pet, 2 = border (the trimap, recoded;
    nearest-neighbour resize). The official split: 3,680 trainval / 3,669 test. The decoded
    arrays are cached as ``data/cache/oxford_pets/pets_<size>.npz``. The offline fallback
    is single-object synthetic shapes scenes with the same mask coding (400 / 100).
    """
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size: expected an int >= 8, got {size!r}")
    size = int(size)
    processed = paths.data_dir() / "cache" / "oxford_pets" / f"pets_{size}.npz"

    if processed.is_file() and not _test_mode():
        try:
            with np.load(processed) as f:
                train, test = (f["x_train"], f["m_train"]), (f["x_test"], f["m_test"])
            desc = f"Oxford-IIIT Pets: {len(train[0])} train / {len(test[0])} test from {_display(processed)}"
            if verbose:
                print(desc)
            return Loaded(train, test, "oxford_pets", desc)
        except Exception:  # a damaged cache: rebuild it from the archives
            processed.unlink(missing_ok=True)

    def reader(files):
        (xtr, mtr), (xte, mte) = _read_pets(files, size)
        _atomic_savez(processed, x_train=xtr, m_train=mtr, x_test=xte, m_test=mte)
        return (xtr, mtr), (xte, mte)

    return _load("oxford_pets", reader, lambda: _fallback_pets(size), fallback, verbose)


def _atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------
# Photos (scikit-image and scikit-learn sample images; always offline)
# --------------------------------------------------------------------------------------
#: Held-out photos for restoration: never used for training.
PHOTO_TEST: tuple[str, ...] = ("camera", "astronaut", "coffee", "china")
#: Training photos: every other bundled natural image that loads offline.
PHOTO_TRAIN: tuple[str, ...] = (
    "chelsea", "coins", "moon", "page", "text", "clock", "brick", "grass", "gravel",
    "immunohistochemistry", "rocket", "hubble_deep_field", "retina", "cell", "flower",
)
#: ITU-R BT.601 luma weights used for ``gray=True``.
BT601 = (0.299, 0.587, 0.114)


@functools.lru_cache(maxsize=None)
def _load_photo(name: str) -> np.ndarray:
    """The photo as its package stores it (uint8; callers convert, never modify in place)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    return getattr(skimage.data, name)()


def _to_float(img: np.ndarray, gray: bool) -> np.ndarray:
    x = img.astype(np.float32)
    if img.dtype == np.uint8:
        x /= 255.0
    if x.ndim == 3 and x.shape[-1] == 4:
        x = x[..., :3]
    if gray and x.ndim == 3:
        x = x @ np.asarray(BT601, np.float32)
    elif not gray and x.ndim == 2:
        x = np.repeat(x[..., None], 3, axis=-1)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _resize(x: np.ndarray, size: int, square: bool) -> np.ndarray:
    from skimage.transform import resize

    h, w = x.shape[:2]
    if square:
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        x = x[top:top + s, left:left + s]
        shape = (size, size)
    else:
        scale = size / min(h, w)
        shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    out = resize(x, shape + x.shape[2:], order=1, anti_aliasing=shape[0] < x.shape[0],
                 preserve_range=True)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def load_photos(gray: bool = True, size: int | None = None, *, square: bool = False,
                verbose: bool = False) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Natural sample photos bundled with scikit-image and scikit-learn, split for restoration.

    Returns ``(train, test)``: two dicts name -> float32 array in [0, 1], (H, W) when
    ``gray`` (ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B) else (H, W, 3) (grayscale
    originals repeated over 3 channels). ``size=None`` keeps each photo's native size; an
    int resizes it so its short side is ``size`` pixels (aspect kept), or, with
    ``square=True``, centre-crops it to a square first and returns (size, size). Test
    photos (:data:`PHOTO_TEST`: camera, astronaut, coffee, china) are never in ``train``
    (:data:`PHOTO_TRAIN`, 15 photos). Always offline; nothing is downloaded.
    """
    if size is not None and (not isinstance(size, (int, np.integer)) or size < 8):
        raise ValueError(f"size: expected None or an int >= 8, got {size!r}")

    def build(names):
        out = {}
        for name in names:
            x = _to_float(_load_photo(name), gray)
            if size is not None:
                x = _resize(x, int(size), square)
            out[name] = x
        return out

    train, test = build(PHOTO_TRAIN), build(PHOTO_TEST)
    if verbose:
        print(f"photos: {len(train)} train / {len(test)} test from scikit-image and scikit-learn samples")
    return train, test


# --------------------------------------------------------------------------------------
# Labeled Faces in the Wild (through scikit-learn; notebook 08)
# --------------------------------------------------------------------------------------
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
