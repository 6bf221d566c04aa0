"""Deterministic synthetic "shapes" scenes for detection and segmentation.

:func:`make_scenes` draws circles, squares and triangles of random colour and size on a
textured, noisy background. Boxes, class labels, instance masks and the semantic mask all
come from the same rasterised masks, so they agree exactly:

* each object is rasterised at pixel centres ``(col + 0.5, row + 0.5)`` into a full mask;
* objects are painted in order, a later one on top; an instance mask is the object's
  **visible** pixels (full mask minus the pixels of later objects), so instance masks never
  overlap and every pixel of the semantic mask belongs to exactly one instance or the
  background;
* a box is the tight box of the visible instance mask, in xyxy pixels with
  ``x_max = last column + 1`` (so ``width = x_max - x_min``).

With the default ``max_overlap=0`` objects do not even touch (their boxes are at least one
pixel apart), so nothing is occluded. With ``max_overlap > 0`` two objects' full boxes may
overlap up to that IoU, and a placement is rejected when it would hide more than
``1 - min_visible`` of an earlier object. Colours are random and independent of the class,
so a model has to learn shape, not colour. Everything is drawn from one
``numpy.random.Generator`` seeded by ``seed``: the same arguments give the same scenes.
Class labels are balanced: the object classes are a shuffled, cyclic sequence over
``classes``, so class counts differ by at most one (plus the rare object that finds no room).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["CLASSES", "Scenes", "make_scenes", "make_shape_classification"]

#: The shapes the generator can draw.
CLASSES: tuple[str, ...] = ("circle", "square", "triangle")


@dataclass
class Scenes:
    """A batch of synthetic scenes.

    ``images`` float32 (n, size, size, 3) in [0, 1]; ``boxes`` list of n float32 arrays
    (k_i, 4) in xyxy pixels; ``labels`` list of n int64 arrays (k_i,) with class indices
    0..C-1 into ``class_names``; ``instance_masks`` list of n bool arrays (k_i, size, size)
    (visible pixels, disjoint); ``semantic`` uint8 (n, size, size) with 0 = background and
    c + 1 = class c.
    """

    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    instance_masks: list[np.ndarray]
    semantic: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_classes(self) -> int:
        """Number of object classes C (the semantic mask has C + 1 values with background)."""
        return len(self.class_names)


def _polygon(kind: str, cx: float, cy: float, extent: float, angle: float) -> np.ndarray:
    """Vertices (counter-clockwise in image coordinates, y down) of a square or triangle."""
    if kind == "square":
        half = extent / 2.0
        pts = np.array([[-half, -half], [-half, half], [half, half], [half, -half]])
    else:  # triangle: upright equilateral, base width = extent, centred on its box
        h = extent * np.sqrt(3.0) / 2.0
        pts = np.array([[0.0, -h / 2.0], [-extent / 2.0, h / 2.0], [extent / 2.0, h / 2.0]])
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        pts = pts @ np.array([[c, s], [-s, c]])
    return pts + np.array([cx, cy])


def _extent_box(kind: str, cx: float, cy: float, extent: float,
                angle: float) -> tuple[tuple[float, float, float, float], np.ndarray | None]:
    """The exact continuous box (xyxy) of one object and its polygon vertices (None for a circle)."""
    if kind == "circle":
        r = extent / 2.0
        return (cx - r, cy - r, cx + r, cy + r), None
    pts = _polygon(kind, cx, cy, extent, angle)
    return (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()), pts


def _rasterise(kind: str, cx: float, cy: float, extent: float, ext: Sequence[float],
               pts: np.ndarray | None, size: int) -> tuple[np.ndarray, int, int]:
    """The object's mask on the pixels of its extent box: (local bool mask, row0, col0).

    A pixel belongs to the object when its centre ``(col + 0.5, row + 0.5)`` lies inside.
    """
    x0, y0 = max(0, int(np.floor(ext[0]))), max(0, int(np.floor(ext[1])))
    x1, y1 = min(size, int(np.ceil(ext[2])) + 1), min(size, int(np.ceil(ext[3])) + 1)
    xs = np.arange(x0, x1) + 0.5
    ys = (np.arange(y0, y1) + 0.5)[:, None]
    if pts is None:
        r = extent / 2.0
        local = (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
    else:
        local = np.ones((y1 - y0, x1 - x0), bool)
        n = len(pts)
        for i in range(n):
            (ax, ay), (bx, by) = pts[i], pts[(i + 1) % n]
            # Inside: on the same side of every edge (vertices are ordered consistently).
            local &= (bx - ax) * (ys - ay) - (by - ay) * (xs - ax) <= 0
    return local, y0, x0


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _too_close(a: Sequence[float], b: Sequence[float], gap: float) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def _backgrounds(rng: np.random.Generator, n: int, size: int,
                 texture: float) -> tuple[np.ndarray, np.ndarray]:
    """n flat random colours plus smooth textures: the sum of 3 random plane waves of amplitude
    ``texture / 3`` each (1-4 cycles per image), with a random sign per channel."""
    colors = rng.uniform(0.0, 1.0, (n, 3)).astype(np.float32)
    images = np.empty((n, size, size, 3), np.float32)
    images[:] = colors[:, None, None, :]
    if texture > 0 and n:
        freq = rng.uniform(-4, 4, (n, 3, 2))
        phase = rng.uniform(0, 2 * np.pi, (n, 3))
        signs = rng.choice(np.array([-1.0, 1.0], np.float32), (n, 3))
        t = 2 * np.pi * np.arange(size, dtype=np.float64) / size
        ax = freq[..., 0, None] * t  # (n, 3, size) along x
        ay = freq[..., 1, None] * t + phase[..., None]  # (n, 3, size) along y
        # sin(ax + ay) = sin(ax) cos(ay) + cos(ax) sin(ay): a separable (batched matmul) sum.
        field = (np.einsum("nky,nkx->nyx", np.cos(ay), np.sin(ax))
                 + np.einsum("nky,nkx->nyx", np.sin(ay), np.cos(ax))).astype(np.float32)
        images += (texture / 3.0) * field[..., None] * signs[:, None, None, :]
    return images, colors


def _object_color(rng: np.random.Generator, background: np.ndarray, min_contrast: float) -> np.ndarray:
    for _ in range(16):
        color = rng.uniform(0.0, 1.0, 3)
        if float(((color - background) ** 2).sum()) >= min_contrast ** 2:
            return color
    return 1.0 - background


def make_scenes(
    n: int,
    size: int = 64,
    max_objects: int = 4,
    classes: Sequence[str] = CLASSES,
    seed: int = 0,
    *,
    min_objects: int = 1,
    size_range: tuple[float, float] = (0.2, 0.45),
    max_overlap: float = 0.0,
    min_visible: float = 0.6,
    texture: float = 0.15,
    noise: float = 0.03,
    rotate: bool = False,
    min_contrast: float = 0.45,
) -> Scenes:
    """``n`` random scenes of ``size`` x ``size`` pixels with ``min_objects..max_objects`` shapes each.

    ``classes`` is a subset of ``("circle", "square", "triangle")``; label c means
    ``classes[c]``. An object's extent (circle diameter, square side, triangle base) is drawn
    uniformly from ``size_range`` times ``size``. ``max_overlap`` is the largest IoU allowed
    between two objects' full boxes (0: objects at least one pixel apart, no occlusion);
    ``min_visible`` the fraction of an occluded object that must stay visible. ``texture``
    is the amplitude of a smooth background pattern, ``noise`` the standard deviation of
    Gaussian pixel noise (both in intensity units of [0, 1]); ``rotate`` turns squares and
    triangles by random angles; ``min_contrast`` is the smallest RGB distance between an
    object's colour and the background colour. See :class:`Scenes` for the returned arrays
    and the module docstring for how boxes, masks and occlusion agree.
    """
    classes = tuple(classes)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n: expected an int >= 0, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size: expected an int >= 8, got {size!r}")
    if not classes or len(set(classes)) != len(classes) or not set(classes) <= set(CLASSES):
        raise ValueError(f"classes: expected distinct names from {CLASSES}, got {classes!r}")
    if not isinstance(max_objects, (int, np.integer)) or max_objects < 1:
        raise ValueError(f"max_objects: expected an int >= 1, got {max_objects!r}")
    if not 1 <= min_objects <= max_objects:
        raise ValueError(f"min_objects: expected 1 <= min_objects <= max_objects={max_objects}, got {min_objects!r}")
    lo, hi = size_range
    if not (0 < lo <= hi <= 1) or lo * size < 4:
        raise ValueError(
            f"size_range: expected 0 < low <= high <= 1 with low * size >= 4 pixels, got {size_range!r}"
        )
    if not 0 <= max_overlap < 1:
        raise ValueError(f"max_overlap: expected a value in [0, 1), got {max_overlap!r}")
    if not 0 < min_visible <= 1:
        raise ValueError(f"min_visible: expected a value in (0, 1], got {min_visible!r}")
    if texture < 0 or noise < 0:
        raise ValueError(f"texture, noise: expected values >= 0, got {texture!r}, {noise!r}")

    n, size = int(n), int(size)
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_objects, max_objects + 1, n)
    total = int(counts.sum())
    all_labels = rng.permutation(np.arange(total) % len(classes))
    starts = np.concatenate([[0], np.cumsum(counts)])
    images, bg_colors = _backgrounds(rng, n, size, texture)

    semantic = np.zeros((n, size, size), np.uint8)
    boxes, labels, instances = [], [], []
    for i in range(n):
        img, sem = images[i], semantic[i]
        full: list[np.ndarray] = []  # full-size masks, in painting order
        exts: list[tuple[float, float, float, float]] = []
        kept: list[int] = []
        for label in all_labels[starts[i]:starts[i + 1]]:
            kind = classes[label]
            for attempt in range(60):
                # Shrink a little after each failed placement so crowded scenes still fit.
                extent = max(rng.uniform(lo, hi) * size * 0.97 ** attempt, 4.0)
                angle = rng.uniform(0, 2 * np.pi) if rotate and kind != "circle" else 0.0
                half = extent / 2.0 * (np.sqrt(2.0) if angle else 1.0)
                if 2 * half >= size:
                    continue
                cx, cy = rng.uniform(half, size - half, 2)
                ext, pts = _extent_box(kind, cx, cy, extent, angle)
                if max_overlap == 0:
                    if any(_too_close(ext, e, 1.0) for e in exts):
                        continue
                elif any(_iou(ext, e) > max_overlap for e in exts):
                    continue
                local, r0, c0 = _rasterise(kind, cx, cy, extent, ext, pts, size)
                if not local.any():
                    continue
                window = (slice(r0, r0 + local.shape[0]), slice(c0, c0 + local.shape[1]))
                mask = np.zeros((size, size), bool)
                mask[window] = local
                if max_overlap > 0 and full:
                    # Reject a placement that would hide too much of an earlier object.
                    vis = [(f & ~_hidden_after(full, k, mask)) for k, f in enumerate(full)]
                    if any(v.sum() < min_visible * f.sum() for v, f in zip(vis, full)):
                        continue
                full.append(mask)
                exts.append(ext)
                kept.append(int(label))
                img[window][local] = _object_color(rng, bg_colors[i], min_contrast)
                sem[window][local] = label + 1
                break
        # Visible instance masks: each object minus everything painted after it.
        inst = np.array(full, bool).reshape(len(full), size, size)
        if max_overlap > 0:
            covered = np.zeros((size, size), bool)
            for k in range(len(full) - 1, -1, -1):
                inst[k] &= ~covered
                covered |= full[k]
        box = np.zeros((len(full), 4), np.float32)
        for k, m in enumerate(inst):
            rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
            box[k] = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
        boxes.append(box)
        labels.append(np.array(kept, np.int64))
        instances.append(inst)
    if noise > 0:
        for a in range(0, n, 256):  # in chunks, to keep float32 noise memory small
            chunk = images[a:a + 256]
            chunk += noise * rng.standard_normal(chunk.shape, dtype=np.float32)
    np.clip(images, 0.0, 1.0, out=images)
    return Scenes(images, boxes, labels, instances, semantic, classes)


def _hidden_after(full: list[np.ndarray], k: int, new: np.ndarray) -> np.ndarray:
    """Pixels of object ``k`` hidden once ``new`` is painted: everything painted after it."""
    hidden = new.copy()
    for later in full[k + 1:]:
        hidden |= later
    return hidden


def make_shape_classification(
    n: int, size: int = 32, seed: int = 0, *, classes: Sequence[str] = CLASSES,
    size_range: tuple[float, float] = (0.35, 0.8), **kwargs,
) -> tuple[np.ndarray, np.ndarray]:
    """A one-object-per-image classification set: ``(x, y)``.

    x float32 (n, size, size, 3) in [0, 1]; y int64 (n,) class indices into ``classes``
    (balanced: counts differ by at most one). Other keyword arguments go to
    :func:`make_scenes` (``texture``, ``noise``, ``rotate``, ...).
    """
    scenes = make_scenes(n, size=size, max_objects=1, classes=classes, seed=seed,
                         size_range=size_range, **kwargs)
    y = np.array([lab[0] for lab in scenes.labels], np.int64) if n else np.zeros(0, np.int64)
    return scenes.images, y
