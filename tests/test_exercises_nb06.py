"""Tests for the notebook-06 exercise checkers."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.exercises import (
    check_generator_output_shape,
    check_mode_collapse,
    check_optimal_discriminator,
)
from course_utils.exercises import nb06


def _one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def test_optimal_discriminator(capsys):
    assert check_optimal_discriminator(0.75) is True
    assert "correct" in _one_line(capsys)
    assert check_optimal_discriminator(3 / 4 + 1e-4) is True
    _one_line(capsys)
    assert check_optimal_discriminator(0.25) is False
    assert "swapped" in _one_line(capsys)
    assert check_optimal_discriminator(0.5) is False
    _one_line(capsys)
    assert check_optimal_discriminator("three quarters") is False
    _one_line(capsys)
    assert check_optimal_discriminator(None) is False
    assert "not answered" in _one_line(capsys)


def test_optimal_discriminator_matches_formula():
    p, q = nb06.DENSITIES["p_data"], nb06.DENSITIES["p_g"]
    assert check_optimal_discriminator(p / (p + q))


def test_generator_output_shape(capsys):
    assert check_generator_output_shape((20, 20, 1)) is True
    assert "correct" in _one_line(capsys)
    assert check_generator_output_shape([None, 20, 20, 1]) is True
    _one_line(capsys)
    assert check_generator_output_shape((32, 32, 1)) is False
    assert "valid" in _one_line(capsys)
    assert check_generator_output_shape((20, 20, 32)) is False
    _one_line(capsys)
    assert check_generator_output_shape(20) is False
    _one_line(capsys)
    assert check_generator_output_shape(None) is False
    assert "not answered" in _one_line(capsys)


def test_generator_shape_agrees_with_keras():
    keras = pytest.importorskip("keras")
    layers = keras.layers  # noqa: F841  (used by the eval'd layer strings)
    z = keras.Input((100,))
    x = z
    for spec in nb06.GENERATOR_LAYERS:
        x = eval(spec)(x)  # the strings are the exercise's own layer list
    shape = tuple(keras.Model(z, x).output_shape[1:])
    assert check_generator_output_shape(shape)


def test_mode_collapse(capsys):
    assert check_mode_collapse("C") is True
    assert "correct" in _one_line(capsys)
    assert check_mode_collapse(" c ") is True
    _one_line(capsys)
    assert check_mode_collapse("B") is False
    assert "uneven" in _one_line(capsys)
    assert check_mode_collapse("A") is False
    _one_line(capsys)
    assert check_mode_collapse("D") is False
    _one_line(capsys)
    assert check_mode_collapse(None) is False
    assert "not answered" in _one_line(capsys)


def test_mode_collapse_answer_is_the_smallest_share():
    shares = {k: np.min(v) / np.sum(v) for k, v in nb06.CLASS_HISTOGRAMS.items()}
    assert all(sum(v) == 1000 for v in nb06.CLASS_HISTOGRAMS.values())
    worst = min(shares, key=shares.get)
    assert check_mode_collapse(worst)
    # only the collapsed one fails the course's 3% coverage bar
    assert [k for k, s in shares.items() if s < 0.03] == [worst]


def test_fair_floor(capsys):
    from course_utils.exercises.nb06 import check_fair_floor

    for right in ({"A", "B"}, "AB", "a, b", ["B", "A"]):
        assert check_fair_floor(right) is True
        assert "correct" in _one_line(capsys)
    assert check_fair_floor({"A"}) is False
    assert "missing" in _one_line(capsys)
    # a wrong choice gets a hint that names no letter: trying all five reveals nothing
    for wrong in ({"A", "B", "D"}, "C", "ABCDE"):
        assert check_fair_floor(wrong) is False
        out = _one_line(capsys)
        hint = out.split("Hint:", 1)[1]
        assert "false" in hint and not any(f"{letter}:" in hint or f" {letter} " in hint for letter in "ABCDE")
    for bad in ("Z", 3, ""):
        assert check_fair_floor(bad) is False
        assert "letters" in _one_line(capsys)
    assert check_fair_floor(None) is False
    assert "not answered" in _one_line(capsys)
