"""The notebook 07 exercise checkers: right answers pass, wrong fail, None is 'not answered'."""

from __future__ import annotations

from course_utils.exercises import (check_depth_to_space_shape, check_psnr_of_error,
                                    check_residual_learning)


def test_psnr_of_error(capsys):
    assert check_psnr_of_error(28.13)
    assert not check_psnr_of_error(20.0)
    assert not check_psnr_of_error("abc")
    assert not check_psnr_of_error(None)
    assert "not answered" in capsys.readouterr().out


def test_depth_to_space_shape():
    assert check_depth_to_space_shape((2, 30, 36, 3))
    assert not check_depth_to_space_shape((2, 10, 12, 27))
    assert not check_depth_to_space_shape(None)


def test_depth_to_space_shape_matches_keras():
    import keras
    import numpy as np

    out = keras.ops.depth_to_space(np.zeros((2, 10, 12, 27), np.float32), 3)
    assert check_depth_to_space_shape(tuple(out.shape))


def test_residual_learning():
    assert check_residual_learning("b")
    assert check_residual_learning(" B) ")
    assert not check_residual_learning("a")
    assert not check_residual_learning(None)


def test_perception_distortion(capsys):
    from course_utils.exercises import nb07

    assert nb07.check_perception_distortion("a") is True
    assert nb07.check_perception_distortion(" A) ") is True
    for wrong in ("b", "c", "d"):
        assert nb07.check_perception_distortion(wrong) is False
        assert "Hint" in capsys.readouterr().out
    assert nb07.check_perception_distortion("z") is False
    assert nb07.check_perception_distortion(["a"]) is False
    assert nb07.check_perception_distortion(None) is False
    assert "not answered" in capsys.readouterr().out
