"""Tests for the notebook 03 exercise checkers (right answer True, wrong False, None False)."""

from __future__ import annotations

from course_utils import exercises
from course_utils.exercises import nb03


def test_check_iou(capsys):
    # Intersection [6, 4, 10, 8] = 4 x 4 = 16; union = 8*6 + 8*8 - 16 = 96; IoU = 1/6.
    assert exercises.check_iou(1 / 6)
    assert exercises.check_iou(0.1667)
    assert "correct" in capsys.readouterr().out
    assert not exercises.check_iou(16 / 112)  # forgot to subtract the intersection
    assert not exercises.check_iou("a lot")
    assert not exercises.check_iou(float("nan"))
    assert not exercises.check_iou(None)
    assert "not answered" in capsys.readouterr().out


def test_check_anchor_match(capsys):
    # Anchors 34 and 35: cell (1, 1) centred on (12, 12), scale 16, ratios 1 and 2.
    assert exercises.check_anchor_match([34, 35])
    assert exercises.check_anchor_match((35, 34))
    assert not exercises.check_anchor_match([34])
    assert "missing" in capsys.readouterr().out
    assert not exercises.check_anchor_match([29, 34, 35, 41])  # the IoU >= 0.4 set
    assert not exercises.check_anchor_match(["x"])
    assert not exercises.check_anchor_match(None)


def test_check_nms(capsys):
    assert nb03.NMS_THRESHOLDS == (0.5, 0.7)
    # IoU(0, 1) = 0.681, IoU(0, 2) = 0.667, IoU(1, 2) = 0.681, IoU(3, 4) = 0.471.
    assert exercises.check_nms({0.5: [0, 3, 4], 0.7: [0, 1, 3, 2, 4]})
    assert exercises.check_nms({0.5: [4, 3, 0], 0.7: [0, 1, 2, 3, 4]})
    assert not exercises.check_nms({0.5: [0, 3], 0.7: [0, 1, 3, 2, 4]})
    assert "0.5" in capsys.readouterr().out
    assert not exercises.check_nms([[0, 3, 4], [0, 1, 2, 3, 4]])
    assert not exercises.check_nms({0.5: "abc", 0.7: [0]})
    assert not exercises.check_nms(None)
