"""Detection metrics of notebook 03: PASCAL VOC average precision and mean AP.

Input format (one entry per image, in the same order for predictions and ground truth):

* ``preds[i]`` is a dict with ``"boxes"`` (k, 4) xyxy pixels, ``"scores"`` (k,) and
  ``"labels"`` (k,) integer class indices;
* ``gts[i]`` is a dict with ``"boxes"`` (g, 4) xyxy pixels and ``"labels"`` (g,).

Matching follows the VOC development kit: within a class, detections from all images are
ranked by descending score; each one is compared with the ground-truth boxes of its image
and takes the one of highest IoU; if that IoU is at least ``iou_threshold`` and the box is
not yet taken, the detection is a true positive and the box is taken, otherwise (too little
overlap, or a duplicate of a box already found) it is a false positive. AP is the area under
the precision envelope over the whole recall axis ("all-point interpolation", VOC 2010 on).
Boxes are continuous pixel coordinates (width = x_max - x_min, no VOC "+1").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..boxes import iou


@dataclass(frozen=True)
class MeanAP:
    """Result of :func:`mean_average_precision`.

    ``map`` is the mean of the per-class APs over the classes that have ground truth;
    ``per_class`` maps class index -> AP (``nan`` for a class with no ground-truth box,
    which is left out of the mean); ``num_gt`` maps class index -> number of ground-truth
    boxes.
    """

    map: float
    per_class: dict[int, float] = field(default_factory=dict)
    num_gt: dict[int, int] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.map)


def _get(entry: Mapping, key: str, index: int, name: str, ndim: int) -> np.ndarray:
    if not isinstance(entry, Mapping) or key not in entry:
        raise ValueError(f"{name}[{index}] must be a dict with key {key!r}, got {entry!r:.80}")
    arr = np.asarray(entry[key])
    if arr.size == 0:
        return arr.reshape((0, 4) if ndim == 2 else (0,))
    if ndim == 2 and (arr.ndim != 2 or arr.shape[1] != 4):
        raise ValueError(f"{name}[{index}][{key!r}] must have shape (k, 4), got {arr.shape}")
    if ndim == 1 and arr.ndim != 1:
        raise ValueError(f"{name}[{index}][{key!r}] must have shape (k,), got {arr.shape}")
    return arr


def _validate(preds: Sequence[Mapping], gts: Sequence[Mapping]):
    if len(preds) != len(gts):
        raise ValueError(
            f"preds and gts must list the same images, got {len(preds)} and {len(gts)} entries"
        )
    p_list, g_list = [], []
    for i, (p, g) in enumerate(zip(preds, gts)):
        pb = _get(p, "boxes", i, "preds", 2).astype(np.float64)
        ps = _get(p, "scores", i, "preds", 1).astype(np.float64)
        pl = _get(p, "labels", i, "preds", 1).astype(np.int64)
        if not len(pb) == len(ps) == len(pl):
            raise ValueError(
                f"preds[{i}] has {len(pb)} boxes, {len(ps)} scores and {len(pl)} labels; "
                "expected the same number of each"
            )
        gb = _get(g, "boxes", i, "gts", 2).astype(np.float64)
        gl = _get(g, "labels", i, "gts", 1).astype(np.int64)
        if len(gb) != len(gl):
            raise ValueError(f"gts[{i}] has {len(gb)} boxes and {len(gl)} labels; expected equal")
        p_list.append((pb, ps, pl))
        g_list.append((gb, gl))
    return p_list, g_list


def _match_class(p_list, g_list, cls: int, iou_threshold: float):
    """Ranked true-positive flags, ranked scores and the number of GT boxes of class ``cls``."""
    n_gt = int(sum(np.sum(gl == cls) for _, gl in g_list))
    scores, images, boxes = [], [], []
    for i, (pb, ps, pl) in enumerate(p_list):
        sel = pl == cls
        scores.append(ps[sel])
        boxes.append(pb[sel])
        images.append(np.full(int(sel.sum()), i))
    scores = np.concatenate(scores) if scores else np.zeros(0)
    boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    images = np.concatenate(images) if images else np.zeros(0, dtype=int)
    order = np.argsort(-scores, kind="stable")
    gt_boxes = [gb[gl == cls] for gb, gl in g_list]
    taken = [np.zeros(len(b), dtype=bool) for b in gt_boxes]
    tp = np.zeros(len(order), dtype=bool)
    for rank, d in enumerate(order):
        gb = gt_boxes[images[d]]
        if len(gb) == 0:
            continue
        overlaps = iou(boxes[d], gb)[0]
        best = int(np.argmax(overlaps))
        if overlaps[best] >= iou_threshold and not taken[images[d]][best]:
            tp[rank] = True
            taken[images[d]][best] = True
    return tp, scores[order], n_gt


def _pr_from_flags(tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    ctp = np.cumsum(tp)
    cfp = np.cumsum(~tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.maximum(ctp + cfp, 1)
    return precision.astype(np.float64), recall.astype(np.float64)


INTERPOLATIONS = ("all_point", "11_point", "101_point")


def average_precision(precision, recall, interpolation: str = "all_point") -> float:
    """Interpolated average precision from a ranked precision-recall curve.

    ``precision`` and ``recall`` are the values after each ranked detection. Three rules:

    * ``"all_point"`` (PASCAL VOC 2010 on; Everingham et al., IJCV 2015): pad the curve with
      recall 0 and 1 (precision 0 at the end), replace precision by its running maximum from
      the right (the envelope) and sum the area over the recall steps,
      ``AP = sum_k (r_k - r_{k-1}) * p_interp(r_k)``.
    * ``"11_point"`` (PASCAL VOC 2007; Everingham et al., IJCV 2010): the mean over the 11
      recall levels t = 0, 0.1, ..., 1 of ``p_interp(t) = max(precision[recall >= t])``
      (0 where no point reaches recall t).
    * ``"101_point"`` (COCO): the same mean over t = 0, 0.01, ..., 1.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    p = np.asarray(precision, dtype=np.float64).reshape(-1)
    r = np.asarray(recall, dtype=np.float64).reshape(-1)
    if p.shape != r.shape:
        raise ValueError(f"precision and recall must have the same shape, got {p.shape}, {r.shape}")
    if interpolation != "all_point":
        levels = np.linspace(0.0, 1.0, 11 if interpolation == "11_point" else 101)
        return float(np.mean([p[r >= t - 1e-12].max() if np.any(r >= t - 1e-12) else 0.0 for t in levels]))
    mrec = np.concatenate([[0.0], r, [1.0]])
    mpre = np.concatenate([[0.0], p, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def precision_recall_curve(
    preds: Sequence[Mapping],
    gts: Sequence[Mapping],
    class_id: int,
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall of class ``class_id`` after each ranked detection.

    Returns ``(precision, recall, scores)``, three float arrays of shape (D,) for the D
    detections of that class sorted by descending score (``scores`` are the thresholds at
    which each point is reached). Plot ``recall`` on x and ``precision`` on y.
    """
    _check_threshold(iou_threshold)
    p_list, g_list = _validate(preds, gts)
    tp, scores, n_gt = _match_class(p_list, g_list, int(class_id), iou_threshold)
    precision, recall = _pr_from_flags(tp, n_gt)
    return precision, recall, scores


def _check_threshold(iou_threshold: float) -> None:
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")


def mean_average_precision(
    preds: Sequence[Mapping],
    gts: Sequence[Mapping],
    iou_threshold: float = 0.5,
    num_classes: int | None = None,
    interpolation: str = "all_point",
) -> MeanAP:
    """PASCAL VOC mean average precision at one IoU threshold (e.g. mAP@0.5).

    ``preds`` and ``gts`` are lists with one dict per image (see the module docstring).
    Classes are ``0 .. num_classes - 1`` when ``num_classes`` is given, otherwise every label
    seen in ``gts`` or ``preds``. A class with ground truth but no detection has AP 0; a
    class without ground truth has AP ``nan`` and does not count in the mean. Returns a
    :class:`MeanAP` with ``.map``, ``.per_class`` and ``.num_gt``. ``interpolation`` picks
    the AP rule of :func:`average_precision` (``"all_point"``, ``"11_point"``, ``"101_point"``).
    """
    _check_threshold(iou_threshold)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    p_list, g_list = _validate(preds, gts)
    if num_classes is not None:
        if int(num_classes) != num_classes or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int or None, got {num_classes!r}")
        classes = list(range(int(num_classes)))
        seen = {int(c) for _, gl in g_list for c in gl} | {int(c) for *_, pl in p_list for c in pl}
        bad = sorted(c for c in seen if not 0 <= c < num_classes)
        if bad:
            raise ValueError(f"labels {bad} are outside 0..{num_classes - 1} (num_classes)")
    else:
        labels = [gl for _, gl in g_list] + [pl for *_, pl in p_list]
        classes = sorted({int(c) for arr in labels for c in arr})
    per_class, num_gt = {}, {}
    for c in classes:
        tp, _, n_gt = _match_class(p_list, g_list, c, iou_threshold)
        num_gt[c] = n_gt
        if n_gt == 0:
            per_class[c] = float("nan")
            continue
        precision, recall = _pr_from_flags(tp, n_gt)
        per_class[c] = average_precision(precision, recall, interpolation) if len(tp) else 0.0
    valid = [v for v in per_class.values() if not np.isnan(v)]
    return MeanAP(map=float(np.mean(valid)) if valid else float("nan"),
                  per_class=per_class, num_gt=num_gt)


COCO_IOU_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))


def coco_map(
    preds: Sequence[Mapping],
    gts: Sequence[Mapping],
    num_classes: int | None = None,
) -> float:
    """COCO-style AP@[.5:.95]: the mean of the 101-point mAP over the IoU thresholds
    0.50, 0.55, ..., 0.95.

    Matching stays the VOC rule of this module (each detection is compared with its
    best-IoU box only); the COCO evaluator instead lets a detection take the best box that
    is still free, and also ignores "crowd" boxes, so on real COCO data the numbers can differ
    slightly. No area ranges (AP_S/M/L) and no 100-detection cap are applied.
    """
    return float(np.mean([
        mean_average_precision(preds, gts, t, num_classes, interpolation="101_point").map
        for t in COCO_IOU_THRESHOLDS
    ]))
