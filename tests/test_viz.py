"""Tests for course_utils.viz: every helper returns a Figure with the expected panels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from course_utils import shapes, viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def test_show_images_grid_and_titles():
    images = np.random.default_rng(0).integers(0, 256, (10, 28, 28, 1), dtype=np.uint8)
    fig = viz.show_images(images, titles=[str(i) for i in range(10)], ncols=4)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12 and len(_image_axes(fig)) == 10
    assert [ax.get_title() for ax in _image_axes(fig)] == [str(i) for i in range(10)]
    # uint8 input is shown on the [0, 1] scale.
    np.testing.assert_allclose(_image_axes(fig)[0].get_images()[0].get_array(), images[0, ..., 0] / 255)


def test_show_images_rescales_feature_maps():
    fmap = np.linspace(-3.0, 5.0, 16, dtype=np.float32).reshape(4, 4)
    fig = viz.show_images([fmap, np.full((4, 4), 0.25, np.float32)])
    first, second = (ax.get_images()[0].get_array() for ax in _image_axes(fig))
    np.testing.assert_allclose(first, (fmap + 3) / 8, atol=1e-6)
    np.testing.assert_allclose(second, 0.25)  # in range: shown as is


def test_show_images_accepts_lists_and_colour():
    fig = viz.show_images([np.zeros((8, 8, 3)), np.ones((8, 8))])
    assert len(_image_axes(fig)) == 2
    with pytest.raises(ValueError, match="titles"):
        viz.show_images([np.zeros((8, 8))], titles=["a", "b"])
    with pytest.raises(ValueError, match="images"):
        viz.show_images([])


def test_plot_history_from_dict_and_object():
    hist = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    fig = viz.plot_history(hist)
    assert isinstance(fig, Figure) and [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2]
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_ydata(), [1.2, 0.7])

    class History:  # what keras' model.fit returns
        history = {"loss": [3.0, 2.0, 1.0]}

    fig = viz.plot_history(History())
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="history"):
        viz.plot_history({})


def test_draw_boxes_draws_one_rectangle_per_box_with_captions():
    s = shapes.make_scenes(1, seed=1, min_objects=3, max_objects=3)
    boxes, labels = s.boxes[0], s.labels[0]
    fig = viz.draw_boxes(s.images[0], boxes, labels, scores=[0.9, 0.8, 0.7], class_names=s.class_names)
    ax = fig.axes[0]
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(rects) == 3
    # The rectangle covers the pixels exactly: pixel c spans [c - 0.5, c + 0.5].
    assert rects[0].get_x() == boxes[0, 0] - 0.5 and rects[0].get_width() == boxes[0, 2] - boxes[0, 0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == f"{s.class_names[labels[0]]} 0.90"
    # Into a given Axes, without labels.
    fig2, ax2 = plt.subplots()
    assert viz.draw_boxes(s.images[0], boxes, ax=ax2) is fig2 and not ax2.texts
    with pytest.raises(ValueError, match="scores"):
        viz.draw_boxes(s.images[0], boxes, scores=[0.5])


def test_overlay_mask_colours_only_the_mask():
    image = np.full((16, 16), 0.5, np.float32)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:8, 4:8] = 2
    fig = viz.overlay_mask(image, mask, alpha=0.5)
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown[0, 0], [0.5, 0.5, 0.5])
    assert not np.allclose(shown[5, 5], [0.5, 0.5, 0.5])
    assert isinstance(viz.overlay_mask(image, mask > 0), Figure)
    with pytest.raises(ValueError, match="mask"):
        viz.overlay_mask(image, mask[:8])


def test_compare_with_and_without_crop():
    imgs = {"noisy": np.random.default_rng(0).random((32, 32)), "clean": np.zeros((32, 32))}
    fig = viz.compare(imgs)
    assert [ax.get_title() for ax in fig.axes] == ["noisy", "clean"]
    fig = viz.compare(imgs, crop=(4, 8, 12, 24))
    assert len(_image_axes(fig)) == 4
    zoom = fig.axes[2].get_images()[0].get_array()  # second row, first column
    np.testing.assert_allclose(zoom, imgs["noisy"][8:24, 4:12])
    with pytest.raises(ValueError, match="crop"):
        viz.compare(imgs, crop=(0, 0, 40, 10))
