"""Checkers for notebook 04 (FCN segmentation and U-Net).

The two masks of the IoU/Dice exercise live here (``MASK_A``, ``MASK_B``) so the notebook
shows exactly the masks the checker grades.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._check import feedback, not_answered, number

# The transposed-convolution exercise: a Conv2DTranspose with this kernel, stride and padding
# applied to an input of this height and width.
TRANSPOSED_INPUT = 9
TRANSPOSED_KERNEL = 5
TRANSPOSED_STRIDE = 3
TRANSPOSED_PADDING = "valid"

# Two 6x6 binary masks (1 = object): two 3x3 squares offset by one pixel down and right.
MASK_A = np.zeros((6, 6), dtype=np.uint8)
MASK_A[1:4, 1:4] = 1
MASK_B = np.zeros((6, 6), dtype=np.uint8)
MASK_B[2:5, 2:5] = 1


def check_transposed_output_size(answer: Any) -> bool:
    """Height of ``Conv2DTranspose(kernel_size=5, strides=3, padding="valid")`` on a 9x9 input.

    Expected: ``(n - 1) * s + k = 8 * 3 + 5 = 29``.
    """
    name = "transposed_output_size"
    if answer is None:
        return not_answered(name)
    n, k, s = TRANSPOSED_INPUT, TRANSPOSED_KERNEL, TRANSPOSED_STRIDE
    expected = (n - 1) * s + k
    value = number(answer)
    ok = value is not None and value == expected
    hint = "with 'valid' padding each of the n inputs stamps a k-wide kernel every s pixels: (n - 1) * s + k."
    if value == n * s:
        hint = "n * s is the size with padding='same'; here the padding is 'valid'."
    return feedback(name, ok, hint=hint, detail=f"(n - 1) * s + k = {expected}.")


def check_iou_dice(answer: Any) -> bool:
    """IoU and Dice of the object class (label 1) between ``MASK_A`` and ``MASK_B``.

    ``answer`` is a pair ``(iou, dice)``; fractions such as ``2/7`` are fine (tolerance 1e-3).
    """
    name = "iou_dice"
    if answer is None:
        return not_answered(name)
    try:
        iou, dice = (number(v) for v in answer)
    except (TypeError, ValueError):
        return feedback(name, False, hint="give a pair (iou, dice), e.g. (0.5, 0.6).")
    inter = int(np.sum((MASK_A == 1) & (MASK_B == 1)))
    union = int(np.sum((MASK_A == 1) | (MASK_B == 1)))
    total = int(MASK_A.sum() + MASK_B.sum())
    want_iou, want_dice = inter / union, 2 * inter / total
    ok_iou = iou is not None and abs(iou - want_iou) < 1e-3
    ok_dice = dice is not None and abs(dice - want_dice) < 1e-3
    if ok_iou and ok_dice:
        return feedback(name, True, detail=f"IoU = {inter}/{union}, Dice = {2 * inter}/{total}.")
    if ok_iou:
        hint = "IoU is right; Dice = 2 |A and B| / (|A| + |B|)."
    elif ok_dice:
        hint = "Dice is right; IoU = |A and B| / |A or B| (count the union once)."
    else:
        hint = "count the overlap |A and B|, the union |A or B| and the sizes |A|, |B| of the two masks."
    return feedback(name, False, hint=hint)


def check_dice_from_iou(answer: Callable[[float], float] | None) -> bool:
    """A function ``f(iou) -> dice`` that converts a class's IoU into its Dice coefficient.

    Checked at IoU = 0, 0.25, 0.5, 0.6, 0.9 and 1 against ``2 IoU / (1 + IoU)``.
    """
    name = "dice_from_iou"
    if answer is None:
        return not_answered(name)
    if not callable(answer):
        return feedback(name, False, hint="give a function, e.g. def dice_from_iou(iou): return ...")
    points = (0.0, 0.25, 0.5, 0.6, 0.9, 1.0)
    try:
        got = [number(answer(x)) for x in points]
    except Exception as exc:  # a student's function may fail in any way
        return feedback(name, False, hint=f"your function raised {type(exc).__name__}: {exc}")
    ok = all(g is not None and abs(g - 2 * x / (1 + x)) < 1e-6 for g, x in zip(got, points))
    return feedback(
        name,
        ok,
        hint="write TP, FP + FN in terms of IoU: with TP = 1, FP + FN = 1/IoU - 1; put that into Dice.",
        detail="Dice = 2 IoU / (1 + IoU): 0 and 1 agree, in between Dice is larger.",
    )
