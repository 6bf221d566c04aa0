"""Tests for the notebook-09 exercise checkers."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import nb09
from course_utils import diffusion


def _one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def test_alpha_bar(capsys):
    assert nb09.check_alpha_bar(0.9 * 0.8 * 0.7) is True
    assert "0.504" in _one_line(capsys)
    assert nb09.check_alpha_bar(np.float32(0.504)) is True
    _one_line(capsys)
    for wrong, word in ((0.7, "alpha_t"), (0.4, "summed"), (0.72, "count"), (0.3024, "count"),
                        (np.sqrt(0.504), "sqrt"), (0.9, "")):
        assert nb09.check_alpha_bar(wrong) is False
        assert word in _one_line(capsys)
    assert nb09.check_alpha_bar("half") is False
    _one_line(capsys)
    assert nb09.check_alpha_bar([0.5, 0.4]) is False
    _one_line(capsys)
    assert nb09.check_alpha_bar(None) is False
    assert "not answered" in _one_line(capsys)


def test_alpha_bar_agrees_with_the_recipe_schedule():
    s = nb09.SCHEDULE
    sch = diffusion.make_schedule("linear", s["T"], beta_1=s["beta_1"], beta_T=s["beta_T"])
    assert nb09.check_alpha_bar(sch["alpha_bar"][s["t"] - 1])  # code index t - 1 is step t


def test_ddim_update(capsys):
    s = nb09.DDIM_STEP
    x_prev, x0 = diffusion.ddim_step(np.array([s["x_t"]]), np.array([s["eps_hat"]]), s["alpha_bar_t"],
                                     s["alpha_bar_prev"])
    assert nb09.check_ddim_update(float(x_prev[0])) is True
    assert "correct" in _one_line(capsys)
    assert nb09.check_ddim_update(float(x0[0])) is False
    assert "x0_hat" in _one_line(capsys)
    assert nb09.check_ddim_update(0.9 * float(x0[0])) is False
    assert "keeps the predicted noise" in _one_line(capsys)
    assert nb09.check_ddim_update(0.3) is False
    assert "subtracting" in _one_line(capsys)
    assert nb09.check_ddim_update(0.0) is False
    _one_line(capsys)
    assert nb09.check_ddim_update("x") is False
    _one_line(capsys)
    assert nb09.check_ddim_update(None) is False
    assert "not answered" in _one_line(capsys)


def test_guidance_weight(capsys):
    assert nb09.check_guidance_weight("a") is True
    assert "correct" in _one_line(capsys)
    assert nb09.check_guidance_weight(" A) ") is True
    _one_line(capsys)
    for wrong in ("b", "c", "d"):
        assert nb09.check_guidance_weight(wrong) is False
        assert "Hint" in _one_line(capsys)
    assert nb09.check_guidance_weight("e") is False
    _one_line(capsys)
    assert nb09.check_guidance_weight(1) is False
    _one_line(capsys)
    assert nb09.check_guidance_weight(None) is False
    assert "not answered" in _one_line(capsys)
    assert set(nb09.GUIDANCE_CHOICES) == {"a", "b", "c", "d"} and nb09.GUIDANCE_ANSWER in nb09.GUIDANCE_CHOICES
