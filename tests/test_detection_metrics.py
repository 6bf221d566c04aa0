"""Tests for course_utils.metrics.detection: VOC all-point AP and mAP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.metrics import (
    MeanAP,
    average_precision,
    coco_map,
    mean_average_precision,
    precision_recall_curve,
)


def gt(boxes, labels):
    return {"boxes": np.asarray(boxes, float).reshape(-1, 4), "labels": np.asarray(labels, int)}


def pred(boxes, scores, labels):
    return {
        "boxes": np.asarray(boxes, float).reshape(-1, 4),
        "scores": np.asarray(scores, float),
        "labels": np.asarray(labels, int),
    }


GTS = [
    gt([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 0]),  # image 0: A, B (class 0)
    gt([[0, 0, 10, 10], [20, 20, 40, 40], [40, 0, 60, 20]], [0, 1, 1]),  # image 1: C; D, E
]


def test_perfect_detections_give_one():
    preds = [pred(g["boxes"], np.linspace(0.9, 0.5, len(g["labels"])), g["labels"]) for g in GTS]
    result = mean_average_precision(preds, GTS)
    assert isinstance(result, MeanAP)
    assert result.map == 1.0
    assert result.per_class == {0: 1.0, 1: 1.0}
    assert result.num_gt == {0: 3, 1: 2}


def test_no_detections_give_zero():
    preds = [pred(np.zeros((0, 4)), [], []) for _ in GTS]
    result = mean_average_precision(preds, GTS)
    assert result.map == 0.0
    assert result.per_class == {0: 0.0, 1: 0.0}


def worked_preds():
    return [
        pred(
            [[0, 0, 10, 10], [0, 0, 10, 9.5]],  # d1 (0.9) finds A; d2 (0.8) is a duplicate of A
            [0.9, 0.8],
            [0, 0],
        ),
        pred(
            [
                [50, 50, 60, 60],  # d3 (0.7), class 0: overlaps nothing
                [0, 0, 10, 10],  # d4 (0.6), class 0: finds C
                [25, 25, 45, 45],  # d5 (0.95), class 1: IoU with D = 225 / 575 = 0.391
                [20, 20, 40, 38],  # d6 (0.5), class 1: IoU with D = 360 / 400 = 0.9
            ],
            [0.7, 0.6, 0.95, 0.5],
            [0, 0, 1, 1],
        ),
    ]


def test_worked_partial_case_by_hand():
    # Class 0 (3 GT boxes A, B, C), ranked d1 d2 d3 d4 = TP FP FP TP (d2 hits A again):
    #   precision 1/1, 1/2, 1/3, 2/4;  recall 1/3, 1/3, 1/3, 2/3.
    #   Envelope: 1 up to recall 1/3, then max(2/4) = 0.5 up to recall 2/3, then 0 (B missed).
    #   AP_0 = (1/3 - 0) * 1 + (2/3 - 1/3) * 0.5 = 1/3 + 1/6 = 0.5.
    # Class 1 (2 GT boxes D, E), ranked d5 d6 = FP (IoU 0.391 < 0.5) TP:
    #   precision 0, 1/2;  recall 0, 1/2.  AP_1 = (1/2 - 0) * 1/2 = 0.25.
    # mAP = (0.5 + 0.25) / 2 = 0.375.
    result = mean_average_precision(worked_preds(), GTS, iou_threshold=0.5)
    assert math.isclose(result.per_class[0], 0.5)
    assert math.isclose(result.per_class[1], 0.25)
    assert math.isclose(result.map, 0.375)
    # At IoU 0.3, d5 (0.391) takes D and d6 becomes the duplicate:
    #   class 1 ranked TP FP, precision 1, 1/2, recall 1/2, 1/2 -> AP_1 = 1/2 * 1 = 0.5;
    #   class 0 is unchanged (0.5), so mAP = 0.5.
    loose = mean_average_precision(worked_preds(), GTS, iou_threshold=0.3)
    assert math.isclose(loose.per_class[1], 0.5)
    assert math.isclose(loose.map, 0.5)


def test_precision_recall_curve_worked_case():
    precision, recall, scores = precision_recall_curve(worked_preds(), GTS, class_id=0)
    assert np.allclose(precision, [1, 1 / 2, 1 / 3, 2 / 4])
    assert np.allclose(recall, [1 / 3, 1 / 3, 1 / 3, 2 / 3])
    assert np.allclose(scores, [0.9, 0.8, 0.7, 0.6])


def test_class_without_ground_truth_is_nan_and_left_out():
    preds = worked_preds()
    preds[0] = pred(np.r_[preds[0]["boxes"], [[5, 5, 9, 9]]], np.r_[preds[0]["scores"], 0.99],
                    np.r_[preds[0]["labels"], 2])
    result = mean_average_precision(preds, GTS, num_classes=4)
    assert set(result.per_class) == {0, 1, 2, 3}
    assert math.isnan(result.per_class[2]) and math.isnan(result.per_class[3])
    assert math.isclose(result.map, 0.375)


def test_image_order_does_not_matter():
    a = mean_average_precision(worked_preds(), GTS)
    b = mean_average_precision(worked_preds()[::-1], GTS[::-1])
    assert a == b


def reference_ap(tp, n_gt):
    """All-point AP written differently: each TP adds 1/n_gt of recall at the best precision
    reached at that rank or any later rank (the envelope)."""
    tp = np.asarray(tp, bool)
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return sum(precision[k:].max() / n_gt for k in np.flatnonzero(tp))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30), st.integers(0, 5))
def test_average_precision_matches_rank_formula(tp, extra_gt):
    tp = np.asarray(tp, bool)
    n_gt = int(tp.sum()) + extra_gt
    if n_gt == 0:
        return
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    recall = np.cumsum(tp) / n_gt
    ap = average_precision(precision, recall)
    assert 0.0 <= ap <= 1.0
    assert math.isclose(ap, reference_ap(tp, n_gt), abs_tol=1e-12)


def test_bad_input_names_argument():
    with pytest.raises(ValueError, match="same images"):
        mean_average_precision(worked_preds(), GTS[:1])
    with pytest.raises(ValueError, match="scores"):
        mean_average_precision([{"boxes": np.zeros((1, 4)), "labels": [0]}], GTS[:1])
    with pytest.raises(ValueError, match="iou_threshold"):
        mean_average_precision(worked_preds(), GTS, iou_threshold=0)
    with pytest.raises(ValueError, match="num_classes"):
        mean_average_precision(worked_preds(), GTS, num_classes=1)
    with pytest.raises(ValueError, match=r"preds\[0\]"):
        mean_average_precision([pred([[0, 0, 1, 1]], [0.5, 0.4], [0])], GTS[:1])


# A hand-computed ranking: TP, FP, TP, FP, TP with 4 ground-truth boxes (one never found).
HAND_PRECISION = [1, 1 / 2, 2 / 3, 2 / 4, 3 / 5]
HAND_RECALL = [0.25, 0.25, 0.5, 0.5, 0.75]


def test_all_point_ap_by_hand():
    # Envelope 1 on (0, .25], 2/3 on (.25, .5], 0.6 on (.5, .75], 0 after: area 17/30.
    assert average_precision(HAND_PRECISION, HAND_RECALL) == pytest.approx(0.25 + 0.25 * 2 / 3 + 0.25 * 0.6)


def test_11_point_ap_by_hand():
    # t = 0, .1, .2 -> 1; t = .3, .4, .5 -> 2/3; t = .6, .7 -> 0.6; t = .8, .9, 1 -> 0.
    expected = (3 * 1 + 3 * 2 / 3 + 2 * 0.6) / 11
    assert average_precision(HAND_PRECISION, HAND_RECALL, "11_point") == pytest.approx(expected)


def test_101_point_ap_by_hand():
    # t = 0 .. .25 (26 levels) -> 1; .26 .. .5 (25) -> 2/3; .51 .. .75 (25) -> 0.6; the rest 0.
    expected = (26 * 1 + 25 * 2 / 3 + 25 * 0.6) / 101
    assert average_precision(HAND_PRECISION, HAND_RECALL, "101_point") == pytest.approx(expected)


def test_interpolations_differ_and_bad_name_raises():
    values = {m: average_precision(HAND_PRECISION, HAND_RECALL, m) for m in ("all_point", "11_point", "101_point")}
    assert len({round(v, 6) for v in values.values()}) == 3
    with pytest.raises(ValueError, match="interpolation"):
        average_precision(HAND_PRECISION, HAND_RECALL, "voc")
    with pytest.raises(ValueError, match="interpolation"):
        mean_average_precision([pred([], [], [])], [gt([], [])], interpolation="voc")


def test_mean_average_precision_passes_interpolation_on():
    preds = [pred([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], [0.9, 0.8, 0.7], [0, 0, 0])]
    gts = [gt([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 0])]
    # TP, FP, TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
    assert mean_average_precision(preds, gts).map == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert mean_average_precision(preds, gts, interpolation="11_point").map == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_coco_map_by_hand():
    gts = [gt([[0, 0, 10, 10]], [0])]
    # IoU 0.72: a true positive at thresholds 0.50 .. 0.70 (5 of 10), a false positive above.
    preds = [pred([[0, 0, 10, 7.2]], [0.9], [0])]
    assert coco_map(preds, gts, num_classes=1) == pytest.approx(0.5)
    exact = [pred([[0, 0, 10, 10]], [0.9], [0])]
    assert coco_map(exact, gts, num_classes=1) == pytest.approx(1.0)
