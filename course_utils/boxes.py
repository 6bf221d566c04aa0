"""Bounding-box maths taught in notebook 03: formats, IoU, anchors, offsets and NMS.

Boxes are NumPy arrays of shape ``(N, 4)`` in pixels. The default format is ``"xyxy"``:
``(x_min, y_min, x_max, y_max)`` with ``x_max`` one past the last column, so the width is
``x_max - x_min`` (no "+1"). The other formats are ``"xywh"`` (top-left corner, width,
height) and ``"cxcywh"`` (centre, width, height). Everything here is plain NumPy; the tests
check it against ``keras.utils.bounding_boxes.compute_iou`` and
``tf.image.non_max_suppression``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

FORMATS = ("xyxy", "xywh", "cxcywh")

#: Default variances of the box encoding (SSD's 0.1 for the centre, 0.2 for the size).
VARIANCES = (0.1, 0.1, 0.2, 0.2)


def _as_boxes(boxes, name: str) -> np.ndarray:
    """``boxes`` as a float64 array of shape (..., 4), or a ValueError naming ``name``."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 4:
        raise ValueError(f"{name} must have shape (..., 4), got shape {arr.shape}")
    return arr


def _as_pairs(boxes, name: str) -> np.ndarray:
    """``boxes`` as a float64 array of shape (N, 4) (a single box (4,) becomes (1, 4))."""
    arr = _as_boxes(boxes, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, 4), got shape {arr.shape}")
    return arr


def _check_format(fmt: str, name: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ValueError(f"{name} must be one of {FORMATS}, got {fmt!r}")
    return fmt.lower()


def convert(boxes, src: str, dst: str) -> np.ndarray:
    """Convert boxes of shape (..., 4) from format ``src`` to format ``dst``.

    Formats: ``"xyxy"`` (corners), ``"xywh"`` (top-left corner, width, height) and
    ``"cxcywh"`` (centre, width, height), all in pixels. Returns a new float array of the
    same shape. Example: ``convert([[10, 20, 30, 60]], "xyxy", "cxcywh")`` gives
    ``[[20, 40, 20, 40]]``.
    """
    arr = _as_boxes(boxes, "boxes")
    src = _check_format(src, "src")
    dst = _check_format(dst, "dst")
    a, b, c, d = np.moveaxis(arr, -1, 0)
    if src == "xyxy":
        x0, y0, x1, y1 = a, b, c, d
    elif src == "xywh":
        x0, y0, x1, y1 = a, b, a + c, b + d
    else:  # cxcywh
        x0, y0, x1, y1 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if dst == "xyxy":
        out = (x0, y0, x1, y1)
    elif dst == "xywh":
        out = (x0, y0, x1 - x0, y1 - y0)
    else:
        out = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)
    return np.stack(out, axis=-1)


def area(boxes) -> np.ndarray:
    """Areas of xyxy boxes of shape (..., 4), in square pixels; inverted boxes count as 0."""
    arr = _as_boxes(boxes, "boxes")
    w = np.clip(arr[..., 2] - arr[..., 0], 0, None)
    h = np.clip(arr[..., 3] - arr[..., 1], 0, None)
    return w * h


def iou(a, b) -> np.ndarray:
    """Pairwise intersection over union of xyxy boxes: (N, 4) x (M, 4) -> (N, M).

    ``IoU = |A ∩ B| / |A ∪ B|``, computed for every pair at once by broadcasting. A single
    box of shape (4,) is treated as (1, 4). A pair whose union is empty (two zero-area boxes)
    has IoU 0.
    """
    a = _as_pairs(a, "a")
    b = _as_pairs(b, "b")
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = area(a)[:, None] + area(b)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def _pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints as ``(height, width)``; ValueError naming ``name`` otherwise."""
    vals = (value, value) if np.isscalar(value) else tuple(value)
    if len(vals) != 2 or any(int(v) != v or v <= 0 for v in vals):
        raise ValueError(f"{name} must be a positive int or (height, width), got {value!r}")
    return int(vals[0]), int(vals[1])


def make_anchors(
    feature_size: int | Sequence[int],
    image_size: int | Sequence[int],
    scales: Sequence[float],
    ratios: Sequence[float] = (1.0,),
) -> np.ndarray:
    """Anchor boxes tiled over a feature map, in xyxy pixels, shape (Fh * Fw * S * R, 4).

    The feature map of ``feature_size`` = ``(Fh, Fw)`` cells covers the image of
    ``image_size`` = ``(H, W)`` pixels, so a cell is ``H / Fh`` by ``W / Fw`` pixels and its
    anchors are centred on the cell centre. ``scales`` are anchor sizes in pixels (the square
    root of the area) and ``ratios`` are aspect ratios ``width / height``: an anchor of scale
    ``s`` and ratio ``r`` is ``s * sqrt(r)`` wide and ``s / sqrt(r)`` high. Order: row of the
    feature map, then column, then scale, then ratio (the last varies fastest), so the result
    reshapes to ``(Fh, Fw, S, R, 4)``.
    """
    fh, fw = _pair(feature_size, "feature_size")
    h, w = _pair(image_size, "image_size")
    scales = np.asarray(scales, dtype=np.float64).reshape(-1)
    ratios = np.asarray(ratios, dtype=np.float64).reshape(-1)
    if scales.size == 0 or np.any(scales <= 0):
        raise ValueError(f"scales must be positive sizes in pixels, got {scales.tolist()}")
    if ratios.size == 0 or np.any(ratios <= 0):
        raise ValueError(f"ratios must be positive width/height ratios, got {ratios.tolist()}")
    cy = (np.arange(fh) + 0.5) * (h / fh)
    cx = (np.arange(fw) + 0.5) * (w / fw)
    aw = scales[:, None] * np.sqrt(ratios)[None, :]  # (S, R)
    ah = scales[:, None] / np.sqrt(ratios)[None, :]
    cy, cx, aw, ah = np.broadcast_arrays(
        cy[:, None, None, None], cx[None, :, None, None], aw[None, None], ah[None, None]
    )
    cxcywh = np.stack([cx, cy, aw, ah], axis=-1).reshape(-1, 4)
    return convert(cxcywh, "cxcywh", "xyxy")


def match_anchors(
    anchors, gt_boxes, pos_threshold: float = 0.5, neg_threshold: float = 0.4
) -> np.ndarray:
    """Assign each anchor to a ground-truth box by IoU (RetinaNet's 0.5 / 0.4 rule by default).

    Returns an int array of shape (A,): the index of the matched ground-truth box for a
    positive anchor (best IoU ``>= pos_threshold``), ``-1`` for a negative (background,
    best IoU ``< neg_threshold``) and ``-2`` for an ignored anchor in between. Every
    ground-truth box also claims its single best anchor (if it overlaps any), so an object is
    rarely left unmatched; two boxes that share a best anchor leave it to the later one.
    """
    anchors = _as_pairs(anchors, "anchors")
    gt = np.asarray(gt_boxes, dtype=np.float64)
    gt = _as_pairs(gt.reshape(0, 4) if gt.size == 0 else gt, "gt_boxes")
    if not 0 <= neg_threshold <= pos_threshold <= 1:
        raise ValueError(
            "thresholds must satisfy 0 <= neg_threshold <= pos_threshold <= 1, got "
            f"neg_threshold={neg_threshold}, pos_threshold={pos_threshold}"
        )
    out = np.full(len(anchors), -1, dtype=np.int64)
    if len(gt) == 0:
        return out
    overlaps = iou(anchors, gt)  # (A, G)
    best_gt = overlaps.argmax(axis=1)
    best = overlaps.max(axis=1)
    out[best >= pos_threshold] = best_gt[best >= pos_threshold]
    out[(best >= neg_threshold) & (best < pos_threshold)] = -2
    for g, a in enumerate(overlaps.argmax(axis=0)):
        if overlaps[a, g] > 0:
            out[a] = g
    return out


def _check_variances(variances) -> np.ndarray:
    v = np.asarray(variances, dtype=np.float64)
    if v.shape != (4,) or np.any(v <= 0):
        raise ValueError(f"variances must be 4 positive numbers, got {variances!r}")
    return v


def encode(boxes, anchors, variances: Sequence[float] = VARIANCES) -> np.ndarray:
    """Offsets that turn each anchor into its box, shape (N, 4), as in Faster R-CNN and SSD.

    ``boxes`` and ``anchors`` are matched xyxy pairs of shape (N, 4). With centres
    ``(x, y)``, sizes ``(w, h)`` and the anchor's marked ``a``::

        t_x = (x - x_a) / w_a / v_0        t_w = log(w / w_a) / v_2
        t_y = (y - y_a) / h_a / v_1        t_h = log(h / h_a) / v_3

    Centre shifts are measured in anchor sizes and sizes in log-ratios, so the targets do
    not depend on the object's scale; the variances ``v`` rescale them to about unit spread.
    Boxes and anchors must have positive width and height.
    """
    b = _as_pairs(boxes, "boxes")
    a = _as_pairs(anchors, "anchors")
    if b.shape != a.shape:
        raise ValueError(f"boxes and anchors must have the same shape, got {b.shape} and {a.shape}")
    v = _check_variances(variances)
    bc = convert(b, "xyxy", "cxcywh")
    ac = convert(a, "xyxy", "cxcywh")
    if np.any(bc[:, 2:] <= 0):
        raise ValueError("boxes must have positive width and height to be encoded")
    if np.any(ac[:, 2:] <= 0):
        raise ValueError("anchors must have positive width and height")
    t = np.concatenate(
        [(bc[:, :2] - ac[:, :2]) / ac[:, 2:], np.log(bc[:, 2:] / ac[:, 2:])], axis=1
    )
    return t / v


def decode(offsets, anchors, variances: Sequence[float] = VARIANCES) -> np.ndarray:
    """The inverse of :func:`encode`: xyxy boxes of shape (N, 4) from offsets and anchors.

    ``x = x_a + v_0 t_x w_a``, ``y = y_a + v_1 t_y h_a``, ``w = w_a exp(v_2 t_w)``,
    ``h = h_a exp(v_3 t_h)``.
    """
    t = _as_pairs(offsets, "offsets")
    a = _as_pairs(anchors, "anchors")
    if t.shape != a.shape:
        raise ValueError(
            f"offsets and anchors must have the same shape, got {t.shape} and {a.shape}"
        )
    t = t * _check_variances(variances)
    ac = convert(a, "xyxy", "cxcywh")
    centre = ac[:, :2] + t[:, :2] * ac[:, 2:]
    size = ac[:, 2:] * np.exp(t[:, 2:])
    return convert(np.concatenate([centre, size], axis=1), "cxcywh", "xyxy")


def _nms_one(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy NMS on one class: indices kept, best score first."""
    order = np.argsort(-scores, kind="stable")  # ties: the lower index first, like TF
    keep: list[int] = []
    suppressed = np.zeros(len(boxes), dtype=bool)
    overlaps = iou(boxes, boxes)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= overlaps[i] > iou_threshold
    return keep


def nms(
    boxes,
    scores,
    iou_threshold: float = 0.5,
    max_out: int | None = None,
    classes=None,
) -> np.ndarray:
    """Greedy non-maximum suppression; the indices of the kept boxes, best score first.

    Take the highest-scoring box, drop every remaining box whose IoU with it is strictly
    greater than ``iou_threshold`` (the comparison ``tf.image.non_max_suppression`` uses),
    repeat. With ``classes`` (shape (N,), integer labels) boxes only suppress boxes of their
    own class; without, NMS is class-agnostic. ``max_out`` caps the number of boxes returned.
    Equal scores are taken in index order. Returns an int64 array of shape (K,).
    """
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        b = b.reshape(0, 4)
    b = _as_pairs(b, "boxes")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape[0] != b.shape[0]:
        raise ValueError(
            f"scores must have shape ({len(b)},) to match boxes, got {np.shape(scores)}"
        )
    if not 0 <= iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    if max_out is not None and (int(max_out) != max_out or max_out < 0):
        raise ValueError(f"max_out must be a non-negative int or None, got {max_out!r}")
    if classes is None:
        keep = _nms_one(b, s, iou_threshold)
    else:
        c = np.asarray(classes).reshape(-1)
        if c.shape[0] != b.shape[0]:
            raise ValueError(
                f"classes must have shape ({len(b)},) to match boxes, got {np.shape(classes)}"
            )
        keep = []
        for label in np.unique(c):
            idx = np.flatnonzero(c == label)
            keep += [int(idx[k]) for k in _nms_one(b[idx], s[idx], iou_threshold)]
        keep.sort(key=lambda i: (-s[i], i))
    if max_out is not None:
        keep = keep[: int(max_out)]
    return np.asarray(keep, dtype=np.int64)
