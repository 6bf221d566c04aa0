"""Finding, verifying and downloading a registered dataset's files: :func:`fetch`.

Each file is looked for in ``COURSE_DATA_DIR``, then ``data/cache/<dataset>/``, then downloaded
from ``COURSE_DATA_MIRROR`` (when set) or the official URL, and checked against its sha256;
a download goes to a temporary file renamed into place only once complete and verified.
:data:`TIMEOUT` is read here at each download: to change it, set
``course_utils.data.download.TIMEOUT`` (the copy re-exported by ``course_utils.data`` is not read).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import paths
from .registry import REGISTRY, ChecksumError, DataUnavailableError, Dataset, RemoteFile

__all__ = ["DATA_DIR_ENV", "FALLBACK_ENV", "MIRROR_ENV", "TIMEOUT", "fetch", "sha256sum"]

DATA_DIR_ENV = "COURSE_DATA_DIR"
MIRROR_ENV = "COURSE_DATA_MIRROR"
FALLBACK_ENV = "COURSE_DATA_FALLBACK"
#: Seconds to wait for a server to answer (connect and each read); offline, DNS fails at once.
TIMEOUT = 10.0
_CHUNK = 1 << 20


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
