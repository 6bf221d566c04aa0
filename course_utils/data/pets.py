"""Oxford-IIIT Pets for segmentation: images and trimaps read from the official archives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .. import paths
from .download import _display
from .offline import _fallback_pets, _load, _test_mode
from .registry import Loaded

__all__ = ["load_oxford_pets"]


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
