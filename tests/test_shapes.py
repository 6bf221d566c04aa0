"""Tests for course_utils.shapes: boxes, masks and labels agree exactly; scenes are reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from course_utils import shapes

scene_args = st.fixed_dictionaries({
    "n": st.integers(1, 6),
    "size": st.sampled_from([24, 32, 48, 64]),
    "max_objects": st.integers(1, 5),
    "seed": st.integers(0, 2**32 - 1),
    "max_overlap": st.sampled_from([0.0, 0.0, 0.2, 0.5]),
    "rotate": st.booleans(),
    "classes": st.sampled_from([("circle", "square", "triangle"), ("triangle", "circle"), ("square",)]),
})


def _check_scenes(s: shapes.Scenes, n: int, size: int, max_objects: int) -> None:
    assert s.images.shape == (n, size, size, 3) and s.images.dtype == np.float32
    assert 0.0 <= s.images.min() and s.images.max() <= 1.0
    assert s.semantic.shape == (n, size, size) and s.semantic.dtype == np.uint8
    assert len(s.boxes) == len(s.labels) == len(s.instance_masks) == n
    for i in range(n):
        boxes, labels, masks = s.boxes[i], s.labels[i], s.instance_masks[i]
        k = len(labels)
        assert 1 <= k <= max_objects  # no empty image
        assert boxes.shape == (k, 4) and boxes.dtype == np.float32
        assert labels.dtype == np.int64 and masks.shape == (k, size, size) and masks.dtype == bool
        assert ((0 <= labels) & (labels < len(s.class_names))).all()
        # Instance masks are disjoint and non-empty; the semantic mask is their labelled union.
        assert (masks.sum(axis=0) <= 1).all()
        expected = np.zeros((size, size), np.uint8)
        for j in range(k):
            m = masks[j]
            assert m.any()
            rows, cols = np.nonzero(m)
            # The box is the tight box of the mask (x_max = last column + 1).
            np.testing.assert_array_equal(boxes[j], [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            expected[m] = labels[j] + 1
        np.testing.assert_array_equal(s.semantic[i], expected)


@settings(max_examples=40, deadline=None)
@given(scene_args)
def test_boxes_masks_and_semantic_agree(args):
    s = shapes.make_scenes(**args)
    assert s.class_names == tuple(args["classes"])
    _check_scenes(s, args["n"], args["size"], args["max_objects"])


@settings(max_examples=15, deadline=None)
@given(scene_args)
def test_same_seed_same_scenes(args):
    a, b = shapes.make_scenes(**args), shapes.make_scenes(**args)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.semantic, b.semantic)
    for key in ("boxes", "labels", "instance_masks"):
        for x, y in zip(getattr(a, key), getattr(b, key)):
            np.testing.assert_array_equal(x, y)


def test_different_seeds_differ():
    a, b = shapes.make_scenes(4, seed=0), shapes.make_scenes(4, seed=1)
    assert not np.array_equal(a.images, b.images)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(100, 300), max_objects=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_classes_are_balanced(n, max_objects, seed):
    s = shapes.make_scenes(n, size=48, max_objects=max_objects, seed=seed)
    counts = np.bincount(np.concatenate(s.labels), minlength=3)
    assert counts.max() - counts.min() <= 0.1 * counts.mean()


def test_no_overlap_by_default_and_full_shapes_visible():
    """With max_overlap=0 nothing is occluded: each mask is one connected, whole shape."""
    s = shapes.make_scenes(50, size=64, max_objects=4, seed=3)
    for boxes, masks in zip(s.boxes, s.instance_masks):
        for j in range(len(boxes)):
            _, count = ndimage.label(masks[j])
            assert count == 1
            for k in range(j + 1, len(boxes)):
                a, b = boxes[j], boxes[k]
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_occlusion_keeps_min_visible():
    s = shapes.make_scenes(60, size=64, max_objects=5, seed=5, max_overlap=0.5, min_visible=0.6)
    overlapped = 0
    for boxes, masks in zip(s.boxes, s.instance_masks):
        for j in range(len(boxes)):
            for k in range(j + 1, len(boxes)):
                a, b = boxes[j], boxes[k]
                overlapped += not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])
    assert overlapped > 0  # overlap really happens with max_overlap > 0
    _check_scenes(s, 60, 64, 5)


def test_shapes_are_geometrically_right():
    """Areas against the formulas: circle pi r^2, square s^2, equilateral triangle sqrt(3)/4 s^2."""
    for kind, formula in (("circle", lambda e: np.pi * e**2 / 4), ("square", lambda e: e**2),
                          ("triangle", lambda e: np.sqrt(3) / 4 * e**2)):
        ext, pts = shapes._extent_box(kind, 40.0, 40.0, 40.0, 0.0)
        local, _, _ = shapes._rasterise(kind, 40.0, 40.0, 40.0, ext, pts, 80)
        assert abs(local.sum() - formula(40.0)) / formula(40.0) < 0.03, kind


def test_colour_does_not_give_the_class_away():
    """Object colours are drawn independently of the class: mean colours per class are close."""
    s = shapes.make_scenes(300, size=32, max_objects=2, seed=0, noise=0.0, texture=0.0)
    means = []
    for c in range(3):
        pix = [s.images[i][m] for i in range(len(s)) for m, lab in zip(s.instance_masks[i], s.labels[i]) if lab == c]
        means.append(np.concatenate(pix).mean(axis=0))
    assert np.abs(np.array(means) - np.mean(means, axis=0)).max() < 0.08


def test_make_shape_classification():
    x, y = shapes.make_shape_classification(90, size=32, seed=2)
    assert x.shape == (90, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [30, 30, 30]
    x2, y2 = shapes.make_shape_classification(90, size=32, seed=2)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_5000_scenes_are_fast():
    import time

    start = time.process_time()
    s = shapes.make_scenes(5000, seed=0)
    cpu = time.process_time() - start
    assert len(s) == 5000
    assert cpu < 20.0, f"{cpu:.1f} s of CPU for 5000 scenes"


@pytest.mark.parametrize("kwargs, match", [
    ({"n": -1}, "n:"),
    ({"n": 2, "size": 4}, "size:"),
    ({"n": 2, "classes": ("circle", "hexagon")}, "classes:"),
    ({"n": 2, "max_objects": 0}, "max_objects:"),
    ({"n": 2, "size_range": (0.5, 0.2)}, "size_range:"),
    ({"n": 2, "max_overlap": 1.5}, "max_overlap:"),
    ({"n": 2, "noise": -0.1}, "noise"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shapes.make_scenes(**kwargs)
