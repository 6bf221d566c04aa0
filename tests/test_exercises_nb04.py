"""Tests for the notebook 04 exercise checkers: right answers pass, wrong fail, None fails quietly."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import exercises
from course_utils.exercises import nb04


def test_transposed_output_size_matches_keras():
    import keras

    layer = keras.layers.Conv2DTranspose(
        1, nb04.TRANSPOSED_KERNEL, strides=nb04.TRANSPOSED_STRIDE, padding=nb04.TRANSPOSED_PADDING
    )
    n = nb04.TRANSPOSED_INPUT
    out = layer(np.zeros((1, n, n, 1), "float32"))
    assert nb04.check_transposed_output_size(out.shape[1])


def test_transposed_output_size(capsys):
    assert exercises.check_transposed_output_size(29)
    assert exercises.check_transposed_output_size(29.0)
    assert not exercises.check_transposed_output_size(27)  # n * s, the 'same' size
    assert "padding='same'" in capsys.readouterr().out
    assert not exercises.check_transposed_output_size(30)  # n * s + k - s + 1, an off-by-one
    assert not exercises.check_transposed_output_size(16)  # the example printed in section 3
    assert not exercises.check_transposed_output_size("twenty-nine")
    assert not exercises.check_transposed_output_size(None)
    assert "not answered" in capsys.readouterr().out


def test_iou_dice_matches_metrics():
    from course_utils.metrics import per_class_dice, per_class_iou

    iou = per_class_iou(nb04.MASK_A, nb04.MASK_B, 2)[1]
    dice = per_class_dice(nb04.MASK_A, nb04.MASK_B, 2)[1]
    assert exercises.check_iou_dice((iou, dice))


def test_iou_dice(capsys):
    assert exercises.check_iou_dice((2 / 7, 4 / 9))
    assert exercises.check_iou_dice([0.2857, 0.4444])
    assert not exercises.check_iou_dice((4 / 9, 2 / 7))
    assert not exercises.check_iou_dice((2 / 7, 0.5))
    assert "IoU is right" in capsys.readouterr().out
    assert not exercises.check_iou_dice((4 / 18, 4 / 9))
    assert "Dice is right" in capsys.readouterr().out
    assert not exercises.check_iou_dice(0.3)
    assert not exercises.check_iou_dice(("a", "b"))
    assert not exercises.check_iou_dice(None)
    assert "not answered" in capsys.readouterr().out


def test_dice_from_iou(capsys):
    assert exercises.check_dice_from_iou(lambda iou: 2 * iou / (1 + iou))
    assert exercises.check_dice_from_iou(np.vectorize(lambda iou: 2 * iou / (1 + iou)))
    assert not exercises.check_dice_from_iou(lambda iou: iou)
    assert not exercises.check_dice_from_iou(lambda iou: 2 * iou)
    assert not exercises.check_dice_from_iou(lambda iou: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not exercises.check_dice_from_iou(0.75)
    assert not exercises.check_dice_from_iou(None)
    assert "not answered" in capsys.readouterr().out


@pytest.mark.parametrize(
    "checker, answer",
    [
        (exercises.check_transposed_output_size, 29),
        (exercises.check_iou_dice, (2 / 7, 4 / 9)),
        (exercises.check_dice_from_iou, lambda x: 2 * x / (1 + x)),
    ],
)
def test_one_line_of_feedback(checker, answer, capsys):
    assert checker(answer) is True
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "correct" in out
