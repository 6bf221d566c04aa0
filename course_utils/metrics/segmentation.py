"""Semantic-segmentation metrics from a confusion matrix: pixel accuracy, IoU and Dice.

Every function takes integer label maps ``y_true`` and ``y_pred`` of the same shape (one
image ``(H, W)``, a batch ``(N, H, W)`` or any shape; all pixels are pooled over the
whole set, as in the PASCAL VOC benchmark) and ``num_classes`` ``C``; labels must lie in
``0 .. C-1``. Convention (PASCAL VOC): the background is a class like any other, so it
counts in the mean; a class absent from both the truth and the prediction has an
undefined IoU and Dice (0/0), reported as ``nan`` per class and left out of the mean.
This is also what ``keras.metrics.MeanIoU`` does.

For one class with true-positive, false-positive and false-negative pixel counts
``TP, FP, FN``: ``IoU = TP / (TP + FP + FN)`` and ``Dice = 2 TP / (2 TP + FP + FN)``,
so ``Dice = 2 IoU / (1 + IoU)`` and ``IoU <= Dice`` class by class.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "confusion_matrix",
    "dice",
    "mean_iou",
    "per_class_dice",
    "per_class_iou",
    "pixel_accuracy",
]


def _labels(name: str, values, num_classes: int) -> np.ndarray:
    """``values`` as a flat int64 array, checked to hold whole numbers in 0..num_classes-1."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{name} must hold whole-number class labels (take argmax of scores first), "
                f"got non-integer values of dtype {arr.dtype}"
            )
    flat = arr.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(
            f"{name} labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), "
            f"got values from {flat.min()} to {flat.max()}"
        )
    return flat


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Pixel confusion matrix ``(C, C)`` int64: entry ``[i, j]`` counts pixels of true class ``i``
    predicted as class ``j`` (rows = truth, columns = prediction, as in scikit-learn and Keras).

    ``y_true`` and ``y_pred`` are integer label maps of the same shape with labels in
    ``0 .. num_classes-1``; a shape mismatch, an out-of-range label, a non-integer label or
    an empty input raises ``ValueError``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
    if t_shape != p_shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {t_shape} and {p_shape} "
            "(pass label maps, e.g. argmax over the class axis of the scores)"
        )
    t = _labels("y_true", y_true, num_classes)
    p = _labels("y_pred", y_pred, num_classes)
    if t.size == 0:
        raise ValueError(f"y_true and y_pred are empty (shape {t_shape}); expected at least one pixel")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _tp_fp_fn(y_true, y_pred, num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp  # predicted as the class, truly another
    fn = cm.sum(axis=1) - tp  # truly the class, predicted as another
    return tp, fp, fn


def pixel_accuracy(y_true, y_pred, num_classes: int) -> float:
    """Fraction of pixels whose predicted label equals the true label, in ``[0, 1]``.

    Dominated by the largest class: a map that predicts background everywhere scores the
    background's share of the pixels.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    return float(np.trace(cm) / cm.sum())


def per_class_iou(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Intersection over union of each class, ``(C,)`` float64: ``TP / (TP + FP + FN)``.

    ``nan`` for a class absent from both ``y_true`` and ``y_pred`` (0/0).
    """
    tp, fp, fn = _tp_fp_fn(y_true, y_pred, num_classes)
    denom = tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, tp / np.where(denom > 0, denom, 1), np.nan)


def mean_iou(y_true, y_pred, num_classes: int) -> float:
    """Mean IoU over the classes present in the truth or the prediction (VOC convention).

    The background is class 0 and counts; a class absent from both maps is left out of
    the mean (its IoU is 0/0). Matches ``keras.metrics.MeanIoU(num_classes)``.
    """
    return float(np.nanmean(per_class_iou(y_true, y_pred, num_classes)))


def per_class_dice(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Dice coefficient (F1 score) of each class, ``(C,)`` float64: ``2 TP / (2 TP + FP + FN)``.

    ``nan`` for a class absent from both maps. Class by class ``Dice = 2 IoU / (1 + IoU)``.
    """
    tp, fp, fn = _tp_fp_fn(y_true, y_pred, num_classes)
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def dice(y_true, y_pred, num_classes: int) -> float:
    """Mean Dice over the classes present in the truth or the prediction (same convention as
    :func:`mean_iou`); see :func:`per_class_dice` for the per-class values."""
    return float(np.nanmean(per_class_dice(y_true, y_pred, num_classes)))
