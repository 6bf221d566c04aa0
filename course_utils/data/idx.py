"""The IDX format (MNIST's): :func:`read_idx`, gzip-compressed or raw."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["read_idx"]

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
