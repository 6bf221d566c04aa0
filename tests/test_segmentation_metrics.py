"""Tests for course_utils.metrics.segmentation: by hand, against Keras and scikit-learn, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_utils.metrics import segmentation as seg

# Two 4x4 masks worked out by hand (0 = background, 1 = object).
TRUTH = np.array([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
PRED = np.array([[0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0]])
# object: TP = 3, FP = 1, FN = 1 -> IoU 3/5, Dice 6/8; background: TP = 11, FP = 1, FN = 1.


def test_by_hand():
    cm = seg.confusion_matrix(TRUTH, PRED, 2)
    np.testing.assert_array_equal(cm, [[11, 1], [1, 3]])
    assert seg.pixel_accuracy(TRUTH, PRED, 2) == pytest.approx(14 / 16)
    np.testing.assert_allclose(seg.per_class_iou(TRUTH, PRED, 2), [11 / 13, 3 / 5])
    assert seg.mean_iou(TRUTH, PRED, 2) == pytest.approx((11 / 13 + 3 / 5) / 2)
    np.testing.assert_allclose(seg.per_class_dice(TRUTH, PRED, 2), [22 / 24, 6 / 8])
    assert seg.dice(TRUTH, PRED, 2) == pytest.approx((22 / 24 + 6 / 8) / 2)


def test_absent_class_is_nan_and_left_out_of_the_mean():
    # Class 2 appears in neither map: nan, and the mean is over classes 0 and 1 only.
    iou = seg.per_class_iou(TRUTH, PRED, 3)
    assert np.isnan(iou[2])
    assert seg.mean_iou(TRUTH, PRED, 3) == pytest.approx(seg.mean_iou(TRUTH, PRED, 2))
    assert np.isnan(seg.per_class_dice(TRUTH, PRED, 3)[2])
    assert seg.dice(TRUTH, PRED, 3) == pytest.approx(seg.dice(TRUTH, PRED, 2))
    # A class only predicted (a false alarm) counts, with IoU 0.
    pred = PRED.copy()
    pred[0, 0] = 2
    assert seg.per_class_iou(TRUTH, pred, 3)[2] == 0.0


def test_batches_pool_pixels_over_images():
    t = np.stack([TRUTH, np.zeros_like(TRUTH)])
    p = np.stack([PRED, np.zeros_like(PRED)])
    cm = seg.confusion_matrix(t, p, 2)
    np.testing.assert_array_equal(cm, [[27, 1], [1, 3]])


def test_matches_keras_mean_iou():
    import keras

    rng = np.random.default_rng(0)
    for num_classes in (2, 4, 6):
        t = rng.integers(0, num_classes, size=(3, 16, 16))
        p = np.where(rng.random(t.shape) < 0.6, t, rng.integers(0, num_classes, size=t.shape))
        p[p == num_classes - 1] = 0  # one class never predicted
        m = keras.metrics.MeanIoU(num_classes=num_classes)
        m.update_state(t, p)
        assert seg.mean_iou(t, p, num_classes) == pytest.approx(float(m.result()), abs=1e-6)
        np.testing.assert_array_equal(
            seg.confusion_matrix(t, p, num_classes), np.asarray(m.total_cm).astype(np.int64)
        )


def test_keras_and_ours_agree_when_a_class_is_absent():
    import keras

    m = keras.metrics.MeanIoU(num_classes=3)
    m.update_state(TRUTH, PRED)
    assert seg.mean_iou(TRUTH, PRED, 3) == pytest.approx(float(m.result()), abs=1e-6)


def test_matches_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, jaccard_score
    from sklearn.metrics import confusion_matrix as sk_cm

    rng = np.random.default_rng(1)
    t = rng.integers(0, 4, size=(2, 10, 10))
    p = rng.integers(0, 4, size=(2, 10, 10))
    np.testing.assert_array_equal(seg.confusion_matrix(t, p, 4), sk_cm(t.ravel(), p.ravel(), labels=range(4)))
    assert seg.pixel_accuracy(t, p, 4) == pytest.approx(accuracy_score(t.ravel(), p.ravel()))
    np.testing.assert_allclose(seg.per_class_iou(t, p, 4), jaccard_score(t.ravel(), p.ravel(), average=None))
    np.testing.assert_allclose(seg.per_class_dice(t, p, 4), f1_score(t.ravel(), p.ravel(), average=None))


label_maps = st.integers(1, 5).flatmap(
    lambda c: st.tuples(
        st.just(c),
        hnp.arrays(np.int64, (2, 6, 6), elements=st.integers(0, c - 1)),
        hnp.arrays(np.int64, (2, 6, 6), elements=st.integers(0, c - 1)),
    )
)


@settings(max_examples=60, deadline=None)
@given(label_maps)
def test_properties(data):
    c, t, p = data
    cm = seg.confusion_matrix(t, p, c)
    assert cm.sum() == t.size
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(t.ravel(), minlength=c))
    iou = seg.per_class_iou(t, p, c)
    d = seg.per_class_dice(t, p, c)
    np.testing.assert_array_equal(np.isnan(iou), np.isnan(d))
    ok = ~np.isnan(iou)
    assert np.all((iou[ok] >= 0) & (iou[ok] <= 1))
    assert np.all(iou[ok] <= d[ok] + 1e-12)  # IoU never exceeds Dice
    np.testing.assert_allclose(d[ok], 2 * iou[ok] / (1 + iou[ok]))  # Dice = 2 IoU / (1 + IoU)
    assert seg.mean_iou(t, p, c) <= seg.dice(t, p, c) + 1e-12
    # Symmetric in truth and prediction (IoU and Dice, not accuracy per class).
    np.testing.assert_allclose(seg.per_class_iou(p, t, c), iou)
    # A perfect prediction scores 1 everywhere it is defined.
    assert seg.mean_iou(t, t, c) == 1.0
    assert seg.dice(t, t, c) == 1.0
    assert seg.pixel_accuracy(t, t, c) == 1.0


@pytest.mark.parametrize(
    "t, p, c, match",
    [
        (np.zeros((4, 4), int), np.zeros((4, 5), int), 2, "same shape"),
        (np.zeros((4, 4), int), np.full((4, 4), 2), 2, "y_pred labels must lie in 0..1"),
        (np.full((4, 4), -1), np.zeros((4, 4), int), 2, "y_true labels"),
        (np.zeros((4, 4), int), np.full((4, 4), 0.5), 2, "whole-number"),
        (np.zeros((4, 4), int), np.zeros((4, 4), int), 0, "num_classes"),
        (np.zeros((0,), int), np.zeros((0,), int), 2, "empty"),
    ],
)
def test_bad_input_raises(t, p, c, match):
    with pytest.raises(ValueError, match=match):
        seg.mean_iou(t, p, c)


def test_scores_instead_of_labels_raise():
    scores = np.random.default_rng(0).random((4, 4, 3))
    with pytest.raises(ValueError, match="same shape"):
        seg.mean_iou(TRUTH, scores, 3)


def test_exported_from_metrics():
    import course_utils.metrics as metrics

    assert metrics.mean_iou is seg.mean_iou and metrics.dice is seg.dice
