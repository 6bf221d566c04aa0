"""The notebook 08 exercise checkers: right answers pass, wrong fail, None is 'not answered'."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

from course_utils.exercises import check_eer, check_far_frr, check_triplet_loss, nb08


def test_eer(capsys):
    assert check_eer(0.25)
    assert not check_eer(0.5)
    assert not check_eer(25)
    assert "fraction" in capsys.readouterr().out
    assert not check_eer("x")
    assert not check_eer(None)
    assert "not answered" in capsys.readouterr().out


def test_eer_answer_by_sklearn():
    # at the threshold 0.6 one of four impostors is accepted and one of four genuine pairs rejected
    y = [1] * 4 + [0] * 4
    fpr, tpr, thr = roc_curve(y, nb08.EER_GENUINE + nb08.EER_IMPOSTOR, drop_intermediate=False)
    k = int(np.argmin(np.abs(fpr - (1 - tpr))))
    assert fpr[k] == 1 - tpr[k] == 0.25 and thr[k] == 0.6


def test_triplet_loss(capsys):
    t = nb08.TRIPLET
    a, p, n = (np.array(t[k]) for k in ("anchor", "positive", "negative"))
    by_hand = np.sum((a - p) ** 2) - np.sum((a - n) ** 2) + t["margin"]  # 0.8 - 0.4 + 0.2
    assert np.isclose(by_hand, 0.6)
    assert check_triplet_loss(0.6)
    assert not check_triplet_loss(0.0)
    assert "closer" in capsys.readouterr().out
    assert not check_triplet_loss(np.sqrt(0.8) - np.sqrt(0.4) + 0.2)  # with distances, not squared
    assert not check_triplet_loss(None)


def test_far_frr():
    right = {0.3: (0.6, 0.0), 0.5: (0.2, 0.2), 0.7: (0.0, 0.6)}
    assert check_far_frr(right)
    assert not check_far_frr({0.3: (0.0, 0.6), 0.5: (0.2, 0.2), 0.7: (0.6, 0.0)})  # swapped
    assert not check_far_frr({0.3: (0.6, 0.0)})
    assert not check_far_frr([1, 2])
    assert not check_far_frr({0.3: "a", 0.5: (0.2, 0.2), 0.7: (0.0, 0.6)})
    assert not check_far_frr(None)
