"""Exercise checkers for notebook 03 (object detection).

* :func:`check_iou` - the IoU of the two boxes in :data:`IOU_BOXES`;
* :func:`check_anchor_match` - the anchors of :data:`ANCHOR_SETUP` that match its box;
* :func:`check_nms` - which boxes of :data:`NMS_BOXES` survive NMS at two thresholds.

Boxes are xyxy pixels, as in the notebook.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._check import feedback, not_answered

__all__ = [
    "ANCHOR_SETUP",
    "IOU_BOXES",
    "NMS_BOXES",
    "NMS_SCORES",
    "NMS_THRESHOLDS",
    "check_anchor_match",
    "check_iou",
    "check_nms",
]

#: Exercise 1: two boxes (x_min, y_min, x_max, y_max).
IOU_BOXES = ((2, 2, 10, 8), (6, 4, 14, 12))

#: Exercise 2: anchors from make_anchors(feature_size, image_size, scales, ratios), one box,
#: and the IoU an anchor needs to be a positive.
ANCHOR_SETUP = {
    "feature_size": 4,
    "image_size": 32,
    "scales": (8, 16),
    "ratios": (0.5, 1, 2),
    "box": (2, 6, 22, 18),
    "pos_threshold": 0.5,
}

#: Exercise 3: five detections of one class, their scores and two NMS thresholds.
NMS_BOXES = ((4, 4, 24, 24), (6, 6, 26, 26), (8, 4, 28, 24), (30, 30, 50, 50), (34, 34, 54, 54))
NMS_SCORES = (0.9, 0.85, 0.6, 0.8, 0.5)
NMS_THRESHOLDS = (0.5, 0.7)


def _expected_iou() -> float:
    from ..boxes import iou

    return float(iou([IOU_BOXES[0]], [IOU_BOXES[1]])[0, 0])


def _expected_anchors() -> set[int]:
    from ..boxes import iou, make_anchors

    s = ANCHOR_SETUP
    anchors = make_anchors(s["feature_size"], s["image_size"], s["scales"], s["ratios"])
    overlaps = iou(anchors, [s["box"]])[:, 0]
    return {int(i) for i in np.flatnonzero(overlaps >= s["pos_threshold"])}


def _expected_nms() -> dict[float, set[int]]:
    from ..boxes import nms

    return {t: {int(i) for i in nms(NMS_BOXES, NMS_SCORES, t)} for t in NMS_THRESHOLDS}


def _as_index_set(value: Any) -> set[int] | None:
    """A collection of integer indices as a set, or None when it is not one."""
    try:
        items = list(np.asarray(value).reshape(-1))
    except (TypeError, ValueError):
        return None
    out = set()
    for item in items:
        try:
            f = float(item)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(f) or f != int(f):
            return None
        out.add(int(f))
    return out


def check_iou(answer: Any) -> bool:
    """Exercise 1: the IoU of the two boxes in :data:`IOU_BOXES` (a number; 1e-3 tolerance)."""
    name = "IoU of two boxes"
    if answer is None:
        return not_answered(name)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return feedback(name, False, "give one number between 0 and 1.")
    ok = math.isfinite(value) and abs(value - _expected_iou()) <= 1e-3
    return feedback(
        name, ok, "intersection = overlap width x overlap height; union = area A + area B - "
        "intersection."
    )


def check_anchor_match(answer: Any) -> bool:
    """Exercise 2: the indices of the anchors whose IoU with the box is >= the threshold."""
    name = "anchors that match the box"
    if answer is None:
        return not_answered(name)
    got = _as_index_set(answer)
    if got is None:
        return feedback(name, False, "give a list of integer anchor indices, e.g. [3, 7].")
    expected = _expected_anchors()
    if got == expected:
        return feedback(name, True)
    hint = (
        "compute iou(anchors, [box]) for all anchors and keep the indices where it is >= "
        f"{ANCHOR_SETUP['pos_threshold']}."
    )
    if got < expected:
        hint = "some matching anchors are missing. " + hint
    elif got > expected:
        hint = "some of these anchors overlap too little. " + hint
    return feedback(name, False, hint)


def check_nms(answer: Any) -> bool:
    """Exercise 3: ``{threshold: kept indices}`` for both thresholds of :data:`NMS_THRESHOLDS`.

    The kept indices may be in any order.
    """
    name = "NMS at two thresholds"
    if answer is None:
        return not_answered(name)
    if not isinstance(answer, dict) or set(answer) != set(NMS_THRESHOLDS):
        return feedback(
            name, False, f"give a dict with the keys {NMS_THRESHOLDS}, each mapped to the list "
            "of kept box indices."
        )
    expected = _expected_nms()
    wrong = [t for t in NMS_THRESHOLDS if _as_index_set(answer[t]) != expected[t]]
    if not wrong:
        return feedback(name, True, detail="A higher threshold suppresses less.")
    return feedback(
        name, False, f"check the threshold(s) {wrong}: walk the boxes by descending score and "
        "drop each box whose IoU with an already kept box is greater than the threshold."
    )
