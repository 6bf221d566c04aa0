"""Tests for course_utils.boxes: formats, IoU, anchors, offsets, matching and NMS.

References: keras.utils.bounding_boxes.compute_iou for IoU and
tf.image.non_max_suppression for NMS, plus hypothesis properties.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_utils import boxes as B

coord = st.floats(min_value=0, max_value=100, allow_nan=False, width=32)
size = st.floats(min_value=0.5, max_value=50, allow_nan=False, width=32)


@st.composite
def box_sets(draw, min_n=1, max_n=6):
    """(N, 4) xyxy boxes with positive width and height."""
    n = draw(st.integers(min_n, max_n))
    xy = draw(arrays(np.float64, (n, 2), elements=coord))
    wh = draw(arrays(np.float64, (n, 2), elements=size))
    return np.concatenate([xy, xy + wh], axis=1)


def random_boxes(rng, n, image=64.0, min_size=2.0, max_size=24.0):
    xy = rng.uniform(0, image, (n, 2))
    wh = rng.uniform(min_size, max_size, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# ---- formats -------------------------------------------------------------------------

def test_convert_known_values():
    xyxy = np.array([[10.0, 20.0, 30.0, 60.0]])
    assert np.allclose(B.convert(xyxy, "xyxy", "xywh"), [[10, 20, 20, 40]])
    assert np.allclose(B.convert(xyxy, "xyxy", "cxcywh"), [[20, 40, 20, 40]])
    assert np.allclose(B.convert([[20, 40, 20, 40]], "cxcywh", "xywh"), [[10, 20, 20, 40]])


@settings(max_examples=50, deadline=None)
@given(box_sets(), st.sampled_from(B.FORMATS), st.sampled_from(B.FORMATS))
def test_convert_round_trip(boxes, src, dst):
    there = B.convert(B.convert(boxes, "xyxy", src), src, dst)
    back = B.convert(B.convert(there, dst, src), src, "xyxy")
    assert np.allclose(back, boxes, atol=1e-9)


def test_convert_keeps_leading_shape():
    x = np.zeros((2, 3, 4))
    assert B.convert(x, "xywh", "cxcywh").shape == (2, 3, 4)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(boxes=[[0, 0, 1]], src="xyxy", dst="xywh"), "boxes"),
        (dict(boxes=[[0, 0, 1, 1]], src="yxyx", dst="xywh"), "src"),
        (dict(boxes=[[0, 0, 1, 1]], src="xyxy", dst="corners"), "dst"),
    ],
)
def test_convert_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        B.convert(**kwargs)


# ---- IoU -----------------------------------------------------------------------------

def test_iou_hand_computed():
    # [0,0,2,2] and [1,1,3,3] overlap in a 1x1 square: 1 / (4 + 4 - 1) = 1/7.
    out = B.iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 1, 2]])
    assert out.shape == (1, 4)
    assert np.allclose(out, [[1 / 7, 1.0, 0.0, 0.5]])


@settings(max_examples=60, deadline=None)
@given(box_sets(), box_sets())
def test_iou_symmetric_and_bounded(a, b):
    ab = B.iou(a, b)
    assert ab.shape == (len(a), len(b))
    assert np.allclose(ab, B.iou(b, a).T)
    assert np.all(ab >= 0) and np.all(ab <= 1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(box_sets())
def test_iou_identical_is_one(a):
    assert np.allclose(np.diag(B.iou(a, a)), 1.0)


@settings(max_examples=40, deadline=None)
@given(box_sets(), st.floats(min_value=0, max_value=50), st.booleans())
def test_iou_disjoint_is_zero(a, gap, along_x):
    # Shift a copy of the set past the right (or bottom) edge of every box.
    shift = a[:, 2].max() - a[:, 0].min() + gap if along_x else a[:, 3].max() - a[:, 1].min() + gap
    b = a + (np.array([shift, 0, shift, 0]) if along_x else np.array([0, shift, 0, shift]))
    assert np.all(B.iou(a, b) == 0)


def test_iou_zero_area_boxes_give_zero():
    assert B.iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0


def test_iou_matches_keras_compute_iou():
    from keras.utils.bounding_boxes import compute_iou

    rng = np.random.default_rng(0)
    a = random_boxes(rng, 30)
    b = random_boxes(rng, 20)
    # compute_iou(boxes1, boxes2, bounding_box_format) adds epsilon=1e-7 to the union.
    ref = np.asarray(compute_iou(a.astype("float32"), b.astype("float32"), "xyxy"))
    assert np.allclose(B.iou(a, b), ref, atol=1e-5)
    assert (ref > 0).sum() > 10  # the test set really has overlaps
    # The same boxes in xywh format, converted by Keras.
    ref_xywh = np.asarray(
        compute_iou(B.convert(a, "xyxy", "xywh").astype("float32"),
                    B.convert(b, "xyxy", "xywh").astype("float32"), "xywh")
    )
    assert np.allclose(B.iou(a, b), ref_xywh, atol=1e-5)


def test_iou_bad_shape():
    with pytest.raises(ValueError, match="b must"):
        B.iou([[0, 0, 1, 1]], [[0, 0, 1]])


# ---- anchors ------------------------------------------------------------------------

def test_make_anchors_order_and_shape():
    anchors = B.make_anchors(feature_size=(2, 3), image_size=(8, 12), scales=[2, 4], ratios=[1, 4])
    assert anchors.shape == (2 * 3 * 2 * 2, 4)
    grid = anchors.reshape(2, 3, 2, 2, 4)
    cxcywh = B.convert(grid, "xyxy", "cxcywh")
    # Cell (row 1, column 2) is centred on (2.5 * 4, 1.5 * 4) = (10, 6).
    assert np.allclose(cxcywh[1, 2, :, :, :2], [10, 6])
    # Scale 4, ratio 4 (w / h): w = 4 * 2 = 8, h = 4 / 2 = 2; the area stays 16.
    assert np.allclose(cxcywh[0, 0, 1, 1, 2:], [8, 2])
    assert np.allclose(B.area(anchors).reshape(2, 3, 2, 2)[..., 0, :], 4)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(feature_size=0, image_size=8, scales=[2]), "feature_size"),
        (dict(feature_size=2, image_size=(8, 8, 3), scales=[2]), "image_size"),
        (dict(feature_size=2, image_size=8, scales=[-1]), "scales"),
        (dict(feature_size=2, image_size=8, scales=[2], ratios=[0]), "ratios"),
    ],
)
def test_make_anchors_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        B.make_anchors(**kwargs)


def test_match_anchors_positive_negative_ignored():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 10, 8], [0, 0, 10, 5], [50, 50, 60, 60]], float)
    gt = np.array([[0, 0, 10, 10]], float)
    # IoUs with the box: 1, 0.8, 0.5, 0 -> positive, positive, ignored, negative (0.7 / 0.4).
    out = B.match_anchors(anchors, gt, pos_threshold=0.7, neg_threshold=0.4)
    assert out.tolist() == [0, 0, -2, -1]
    # A box with no anchor above the threshold still claims its best anchor.
    out = B.match_anchors(anchors[2:], gt, pos_threshold=0.7, neg_threshold=0.4)
    assert out.tolist() == [0, -1]
    assert B.match_anchors(anchors, np.zeros((0, 4))).tolist() == [-1] * 4
    with pytest.raises(ValueError, match="threshold"):
        B.match_anchors(anchors, gt, pos_threshold=0.3, neg_threshold=0.4)


# ---- encode / decode ----------------------------------------------------------------

def test_encode_known_values():
    anchor = np.array([[0.0, 0.0, 10.0, 20.0]])  # centre (5, 10), size 10 x 20
    box = np.array([[1.0, 2.0, 21.0, 22.0]])  # centre (11, 12), size 20 x 20
    t = B.encode(box, anchor, variances=(1, 1, 1, 1))
    assert np.allclose(t, [[0.6, 0.1, np.log(2), 0.0]])
    assert np.allclose(B.encode(box, anchor), t / np.array([0.1, 0.1, 0.2, 0.2]))


@settings(max_examples=50, deadline=None)
@given(box_sets(min_n=3, max_n=3), box_sets(min_n=3, max_n=3),
       st.sampled_from([(0.1, 0.1, 0.2, 0.2), (1.0, 1.0, 1.0, 1.0)]))
def test_encode_decode_round_trip(boxes, anchors, variances):
    t = B.encode(boxes, anchors, variances)
    assert np.allclose(B.decode(t, anchors, variances), boxes, atol=1e-6)


def test_decode_zero_offsets_gives_anchors():
    anchors = B.make_anchors(4, 32, [8, 16], [0.5, 1, 2])
    assert np.allclose(B.decode(np.zeros_like(anchors), anchors), anchors)


def test_encode_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        B.encode(np.ones((2, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="variances"):
        B.encode([[0, 0, 1, 1]], [[0, 0, 1, 1]], variances=(0.1, 0.2))
    with pytest.raises(ValueError, match="boxes"):
        B.encode([[0, 0, 0, 1]], [[0, 0, 1, 1]])


# ---- NMS -----------------------------------------------------------------------------

def test_nms_hand_example():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    # IoU(3, 0) = 0.9, IoU(3, 1) = 0.64, IoU(0, 1) = 81 / 119 = 0.68.
    assert B.nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert B.nms(boxes, scores, 0.7).tolist() == [3, 1, 2]
    assert B.nms(boxes, scores, 0.95).tolist() == [3, 0, 1, 2]
    assert B.nms(boxes, scores, 0.5, max_out=1).tolist() == [3]


def test_nms_threshold_is_strict_like_tensorflow():
    # IoU exactly 0.5: kept at threshold 0.5 (only IoU > threshold suppresses).
    boxes = np.array([[0, 0, 2, 1], [0, 0, 1, 1]], float)
    assert B.nms(boxes, [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert B.nms(boxes, [0.9, 0.8], 0.49).tolist() == [0]


def test_nms_per_class():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    scores = np.array([0.9, 0.8, 0.7])
    assert B.nms(boxes, scores, 0.5).tolist() == [0]
    assert B.nms(boxes, scores, 0.5, classes=[0, 1, 0]).tolist() == [0, 1]


def test_nms_empty():
    assert B.nms(np.zeros((0, 4)), np.zeros(0)).shape == (0,)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_tensorflow(seed, threshold):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    n = 60
    boxes = random_boxes(rng, n, image=40.0).astype(np.float32)
    scores = rng.permutation(n).astype(np.float32) / n  # distinct scores: no ties
    max_out = int(rng.integers(5, n))
    # TF takes (y1, x1, y2, x2); IoU is the same when both axes are swapped.
    ref = tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, max_out, threshold)
    ours = B.nms(boxes, scores, threshold, max_out=max_out)
    assert ours.tolist() == ref.numpy().tolist()


def test_nms_ties_taken_in_index_order_like_tensorflow():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    boxes = random_boxes(rng, 40, image=30.0).astype(np.float32)
    scores = rng.integers(0, 4, 40).astype(np.float32)  # many equal scores
    ref = tf.image.non_max_suppression(boxes, scores, 40, 0.4).numpy().tolist()
    assert B.nms(boxes, scores, 0.4).tolist() == ref


def test_nms_per_class_matches_tensorflow_per_class():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    boxes = random_boxes(rng, 50, image=30.0).astype(np.float32)
    scores = rng.permutation(50).astype(np.float32)
    classes = rng.integers(0, 3, 50)
    expected = []
    for c in range(3):
        idx = np.flatnonzero(classes == c)
        kept = tf.image.non_max_suppression(boxes[idx], scores[idx], 50, 0.5).numpy()
        expected += idx[kept].tolist()
    expected.sort(key=lambda i: -scores[i])
    assert B.nms(boxes, scores, 0.5, classes=classes).tolist() == expected


def test_nms_bad_input():
    with pytest.raises(ValueError, match="scores"):
        B.nms(np.zeros((3, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="iou_threshold"):
        B.nms(np.zeros((3, 4)), np.zeros(3), iou_threshold=1.5)
    with pytest.raises(ValueError, match="max_out"):
        B.nms(np.zeros((3, 4)), np.zeros(3), max_out=-1)
    with pytest.raises(ValueError, match="classes"):
        B.nms(np.zeros((3, 4)), np.zeros(3), classes=[0, 1])
