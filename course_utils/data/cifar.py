"""CIFAR-10: read from the official ``cifar-10-python.tar.gz``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .offline import _fallback_shapes_classification, _load

__all__ = ["load_cifar10"]


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


def load_cifar10(*, fallback: bool | None = None, verbose: bool = True):
    """CIFAR-10: x uint8 (N, 32, 32, 3) 0-255, y int64 (N,) in 0-9; 50,000 train / 10,000 test.

    The offline fallback is synthetic coloured shapes from :mod:`course_utils.shapes`
    (3 classes: circle, square, triangle; 3,000 train / 600 test, 32x32x3 uint8).
    """
    return _load("cifar10", _read_cifar10, _fallback_shapes_classification, fallback, verbose)
