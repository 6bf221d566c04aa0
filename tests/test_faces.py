"""Tests for course_utils.faces: scenes, multi-scale detection, alignment and pairs."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import SimilarityTransform, estimate_transform, warp

from course_utils import boxes, faces


def _patches(n, value, side=25):
    return np.full((n, side, side), value, np.float32)


@pytest.fixture
def scenes():
    bg = [np.zeros((120, 150), np.float32)]
    return faces.make_face_scenes(_patches(5, 0.9), _patches(5, 0.4), bg, 12, size=96,
                                  face_sizes=(20, 30), n_faces=(1, 3), n_distractors=(1, 2),
                                  jitter=0.0, seed=3)


def test_scenes_have_the_pasted_patches_at_their_boxes(scenes):
    assert scenes.images.shape == (12, 96, 96) and scenes.images.dtype == np.float32
    for img, fb, db in zip(scenes.images, scenes.boxes, scenes.distractor_boxes):
        assert 1 <= len(fb) <= 3 and len(db) <= 2
        for x0, y0, x1, y1 in fb.astype(int):
            assert x1 - x0 == y1 - y0 and 20 <= x1 - x0 <= 30  # squares of the asked sizes
            np.testing.assert_allclose(img[y0:y1, x0:x1], 0.9, atol=1e-6)
        for x0, y0, x1, y1 in db.astype(int):
            np.testing.assert_allclose(img[y0:y1, x0:x1], 0.4, atol=1e-6)
        every = np.concatenate([fb, db])
        ov = boxes.iou(every, every)
        assert np.allclose(ov[~np.eye(len(every), dtype=bool)], 0)  # nothing overlaps
        covered = np.zeros((96, 96), bool)
        for x0, y0, x1, y1 in every.astype(int):
            covered[y0:y1, x0:x1] = True
        assert np.all(img[~covered] == 0)  # the rest is background


def test_scenes_are_seeded_and_ground_truth_format(scenes):
    bg = [np.zeros((120, 150), np.float32)]
    again = faces.make_face_scenes(_patches(5, 0.9), _patches(5, 0.4), bg, 12, size=96,
                                   face_sizes=(20, 30), n_faces=(1, 3), n_distractors=(1, 2),
                                   jitter=0.0, seed=3)
    np.testing.assert_array_equal(scenes.images, again.images)
    gt = scenes.ground_truth()
    assert len(gt) == 12 and all(set(g) == {"boxes", "labels"} and (g["labels"] == 0).all() for g in gt)


def test_scene_arguments_are_checked():
    f, bg = _patches(2, 1.0), [np.zeros((100, 100), np.float32)]
    with pytest.raises(ValueError, match="faces"):
        faces.make_face_scenes(np.zeros((2, 3)), f, bg, 1)
    with pytest.raises(ValueError, match="face_sizes"):
        faces.make_face_scenes(f, f, bg, 1, size=96, face_sizes=(30, 200))
    with pytest.raises(ValueError, match="smaller than size"):
        faces.make_face_scenes(f, f, [np.zeros((50, 50))], 1, size=96)
    with pytest.raises(ValueError, match="n_faces"):
        faces.make_face_scenes(f, f, bg, 1, n_faces=(3, 1))
    with pytest.raises(ValueError, match="backgrounds"):
        faces.make_face_scenes(f, f, [], 1)


def _box_score_fn(target, window=24, stride=4):
    """A perfect dense scorer for one square object: the IoU of each window with ``target``
    (given in the coordinates of the image the scorer sees, after the detector's resizing)."""
    def score(batch):
        n, h, w = batch.shape
        gh, gw = (h - window) // stride + 1, (w - window) // stride + 1
        out = np.zeros((n, gh, gw))
        for i in range(gh):
            for j in range(gw):
                box = [j * stride, i * stride, j * stride + window, i * stride + window]
                out[:, i, j] = boxes.iou([box], [target(h, w)])[0, 0]
        return out
    return score


def test_detect_multiscale_maps_windows_back_to_the_original_image():
    # an object of side 48 at (40, 20) in a 128x128 image; at size 48 the image is halved,
    # so the scorer sees the object at (20, 10) with side 24: the window at i=2.5... use (16, 8)
    obj = np.array([32.0, 16.0, 80.0, 64.0])  # side 48, corner divisible by 8

    def target(h, w):
        f = h / 128
        return obj * f

    dets = faces.detect_multiscale(_box_score_fn(target), np.zeros((2, 128, 128)), window=24,
                                   stride=4, sizes=(24, 48), threshold=0.3)
    assert len(dets) == 2
    best = dets[0]["boxes"][np.argmax(dets[0]["scores"])]
    np.testing.assert_allclose(best, obj)
    assert dets[0]["scores"].max() == pytest.approx(1.0)
    # NMS leaves no two boxes above the IoU threshold
    ov = boxes.iou(dets[0]["boxes"], dets[0]["boxes"])
    assert np.all(ov[~np.eye(len(ov), dtype=bool)] <= 0.3)


def test_detect_multiscale_threshold_and_shapes():
    zero = lambda b: np.zeros((b.shape[0], (b.shape[1] - 24) // 4 + 1, (b.shape[2] - 24) // 4 + 1))
    dets = faces.detect_multiscale(zero, np.zeros((3, 64, 64)), sizes=(24, 32), threshold=0.5)
    assert all(d["boxes"].shape == (0, 4) and d["scores"].shape == (0,) for d in dets)
    with pytest.raises(ValueError, match="score_fn returned"):
        faces.detect_multiscale(lambda b: np.zeros((1, 1, 1)), np.zeros((3, 64, 64)))
    with pytest.raises(ValueError, match="sizes"):
        faces.detect_multiscale(zero, np.zeros((1, 64, 64)), sizes=(0,))
    with pytest.raises(ValueError, match="images"):
        faces.detect_multiscale(zero, np.zeros((64, 64)))


def test_detect_multiscale_with_a_fully_convolutional_keras_model():
    import keras

    # valid 3x3 conv + 2x2 pool twice + 3x3 conv + 2x2 conv: windows of 24 at stride 4
    inp = keras.Input((None, None, 1))
    h = keras.layers.Conv2D(2, 3)(inp)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(2, 3)(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(2, 3)(h)
    out = keras.layers.Conv2D(1, 2)(h)
    model = keras.Model(inp, out)
    img = np.random.default_rng(0).random((1, 60, 68)).astype(np.float32)
    dense = np.asarray(model(img[..., None]))[0, :, :, 0]
    assert dense.shape == ((60 - 24) // 4 + 1, (68 - 24) // 4 + 1)
    for i, j in [(0, 0), (3, 5), (dense.shape[0] - 1, dense.shape[1] - 1)]:
        window = img[:, 4 * i:4 * i + 24, 4 * j:4 * j + 24, None]
        assert np.allclose(np.asarray(model(window))[0, 0, 0, 0], dense[i, j], atol=1e-5)


def test_similarity_transform_matches_skimage():
    rng = np.random.default_rng(0)
    src = rng.random((5, 2)) * 50
    true = SimilarityTransform(scale=1.3, rotation=0.4, translation=(3.0, -7.0))
    dst = true(src) + rng.normal(scale=0.5, size=src.shape)
    ours = faces.similarity_transform(src, dst)
    ref = estimate_transform("similarity", src, dst)  # scikit-image 0.25 and 0.26 both have it
    np.testing.assert_allclose(ours, ref.params, atol=1e-8)
    exact = faces.similarity_transform(src, true(src))
    np.testing.assert_allclose(exact, true.params, atol=1e-10)


def test_align_undoes_a_rotation_and_scale():
    yy, xx = np.mgrid[0:40, 0:40]
    img = np.zeros((40, 40), np.float32)
    img[10:30, 14:26] = (0.5 + 0.4 * np.sin(xx / 3.0) * np.cos(yy / 4.0))[10:30, 14:26]  # smooth
    template = np.array([[15.0, 15.0], [25.0, 15.0], [20.0, 28.0]])
    tilt = SimilarityTransform(scale=1.2, rotation=0.3, translation=(-4, 2))
    moved = warp(img, tilt.inverse, output_shape=(48, 48), order=1, preserve_range=True)
    back = faces.align(moved, tilt(template), template, (40, 40))
    inner = (slice(12, 28), slice(16, 24))
    err_back = np.abs(back[inner] - img[inner]).mean()
    assert err_back < 0.03
    assert np.abs(moved[:40, :40][inner] - img[inner]).mean() > 5 * err_back
    with pytest.raises(ValueError, match="src"):
        faces.similarity_transform([[0, 0]], [[1, 1]])
    with pytest.raises(ValueError, match="same shape"):
        faces.similarity_transform(np.zeros((3, 2)), np.zeros((4, 2)))


def test_sample_pairs_all_and_balanced():
    y = np.array([0, 0, 1, 1, 1, 2])
    i, j, same = faces.sample_pairs(y)
    assert len(i) == 15 and np.all(i < j)
    assert same.sum() == 1 + 3  # one pair of 0s, three of 1s
    np.testing.assert_array_equal(same, y[i] == y[j])
    i, j, same = faces.sample_pairs(y, 6, seed=0)
    assert same.sum() == 3 and (~same).sum() == 3
    assert len(set(zip(i.tolist(), j.tolist()))) == 6
    i, j, same = faces.sample_pairs(y, 20, seed=0)  # only 4 genuine pairs exist
    assert same.sum() == 4 and (~same).sum() == 10
    with pytest.raises(ValueError, match="n_pairs"):
        faces.sample_pairs(y, 1)
    with pytest.raises(ValueError, match="labels"):
        faces.sample_pairs([0])


def test_random_crops_and_crop_resize():
    img = np.arange(100 * 80, dtype=np.float32).reshape(100, 80) / 8000
    crops = faces.random_crops([img], 7, out_size=12, sizes=(10, 30), seed=0)
    assert crops.shape == (7, 12, 12) and crops.min() >= 0 and crops.max() <= 1
    out = faces.crop_resize(img, [[10, 20, 34, 44]], 24)
    np.testing.assert_allclose(out[0], img[20:44, 10:34], atol=1e-6)  # same size: no resampling
    with pytest.raises(ValueError, match="outside"):
        faces.crop_resize(img, [[200, 200, 210, 210]])
    with pytest.raises(ValueError, match="images"):
        faces.random_crops([], 3)


def test_verification_split_caps_by_what_exists_and_rejects_bad_input():
    y_train = np.repeat(np.arange(10), 50)
    y_held = np.repeat(np.arange(10), 10)  # 70 held-out images of the 7 known identities
    split = faces.verification_split(y_train, y_held, n_eval=600)
    assert list(split.known) == list(range(7))
    sizes = {k: len(v[1]) for k, v in split.sets.items()}
    assert sizes == {"closed_val": 35, "closed_test": 35, "open_val": 150, "open_test": 30}
    assert not set(split.sets["closed_val"][1]) & set(split.sets["closed_test"][1])
    with pytest.raises(ValueError, match="n_eval"):
        faces.verification_split(y_train, y_held, n_eval=1)
    with pytest.raises(ValueError, match="y_train"):
        faces.verification_split(np.repeat([0, 1, 2], 5), y_held, n_eval=10)
    with pytest.raises(ValueError, match="y_held"):
        faces.verification_split(y_train, np.arange(7), n_eval=10)


def test_pair_scores_and_bootstrap_intervals():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 15)
    emb = rng.normal(size=(4, 8))[y] + 0.3 * rng.normal(size=(60, 8))
    pairs = faces.sample_pairs(y)
    s = faces.pair_scores(emb, pairs)
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    np.testing.assert_allclose(s, (e @ e.T)[pairs[0], pairs[1]])
    ci = faces.bootstrap_verification(emb, y, n_boot=30)
    from course_utils.metrics import roc_auc
    auc = roc_auc(pairs[2], s)
    assert ci["auc"][0] <= auc + 0.02 and ci["auc"][0] <= ci["auc"][1] <= 1
    with pytest.raises(ValueError, match="labels"):
        faces.bootstrap_verification(emb, y[:-1])
    with pytest.raises(ValueError, match="n_boot"):
        faces.bootstrap_verification(emb, y, n_boot=1)
