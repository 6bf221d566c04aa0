"""Tests for course_utils.sequences: moving digits and captioned shapes scenes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import sequences as seq


def _digits(n=5, h=28, seed=0):
    rng = np.random.default_rng(seed)
    d = np.zeros((n, h, h), np.uint8)
    d[:, 4:-4, 4:-4] = rng.integers(1, 256, (n, h - 8, h - 8))
    return d


# ----------------------------------------------------------------------------- moving digits
def test_moving_digits_shapes_dtypes_and_range():
    md = seq.make_moving_digits(_digits(), 3, frames=7, size=64, seed=1)
    assert md.videos.shape == (3, 7, 64, 64, 1) and md.videos.dtype == np.float32
    assert md.positions.shape == (3, 7, 2, 2) and md.positions.dtype == np.int64
    assert md.indices.shape == (3, 2) and md.indices.dtype == np.int64
    assert 0.0 <= md.videos.min() and md.videos.max() <= 1.0
    assert len(md) == 3


def test_moving_digits_determinism_by_seed():
    a = seq.make_moving_digits(_digits(), 4, frames=5, seed=3)
    b = seq.make_moving_digits(_digits(), 4, frames=5, seed=3)
    c = seq.make_moving_digits(_digits(), 4, frames=5, seed=4)
    assert np.array_equal(a.videos, b.videos) and np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.videos, c.videos)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), size=st.integers(28, 48), frames=st.integers(1, 30),
       speed=st.floats(0.0, 12.0))
def test_digits_stay_inside_the_frame(seed, size, frames, speed):
    digits = _digits(3)
    md = seq.make_moving_digits(digits, 2, frames=frames, size=size, seed=seed, speed_range=(speed, speed))
    assert md.positions.min() >= 0 and md.positions.max() <= size - 28
    # Every digit's full ink is in every frame: the frame is the max of the digits at their places.
    for i in range(2):
        for t in range(frames):
            expected = np.zeros((size, size), np.float32)
            for k in range(2):
                r, c = md.positions[i, t, k]
                img = digits[md.indices[i, k]].astype(np.float32) / 255
                expected[r:r + 28, c:c + 28] = np.maximum(expected[r:r + 28, c:c + 28], img)
            assert np.allclose(md.videos[i, t, ..., 0], expected)


def test_digits_move_straight_and_bounce():
    md = seq.make_moving_digits(_digits(1), 20, frames=40, size=64, seed=0, speed_range=(3.0, 3.0))
    steps = np.diff(md.positions, axis=1)  # (n, frames - 1, digits, 2)
    assert np.abs(steps).max() <= 4  # at most the speed (plus rounding) per frame
    assert abs(np.hypot(*np.moveaxis(steps, -1, 0)).mean() - 3.0) < 0.3  # speed 3, but for bounces
    # Some digit must reach both sides of the frame over 40 frames at speed 3 (120 pixels of travel).
    assert md.positions.min() <= 1 and md.positions.max() >= 35


def test_moving_digits_float_input_and_channel_axis():
    d = _digits(2).astype(np.float32)[..., None] / 255
    a = seq.make_moving_digits(d, 2, frames=3, seed=0)
    b = seq.make_moving_digits(_digits(2), 2, frames=3, seed=0)
    assert np.allclose(a.videos, b.videos)


@pytest.mark.parametrize("kwargs, word", [
    (dict(digits=np.zeros((2, 28, 20))), "digits"),
    (dict(digits=np.zeros((0, 28, 28))), "digits"),
    (dict(digits=np.full((2, 28, 28), 2.0)), "digits"),
    (dict(n=-1), "n"),
    (dict(n=2.5), "n"),
    (dict(frames=0), "frames"),
    (dict(size=20), "size"),
    (dict(n_digits=0), "n_digits"),
    (dict(speed_range=(3.0, 1.0)), "speed_range"),
])
def test_moving_digits_bad_input(kwargs, word):
    args = dict(digits=_digits(2), n=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        seq.make_moving_digits(**args)


# ----------------------------------------------------------------------------- captions
def test_grammar_and_parser_round_trip():
    text = seq.caption("red", "circle", "above", "blue", "square")
    assert text == "a red circle above a blue square"
    assert seq.parse_caption(text) == {"color1": "red", "shape1": "circle", "relation": "above",
                                       "color2": "blue", "shape2": "square"}
    left = seq.caption("green", "triangle", "to the left of", "yellow", "circle")
    assert left == "a green triangle to the left of a yellow circle"
    assert seq.parse_caption(left)["relation"] == "to the left of"
    for bad in ("", "a red circle", "a red circle below a blue square", "a red blob above a blue square",
                "a red circle above the blue square", "a red circle above a blue square a"):
        assert seq.parse_caption(bad) is None
    with pytest.raises(ValueError, match="color1"):
        seq.caption("pink", "circle", "above", "blue", "square")
    with pytest.raises(ValueError, match="relation"):
        seq.caption("red", "circle", "below", "blue", "square")
    with pytest.raises(ValueError, match="text"):
        seq.parse_caption(3)


def test_encode_decode():
    caps = ["a red circle above a blue square", "a green triangle to the left of a yellow circle"]
    tok = seq.encode_captions(caps)
    assert tok.shape == (2, 12) and tok.dtype == np.int32
    assert tok[0, 0] == seq.START and tok[0, 8] == seq.END and (tok[0, 9:] == seq.PAD).all()
    assert [seq.decode_tokens(t) for t in tok] == caps
    assert seq.encode_captions(caps, 14).shape == (2, 14)
    with pytest.raises(ValueError, match="length"):
        seq.encode_captions(caps, 8)
    with pytest.raises(ValueError, match="VOCAB"):
        seq.encode_captions(["a pink circle"])
    with pytest.raises(ValueError, match="captions"):
        seq.encode_captions("a red circle")
    with pytest.raises(ValueError, match="tokens"):
        seq.decode_tokens([1, 99])


def test_captioned_scenes_shapes_and_determinism():
    a = seq.make_captioned_scenes(30, size=32, seed=5)
    b = seq.make_captioned_scenes(30, size=32, seed=5)
    c = seq.make_captioned_scenes(30, size=32, seed=6)
    assert a.images.shape == (30, 32, 32, 3) and a.images.dtype == np.float32
    assert 0 <= a.images.min() and a.images.max() <= 1
    assert a.colors.shape == a.shapes.shape == (30, 2) and a.relations.shape == (30,)
    assert a.boxes.shape == (30, 2, 4) and a.masks.shape == (30, 2, 32, 32) and len(a.captions) == 30
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    assert not np.array_equal(a.images, c.images)
    assert len(seq.make_captioned_scenes(0).captions) == 0


def test_captions_agree_with_the_ground_truth():
    sc = seq.make_captioned_scenes(60, size=32, seed=1, noise=0.0)
    names = list(seq.COLORS)
    for i, text in enumerate(sc.captions):
        p = seq.parse_caption(text)
        assert p is not None
        # Colours: the pixels of each object are painted exactly the named colour.
        for k, key in enumerate(("color1", "color2")):
            pixels = sc.images[i][sc.masks[i, k]]
            assert np.allclose(pixels, seq.COLORS[p[key]], atol=1e-6)
            assert names[sc.colors[i, k]] == p[key]
            assert seq.SHAPES[sc.shapes[i, k]] == p[("shape1", "shape2")[k]]
        # Boxes agree with the masks; the relation with the box centres.
        for k in range(2):
            rows, cols = np.nonzero(sc.masks[i, k])
            assert np.array_equal(sc.boxes[i, k], [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
        (cx1, cy1), (cx2, cy2) = (sc.boxes[i, :, :2] + sc.boxes[i, :, 2:]) / 2
        if p["relation"] == "above":
            assert cy1 < cy2 and abs(cy2 - cy1) >= 1.5 * abs(cx2 - cx1)
        else:
            assert cx1 < cx2 and abs(cx2 - cx1) >= 1.5 * abs(cy2 - cy1)
    assert set(sc.relations.tolist()) == {0, 1}  # both relations occur


def test_shape_of_each_object_matches_its_mask():
    # A square fills its box, a circle about pi/4 of it, a triangle about half.
    sc = seq.make_captioned_scenes(40, size=48, seed=2, noise=0.0)
    for i in range(len(sc)):
        for k in range(2):
            x0, y0, x1, y1 = sc.boxes[i, k]
            fill = sc.masks[i, k].sum() / ((x1 - x0) * (y1 - y0))
            expected = {"square": 1.0, "circle": np.pi / 4, "triangle": 0.5}[seq.SHAPES[sc.shapes[i, k]]]
            assert abs(fill - expected) < 0.12


@pytest.mark.parametrize("kwargs, word", [
    (dict(n=-1), "n"), (dict(size=8), "size"), (dict(min_axis_ratio=0.5), "min_axis_ratio"),
    (dict(noise=-0.1), "noise"),
])
def test_captioned_scenes_bad_input(kwargs, word):
    args = dict(n=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        seq.make_captioned_scenes(**args)
