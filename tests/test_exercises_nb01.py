"""The notebook 01 exercise checkers: right answers pass, wrong ones fail, None is 'not answered'."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import exercises

SOBEL_Y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float)


def _avg_kernel() -> np.ndarray:
    w = np.zeros((2, 2, 3, 3))
    for c in range(3):
        w[:, :, c, c] = 0.25
    return w


@pytest.mark.parametrize(
    "checker, right, wrongs",
    [
        (exercises.check_output_size, 55, [54, 56, 57, "x", 55.5]),
        (exercises.check_horizontal_edge_kernel, SOBEL_Y, [SOBEL_Y.T, np.ones((3, 3)), np.zeros((3, 3)), [1, 2]]),
        (exercises.check_param_count, 12832, [12800, 1000, 12832.5]),
        (exercises.check_avg_pool_as_conv, _avg_kernel(), [np.full((2, 2, 3, 3), 0.25), np.ones((2, 2, 3, 3)), np.zeros((2, 2, 3))]),
    ],
)
def test_checker(checker, right, wrongs, capsys):
    assert checker(right) is True
    assert "correct" in capsys.readouterr().out
    for wrong in wrongs:
        assert checker(wrong) is False
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "not yet" in out
    assert checker(None) is False
    assert "not answered" in capsys.readouterr().out


def test_other_right_answers(capsys):
    # A simple difference kernel, a 2x1 kernel and a numpy integer also count.
    assert exercises.check_horizontal_edge_kernel([[-1, -1, -1], [1, 1, 1]])
    assert exercises.check_horizontal_edge_kernel(-SOBEL_Y)
    assert exercises.check_output_size(np.int64(55))
    assert exercises.check_param_count(np.array(12832))


def test_param_count_hint_mentions_bias(capsys):
    assert not exercises.check_param_count(5 * 5 * 16 * 32)
    assert "bias" in capsys.readouterr().out
