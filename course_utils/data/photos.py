"""Photos for restoration: scikit-image and scikit-learn sample images; always offline."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["BT601", "PHOTO_TEST", "PHOTO_TRAIN", "load_photos"]


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
