"""Tests for course_utils.data: the download path against a local HTTP server, the IDX reader
on real MNIST files, the offline fallbacks and the photos. Nothing here reaches the internet,
and nothing is written into the real data/cache (every test runs in a temporary course root).
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from course_utils import data, paths
from course_utils.data import download as data_download
from course_utils.data import offline as data_offline

ROOT = Path(__file__).resolve().parent.parent
REAL_CACHE = ROOT / "data" / "cache"
BLOB = bytes(range(256)) * 40 + b"course-utils test blob"
BLOB_SHA = hashlib.sha256(BLOB).hexdigest()


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.is_dir() else set()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A temporary course root (so data/cache is under tmp_path) and a clean environment."""
    before = _listing(REAL_CACHE)
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path / "course"))
    for name in (data.DATA_DIR_ENV, data.MIRROR_ENV, data.FALLBACK_ENV):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    assert _listing(REAL_CACHE) == before, "a test wrote into the real data/cache"


class _Server:
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) serving ``files`` (path -> bytes).

    ``requests`` lists every path asked for; ``truncate`` sends a Content-Length larger than
    the body and closes the connection half-way (an interrupted download).
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.truncate = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if outer.truncate else body)
                self.close_connection = True

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = _Server()
    yield srv
    srv.stop()


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _register_blob(monkeypatch, url: str, sha: str = BLOB_SHA) -> data.Dataset:
    dataset = data.Dataset(key="blob", title="Blob", files=(data.RemoteFile("blob.bin", url, sha, len(BLOB)),))
    monkeypatch.setitem(data.REGISTRY, "blob", dataset)
    return dataset


def _cache(key: str = "blob") -> Path:
    return paths.data_dir() / "cache" / key


# ----------------------------------------------------------------------------- download path
def test_download_is_cached_and_second_call_stays_local(server, monkeypatch, capsys):
    server.files["/blob.bin"] = BLOB
    _register_blob(monkeypatch, server.url + "blob.bin")
    got = data.fetch("blob")["blob.bin"]
    assert got == _cache() / "blob.bin"
    assert got.read_bytes() == BLOB
    assert server.requests == ["/blob.bin"]
    assert "downloading blob.bin" in capsys.readouterr().out
    again = data.fetch("blob")["blob.bin"]
    assert again == got and server.requests == ["/blob.bin"]  # the server was not asked again
    assert sorted(p.name for p in _cache().iterdir()) == ["blob.bin"]  # no temporary files left


def test_mirror_is_used_instead_of_the_official_url(server, monkeypatch):
    server.files["/blob/blob.bin"] = BLOB
    _register_blob(monkeypatch, _closed_port_url() + "blob.bin")
    monkeypatch.setenv(data.MIRROR_ENV, server.url.rstrip("/"))  # with or without the slash
    assert data.fetch("blob")["blob.bin"].read_bytes() == BLOB
    assert server.requests == ["/blob/blob.bin"]


def test_flat_mirror_folder_works_too(server, monkeypatch):
    server.files["/blob.bin"] = BLOB
    _register_blob(monkeypatch, _closed_port_url() + "blob.bin")
    monkeypatch.setenv(data.MIRROR_ENV, server.url)
    assert data.fetch("blob")["blob.bin"].read_bytes() == BLOB
    assert server.requests == ["/blob/blob.bin", "/blob.bin"]


def test_mirror_without_the_file_says_so(server, monkeypatch):
    _register_blob(monkeypatch, "http://unused.invalid/blob.bin")
    monkeypatch.setenv(data.MIRROR_ENV, server.url)
    with pytest.raises(data.DataUnavailableError, match="404"):
        data.fetch("blob")
    assert _listing(_cache()) == set()


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupt_cached_file_is_fetched_again(server, monkeypatch, damage):
    server.files["/blob.bin"] = BLOB
    _register_blob(monkeypatch, server.url + "blob.bin")
    path = data.fetch("blob")["blob.bin"]
    broken = {"truncate": BLOB[:100], "flip": b"X" + BLOB[1:], "empty": b""}[damage]
    path.write_bytes(broken)
    assert data.fetch("blob")["blob.bin"].read_bytes() == BLOB
    assert server.requests == ["/blob.bin", "/blob.bin"]


def test_wrong_bytes_give_a_checksum_error_and_leave_nothing(server, monkeypatch):
    server.files["/blob.bin"] = BLOB[:-1] + b"?"
    _register_blob(monkeypatch, server.url + "blob.bin")
    with pytest.raises(data.ChecksumError) as err:
        data.fetch("blob")
    message = str(err.value)
    assert "sha256" in message and BLOB_SHA in message and "blob.bin" in message
    assert _listing(_cache()) == set()  # neither the file nor a temporary part
    # A loader does not hide a checksum error behind the offline fallback.
    monkeypatch.setenv("COURSE_MODE", "quick")
    with pytest.raises(data.ChecksumError):
        data._load("blob", lambda files: files, _tiny_fallback, None, True)


def test_interrupted_download_leaves_no_file(server, monkeypatch):
    server.files["/blob.bin"] = BLOB
    server.truncate = True
    _register_blob(monkeypatch, server.url + "blob.bin")
    with pytest.raises(data.DataUnavailableError, match="interrupted"):
        data.fetch("blob")
    assert _listing(_cache()) == set()


TINY = ((1, 2), (3, 4))


def _tiny_fallback():
    return data.Loaded(*TINY, "tiny", "tiny data")


def test_server_down_falls_back_with_one_line_notice(monkeypatch, capsys):
    _register_blob(monkeypatch, _closed_port_url() + "blob.bin")
    monkeypatch.setenv("COURSE_MODE", "quick")
    start = time.perf_counter()
    out = data._load("blob", lambda files: files, _tiny_fallback, None, True)
    assert time.perf_counter() - start < 5.0
    assert out == TINY and out.source == "tiny" and out[0][0] == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("offline: using tiny data instead of Blob")


def test_silent_server_times_out(monkeypatch):
    """A server that accepts the connection but never answers is given up after TIMEOUT."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        _register_blob(monkeypatch, f"http://127.0.0.1:{sock.getsockname()[1]}/blob.bin")
        monkeypatch.setattr(data_download, "TIMEOUT", 0.5)  # read by the downloader, not the package
        start = time.perf_counter()
        with pytest.raises(data.DataUnavailableError, match="timed out"):
            data.fetch("blob")
        assert time.perf_counter() - start < 5.0
    assert _listing(_cache()) == set()


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_server_down_without_fallback_raises_what_to_do(monkeypatch, how):
    _register_blob(monkeypatch, _closed_port_url() + "blob.bin")
    monkeypatch.setenv("COURSE_MODE", "quick")
    if how == "environment":
        monkeypatch.setenv(data.FALLBACK_ENV, "0")
    with pytest.raises(data.DataUnavailableError) as err:
        data._load("blob", lambda files: files, _tiny_fallback,
                   False if how == "argument" else None, True)
    message = str(err.value)
    for hint in ("blob.bin", BLOB_SHA, "COURSE_DATA_DIR", "COURSE_DATA_MIRROR", "data/cache/blob"):
        assert hint in message
    assert _listing(_cache()) == set()


def test_load_mnist_with_dead_mirror_falls_back_to_offline_mnist(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "quick")
    monkeypatch.setenv(data.MIRROR_ENV, _closed_port_url())  # never the internet in tests
    loaded = data.load_mnist()
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert loaded.source == "mnist-t10k" and loaded.is_fallback
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("offline: using MNIST's test digits") and "instead of MNIST" in out[0]
    with pytest.raises(data.DataUnavailableError, match="MNIST is not available"):
        data.load_mnist(fallback=False)


def test_test_mode_never_touches_the_network(monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise AssertionError("test mode must not download")

    monkeypatch.setattr(data_download, "_download", boom)  # what fetch() calls
    monkeypatch.setenv("COURSE_MODE", "test")
    (x, y), _ = data.load_fashion_mnist()
    assert x.shape[1:] == (28, 28, 1)
    assert capsys.readouterr().out.startswith("test mode: using MNIST's test digits")
    (xc, yc), (xt, _) = data.load_cifar10()
    assert xc.dtype == np.uint8 and xc.shape[1:] == (32, 32, 3) and yc.dtype == np.int64
    assert set(np.unique(yc)) == {0, 1, 2}
    (xp, mp), _ = data.load_oxford_pets(size=64)
    assert xp.shape[1:] == (64, 64, 3) and mp.shape[1:] == (64, 64) and mp.dtype == np.uint8
    assert set(np.unique(mp)) <= {0, 1, 2} and (mp == 1).any() and (mp == 2).any()


def test_course_data_dir_is_searched_first(server, monkeypatch, tmp_path):
    folder = tmp_path / "lecturer"
    (folder / "blob").mkdir(parents=True)
    (folder / "blob" / "blob.bin").write_bytes(BLOB)
    _register_blob(monkeypatch, server.url + "blob.bin")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    assert data.fetch("blob")["blob.bin"] == folder / "blob" / "blob.bin"
    assert server.requests == []
    # A flat folder works too; a corrupt file there is ignored (never deleted) and downloaded.
    (folder / "blob" / "blob.bin").unlink()
    (folder / "blob.bin").write_bytes(b"not it")
    server.files["/blob.bin"] = BLOB
    assert data.fetch("blob")["blob.bin"] == _cache() / "blob.bin"
    assert (folder / "blob.bin").read_bytes() == b"not it"


def test_corrupt_mnist_in_course_data_dir_is_reported_as_corrupt(monkeypatch, tmp_path, capsys):
    # A damaged mnist.npz in the user's folder, offline: the error names the file, both
    # checksums and what to do, and the file is left exactly as it was.
    folder = tmp_path / "my-data"
    folder.mkdir()
    damaged = folder / "mnist.npz"
    damaged.write_bytes(b"PK\x03\x04 half a zip file")
    before = (damaged.read_bytes(), damaged.stat().st_mtime_ns)
    found = hashlib.sha256(damaged.read_bytes()).hexdigest()
    expected = data.REGISTRY["mnist"].files[0].sha256
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    monkeypatch.setenv(data.MIRROR_ENV, _closed_port_url())
    monkeypatch.setenv("COURSE_MODE", "quick")
    for call in (lambda: data.load_mnist(), lambda: data.load_mnist(fallback=False),
                 lambda: data.fetch("mnist", download=False)):
        with pytest.raises(data.ChecksumError) as err:
            call()
        message = str(err.value)
        assert str(damaged) in message and "corrupt" in message
        assert f"sha256 is {found}, expected {expected}" in message
        assert "replace it with a good copy" in message and "delete it" in message
        assert "neither in" not in message
    assert (damaged.read_bytes(), damaged.stat().st_mtime_ns) == before


def test_corrupt_user_file_is_named_even_when_a_good_copy_is_downloaded(server, monkeypatch, tmp_path, capsys):
    folder = tmp_path / "lecturer"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(b"not it")
    server.files["/blob.bin"] = BLOB
    _register_blob(monkeypatch, server.url + "blob.bin")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    assert data.fetch("blob")["blob.bin"] == _cache() / "blob.bin"
    out = capsys.readouterr().out
    assert f"{folder / 'blob.bin'} (in COURSE_DATA_DIR) is corrupt" in out
    assert f"expected {BLOB_SHA}" in out and "Using data/cache/blob/blob.bin." in out
    assert (folder / "blob.bin").read_bytes() == b"not it"


def test_fetch_rejects_unknown_key():
    with pytest.raises(ValueError, match="no dataset 'nope'"):
        data.fetch("nope")


def test_fetch_without_download_says_what_to_do(monkeypatch):
    _register_blob(monkeypatch, _closed_port_url() + "blob.bin")
    with pytest.raises(data.DataUnavailableError, match="not allowed"):
        data.fetch("blob", download=False)


# ----------------------------------------------------------------------------- IDX files
def _idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 5, 2)) * 50).astype(dtype)
    raw = _idx_bytes(array)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    got = data.read_idx(path)
    assert got.shape == array.shape and got.dtype.isnative
    np.testing.assert_array_equal(got, array.astype(np.dtype(dtype).newbyteorder("=")))


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01abcd")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")
    raw = _idx_bytes(np.zeros((4, 3), np.uint8))[:-2]
    (tmp_path / "short").write_bytes(raw)
    with pytest.raises(ValueError, match="expected 12"):
        data.read_idx(tmp_path / "short")


def test_mnist_reads_dropped_idx_files(monkeypatch, tmp_path):
    """The IDX alternative is used when a complete, verified set sits in COURSE_DATA_DIR."""
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4, dtype=np.uint8),
    }
    folder = tmp_path / "drop"
    folder.mkdir()
    files = []
    for name, array in arrays.items():
        blob = gzip.compress(_idx_bytes(array))
        (folder / name).write_bytes(blob)
        files.append(data.RemoteFile(name, "http://unused/" + name, hashlib.sha256(blob).hexdigest()))
    npz = data.RemoteFile("mnist.npz", _closed_port_url() + "mnist.npz", "0" * 64)
    monkeypatch.setitem(data.REGISTRY, "mnist", data.Dataset("mnist", "MNIST", (npz,), (tuple(files),)))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    monkeypatch.setenv("COURSE_MODE", "quick")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(fallback=False)
    assert x_train.shape == (6, 28, 28, 1) and x_train.dtype == np.uint8 and y_train.dtype == np.int64
    np.testing.assert_array_equal(x_test[..., 0], arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    # One corrupt IDX file: the set is incomplete, so the loader goes on to mnist.npz (offline).
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"broken")
    with pytest.raises(data.DataUnavailableError):
        data.load_mnist(fallback=False)


def test_idx_reader_on_real_mnist(shared_datasets):
    folder = shared_datasets / "mnist"
    images_path, labels_path = folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    if not images_path.is_file():
        pytest.skip("no MNIST test files in the shared datasets")
    images, labels = data.read_idx(images_path), data.read_idx(labels_path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    # The md5s published with the files, and the sha256s the registry pins.
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in (images_path, labels_path)}
    assert md5 == {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                   "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    pinned = {f.name: f.sha256 for f in data.REGISTRY["mnist"].alternatives[0]}
    assert data.sha256sum(images_path) == pinned[images_path.name] == (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6")
    assert data.sha256sum(labels_path) == pinned[labels_path.name] == (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")


# ----------------------------------------------------------------------------- fallbacks
OFFLINE = ROOT / "data" / "offline" / "mnist"


def test_offline_mnist_is_the_official_test_split():
    """The committed files are MNIST's t10k files, byte for byte (published MD5, pinned SHA-256)."""
    pinned = {f.name: f.sha256 for f in data.REGISTRY["mnist"].alternatives[0]}
    md5 = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
           "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    for name, digest in md5.items():
        blob = (OFFLINE / name).read_bytes()
        assert hashlib.md5(blob).hexdigest() == digest
        assert hashlib.sha256(blob).hexdigest() == pinned[name]
    readme = (ROOT / "data" / "README.md").read_text()
    for name in md5:
        assert pinned[name] in readme and name in readme
    assert "CC BY-SA 3.0" in readme


def test_offline_mnist_split_is_stratified_fixed_and_disjoint():
    loaded = data.load_mnist_offline()
    (x_train, y_train), (x_test, y_test) = loaded
    assert loaded.source == "mnist-t10k" and loaded.is_fallback
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    # Together they are exactly the 10,000 official test digits, each used once.
    images = data.read_idx(OFFLINE / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(OFFLINE / "t10k-labels-idx1-ubyte.gz")
    key = lambda x: sorted(a.tobytes() for a in x.reshape(len(x), -1))  # noqa: E731
    assert key(np.concatenate([x_train, x_test])) == key(images[..., None])
    np.testing.assert_array_equal(np.bincount(np.concatenate([y_train, y_test])), np.bincount(labels))
    # Stratified: each class has its share of the 2,000 test digits, to within one.
    share = np.bincount(labels, minlength=10) * 2000 / 10000
    assert np.abs(np.bincount(y_test, minlength=10) - share).max() <= 1
    (x2, y2), _ = data.load_mnist_offline()
    np.testing.assert_array_equal(x_train, x2)  # a fixed split
    np.testing.assert_array_equal(y_train, y2)
    x2[:] = 0  # callers get copies
    assert data.load_mnist_offline()[0][0].max() == 255


def test_offline_mnist_labels_match_images():
    """A logistic regression trained on the 8,000 reaches >= 85% on the 2,000 (images and labels align)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = data.load_mnist_offline()
    clf = LogisticRegression(max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train[:4000].reshape(4000, -1) / 255.0, y_train[:4000])
    accuracy = clf.score(x_test.reshape(len(x_test), -1) / 255.0, y_test)
    assert accuracy >= 0.85, accuracy


def test_damaged_offline_mnist_says_how_to_restore(monkeypatch, tmp_path):
    folder = tmp_path / "course" / "data" / "offline" / "mnist"
    folder.mkdir(parents=True)
    for f in data.OFFLINE_MNIST_FILES:
        (folder / f.name).write_bytes((OFFLINE / f.name).read_bytes())
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    with pytest.raises(data.ChecksumError) as err:
        data.load_mnist_offline()
    message = str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and "git checkout -- data/offline/mnist" in message
    assert data.OFFLINE_MNIST_FILES[1].sha256 in message
    assert (folder / "t10k-labels-idx1-ubyte.gz").read_bytes() == b"damaged"  # never deleted


def test_missing_offline_mnist_falls_back_to_digits28(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(data_offline, "_offline_mnist_dirs", lambda: [tmp_path / "nowhere"])
    monkeypatch.setenv("COURSE_MODE", "test")
    loaded = data.load_mnist()
    assert loaded.source == "digits-28" and loaded[0][0].shape == (1347, 28, 28, 1)
    out = capsys.readouterr().out
    assert "offline MNIST files are missing" in out and "last resort" in out
    assert "test mode: using scikit-learn's 8x8 digits" in out


def test_digits28_format_and_split():
    loaded = data.load_digits28()
    (x_train, y_train), (x_test, y_test) = loaded
    assert loaded.source == "digits-28"
    assert x_train.shape == (1347, 28, 28, 1) and x_test.shape == (450, 28, 28, 1)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert x_train.max() == 255 and x_train.min() == 0
    # The 4-pixel frame is empty, like MNIST's 20x20 digit box in a 28x28 image.
    assert x_train[:, :4].max() == 0 and x_train[:, 24:].max() == 0
    # Stratified: each class has its share of the 450 test digits, to within one.
    share = np.bincount(np.concatenate([y_train, y_test]), minlength=10) * 450 / 1797
    assert np.abs(np.bincount(y_test, minlength=10) - share).max() <= 1
    (x2, _), _ = data.load_digits28()
    np.testing.assert_array_equal(x_train, x2)  # a fixed split


def test_digits28_are_digits():
    """Logistic regression on the 28x28 fallback reaches >= 90%: images and labels align."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = data.load_digits28()
    clf = LogisticRegression(max_iter=50)  # ~97% already; more iterations only cost time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train.reshape(len(x_train), -1) / 255.0, y_train)
    accuracy = clf.score(x_test.reshape(len(x_test), -1) / 255.0, y_test)
    assert accuracy >= 0.90, accuracy


def test_importing_data_is_light():
    code = (
        "import socket, sys\n"
        "def no_network(*a, **k): raise AssertionError('network used at import')\n"
        "socket.socket.connect = no_network\n"
        "import course_utils.data\n"
        "bad = [m for m in ('tensorflow', 'keras', 'skimage') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ----------------------------------------------------------------------------- photos
def test_photos_split_and_format():
    train, test = data.load_photos()
    assert set(test) == set(data.PHOTO_TEST) and set(train) == set(data.PHOTO_TRAIN)
    assert not set(train) & set(test)
    for img in [*train.values(), *test.values()]:
        assert img.dtype == np.float32 and img.ndim == 2
        assert 0.0 <= img.min() and img.max() <= 1.0
    assert test["camera"].shape == (512, 512)


def test_photos_gray_is_bt601_like_pillow():
    """gray=True uses ITU-R BT.601 luma, the same weights as Pillow's convert('L')."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    _, test = data.load_photos(gray=True)
    reference = np.asarray(Image.fromarray(load_sample_image("china.jpg")).convert("L"), np.float32) / 255
    assert np.abs(test["china"] - reference).max() <= 1.0 / 255 + 1e-6


def test_photos_colour_and_sizes():
    train, test = data.load_photos(gray=False, size=48)
    assert test["coffee"].shape == (48, 72, 3)  # 400x600: short side 48, aspect kept
    assert train["moon"].shape == (48, 48, 3)  # grayscale photo repeated on 3 channels
    np.testing.assert_array_equal(train["moon"][..., 0], train["moon"][..., 2])
    train, test = data.load_photos(size=32, square=True)
    assert {img.shape for img in [*train.values(), *test.values()]} == {(32, 32)}
    with pytest.raises(ValueError, match="size"):
        data.load_photos(size=3)


# ----------------------------------------------------------------------------- archive readers
def _tar_gz(path: Path, members: dict[str, bytes]) -> str:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return data.sha256sum(path)


def test_cifar10_reader_on_a_small_archive(monkeypatch, tmp_path):
    import pickle

    rng = np.random.default_rng(0)
    batches = {f"data_batch_{i}": 3 for i in range(1, 6)} | {"test_batch": 2}
    members, raw = {}, {}
    for name, m in batches.items():
        raw[name] = (rng.integers(0, 256, (m, 3072), dtype=np.uint8), rng.integers(0, 10, m).tolist())
        members[f"cifar-10-batches-py/{name}"] = pickle.dumps({b"data": raw[name][0], b"labels": raw[name][1]})
    folder = tmp_path / "drop"
    folder.mkdir()
    sha = _tar_gz(folder / "cifar-10-python.tar.gz", members)
    monkeypatch.setitem(data.REGISTRY, "cifar10", data.Dataset(
        "cifar10", "CIFAR-10", (data.RemoteFile("cifar-10-python.tar.gz", "http://unused.invalid/", sha),)))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    monkeypatch.setenv("COURSE_MODE", "quick")
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(fallback=False)
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    # Rows are stored channel-first (1024 red, 1024 green, 1024 blue values).
    np.testing.assert_array_equal(x_test[1], raw["test_batch"][0][1].reshape(3, 32, 32).transpose(1, 2, 0))
    np.testing.assert_array_equal(y_train[3:6], raw["data_batch_2"][1])


def test_oxford_pets_reader_on_a_small_archive(monkeypatch, tmp_path, capsys):
    import io

    from PIL import Image

    def png(array):
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="PNG")
        return buf.getvalue()

    def jpg(array):
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="JPEG", quality=95)
        return buf.getvalue()

    names = ["Abyssinian_1", "beagle_2", "Bombay_3"]
    trimap = np.full((40, 60), 2, np.uint8)  # background
    trimap[10:30, 20:40] = 3  # border
    trimap[12:28, 22:38] = 1  # pet
    ann = {"annotations/trainval.txt": b"# comment\nAbyssinian_1 1 1 1\nbeagle_2 2 2 1\n",
           "annotations/test.txt": b"Bombay_3 3 1 2\n"}
    for n in names:
        ann[f"annotations/trimaps/{n}.png"] = png(trimap)
        ann[f"annotations/trimaps/._{n}.png"] = b"macOS junk"
    imgs = {f"images/{n}.jpg": jpg(np.full((40, 60, 3), 120 + 10 * i, np.uint8)) for i, n in enumerate(names)}
    folder = tmp_path / "drop"
    folder.mkdir()
    files = (data.RemoteFile("images.tar.gz", "http://unused.invalid/", _tar_gz(folder / "images.tar.gz", imgs)),
             data.RemoteFile("annotations.tar.gz", "http://unused.invalid/",
                             _tar_gz(folder / "annotations.tar.gz", ann)))
    monkeypatch.setitem(data.REGISTRY, "oxford_pets", data.Dataset("oxford_pets", "Oxford-IIIT Pets", files))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    monkeypatch.setenv("COURSE_MODE", "quick")
    (x_train, m_train), (x_test, m_test) = data.load_oxford_pets(size=20, fallback=False)
    assert x_train.shape == (2, 20, 20, 3) and m_train.shape == (2, 20, 20) and x_test.shape == (1, 20, 20, 3)
    assert abs(int(x_test[0].mean()) - 140) <= 3  # Bombay_3 is the test image
    assert m_train[0, 0, 0] == 0 and m_train[0, 10, 10] == 1 and m_train[0, 5, 7] == 2
    assert capsys.readouterr().out.startswith("Oxford-IIIT Pets: 2 train / 1 test")
    # The decoded arrays are cached: a second call works without re-reading the archives.
    (folder / "images.tar.gz").write_bytes(b"gone")
    monkeypatch.setitem(data.REGISTRY, "oxford_pets", data.Dataset("oxford_pets", "Oxford-IIIT Pets", ()))
    capsys.readouterr()
    (x2, _), _ = data.load_oxford_pets(size=20, fallback=False)
    np.testing.assert_array_equal(x2, x_train)
    assert "pets_20.npz" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# LFW (notebook 08): a small local copy in scikit-learn's layout stands in for the download
# --------------------------------------------------------------------------------------
_LFW_PEOPLE = {"Ada_Lovelace": 4, "Alan_Turing": 4, "Grace_Hopper": 2}


def _fake_lfw_home(root: Path) -> Path:
    """scikit-learn's ``lfw_home``: funnelled 250x250 JPEGs per person and the three pair lists."""
    from PIL import Image

    home = root / "lfw_home"
    rng = np.random.default_rng(0)
    for k, (name, count) in enumerate(_LFW_PEOPLE.items()):
        folder = home / "lfw_funneled" / name
        folder.mkdir(parents=True)
        for i in range(count):
            img = np.full((250, 250), 40 + 60 * k, np.uint8) + rng.integers(0, 20, (250, 250), dtype=np.uint8)
            Image.fromarray(np.stack([img] * 3, axis=-1)).save(folder / f"{name}_{i + 1:04d}.jpg", quality=95)  # RGB, as LFW
    pairs = "2\nAda_Lovelace\t1\t2\nAlan_Turing\t1\t3\nAda_Lovelace\t1\tAlan_Turing\t2\nGrace_Hopper\t1\tAlan_Turing\t4\n"
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt"):
        (home / name).write_text(pairs)
    return home


@pytest.fixture
def no_lfw_download(monkeypatch):
    """Any attempt of scikit-learn to download LFW fails as it does offline, and is counted."""
    import urllib.error

    import sklearn.datasets._lfw as sk_lfw

    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(sk_lfw, "_fetch_remote", offline)
    return calls


def test_lfw_reads_a_local_copy_without_downloading(monkeypatch, no_lfw_download, capsys):
    monkeypatch.setenv("COURSE_MODE", "quick")
    _fake_lfw_home(paths.data_dir() / "cache" / "lfw")
    result = data.load_lfw(size=16, min_faces_per_person=4)
    (x_train, y_train), (x_test, y_test) = result
    assert result.source == "lfw" and not result.is_fallback
    assert result.target_names == ("Ada Lovelace", "Alan Turing")  # Grace has only 2 images
    assert x_train.shape == (6, 16, 16, 1) and x_test.shape == (2, 16, 16, 1) and x_train.dtype == np.uint8
    assert sorted(np.bincount(y_test).tolist()) == [1, 1]  # stratified by person
    # the two people differ in brightness by 60 grey levels: the labels follow the images
    means = np.concatenate([x_train, x_test]).reshape(8, -1).mean(axis=1)
    labels = np.concatenate([y_train, y_test])
    assert means[labels == 1].min() > means[labels == 0].max()
    assert no_lfw_download == []
    assert "Labeled Faces in the Wild" in capsys.readouterr().out


def test_lfw_in_course_data_dir_is_used(monkeypatch, no_lfw_download, tmp_path):
    monkeypatch.setenv("COURSE_MODE", "quick")
    folder = tmp_path / "lab"
    _fake_lfw_home(folder / "lfw")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    assert data.load_lfw(size=16, min_faces_per_person=2).source == "lfw"
    assert not (paths.data_dir() / "cache" / "lfw" / "lfw_home" / "lfw_funneled").exists()


def test_lfw_offline_falls_back_to_digits_with_one_line(monkeypatch, no_lfw_download, capsys):
    monkeypatch.setenv("COURSE_MODE", "quick")
    result = data.load_lfw()
    assert result.source == "mnist-t10k" and result.is_fallback
    assert result.target_names == tuple("0123456789")
    assert no_lfw_download, "outside test mode the loader should try the download"
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("offline:") and "stand-in identities" in out[0]


def test_lfw_without_fallback_raises_what_to_do(monkeypatch, no_lfw_download):
    monkeypatch.setenv("COURSE_MODE", "quick")
    with pytest.raises(data.DataUnavailableError, match="lfw_home"):
        data.load_lfw(fallback=False)
    with pytest.raises(data.DataUnavailableError):
        data.load_lfw_pairs()


def test_lfw_test_mode_uses_the_stand_in_and_never_downloads(monkeypatch, no_lfw_download, capsys):
    monkeypatch.setenv("COURSE_MODE", "test")
    _fake_lfw_home(paths.data_dir() / "cache" / "lfw")
    result = data.load_lfw()
    assert result.source == "mnist-t10k"
    assert capsys.readouterr().out.startswith("test mode:")
    # fallback=False in test mode reads the local copy, still without downloading
    assert data.load_lfw(size=16, min_faces_per_person=4, fallback=False).source == "lfw"
    assert no_lfw_download == []


def test_lfw_pairs_from_a_local_copy(monkeypatch, no_lfw_download):
    monkeypatch.setenv("COURSE_MODE", "quick")
    _fake_lfw_home(paths.data_dir() / "cache" / "lfw")
    result = data.load_lfw_pairs(size=16)
    (p_train, s_train), (p_test, s_test) = result
    assert result.source == "lfw_pairs"
    assert p_train.shape == (4, 2, 16, 16, 1) and p_test.dtype == np.uint8
    assert s_train.tolist() == [1, 1, 0, 0]
    assert no_lfw_download == []


def test_lfw_rejects_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        data.load_lfw(size=4)
    with pytest.raises(ValueError, match="min_faces_per_person"):
        data.load_lfw(min_faces_per_person=1)
    with pytest.raises(ValueError, match="size"):
        data.load_lfw_pairs(size="big")
