"""``course_utils.compat``: the tested range of versions and the one API difference between its ends.

Run under both ends (``make test`` and ``make test-oldest``): on Keras 3.11 and later the block ops
are Keras's own and ``add_missing_ops`` adds nothing; on Keras 3.10 it supplies them, and either
way they must match TensorFlow's ``tf.nn.depth_to_space`` / ``space_to_depth``, in eager code, in
a functional model under both precisions, and through a save and load.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import compat, paths

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def test_the_range_is_read_from_both_requirements_files():
    rng = compat.tested_range()
    assert set(rng) == set(compat.CORE_PACKAGES)
    for package, (low, high) in rng.items():
        assert compat.version_tuple(low) <= compat.version_tuple(high), package
    assert rng["tensorflow"][0] == "2.19.0" and rng["keras"][0] == "3.10.0" and rng["numpy"][0] == "2.0.2"
    newest = compat.parse_pins((paths.repo_root() / "requirements.txt").read_text())
    assert rng["tensorflow"][1] == newest["tensorflow"]


def test_the_installed_set_is_inside_the_range():
    report = compat.version_report()
    assert report["inside"], report["rows"]
    assert report["advice"] == "every core package is inside the tested range"


@pytest.mark.parametrize("have, verdict, inside", [
    ({"keras": "3.9.2"}, "older", False), ({"keras": "3.16.0"}, "newer", False), ({"keras": None}, "missing", False),
    ({}, "ok", True),
])
def test_version_report_verdicts(have, verdict, inside):
    rng = compat.tested_range()
    installed = {p: low for p, (low, _) in rng.items()} | have
    report = compat.version_report(installed)
    row = next(r for r in report["rows"] if r[0] == "keras")
    assert row[-1] == verdict and report["inside"] is inside
    if verdict in ("older", "missing"):
        assert "pip install -r requirements.txt" in report["advice"]
    if verdict == "newer":
        assert "probably run" in report["advice"]


def test_without_the_requirements_files_the_range_is_unknown(tmp_path):
    assert compat.tested_range(tmp_path) == {}
    report = compat.version_report(root=tmp_path)
    assert not report["inside"] and "unknown" in report["advice"]


def test_parse_pins_and_versions():
    pins = compat.parse_pins("# comment\ntensorflow==2.19.0\nscikit_image==0.25.2  # note\nfoo>=1\n")
    assert pins == {"tensorflow": "2.19.0", "scikit-image": "0.25.2"}
    assert compat.version_tuple("2.19.0rc1") == (2, 19, 0) and compat.version_tuple("1.4.1.post1") == (1, 4, 1)
    with pytest.raises(ValueError, match="version"):
        compat.version_tuple("latest")
    with pytest.raises(ValueError, match="text"):
        compat.parse_pins(None)


def test_block_ops_match_tensorflow_eagerly():
    compat.add_missing_ops()
    assert compat.add_missing_ops() == []  # a second call adds nothing
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 12)).astype(np.float32)
    for block in (2,):
        d2s = keras.ops.convert_to_numpy(keras.ops.depth_to_space(x, block))
        np.testing.assert_array_equal(d2s, tf.nn.depth_to_space(x, block).numpy())
        s2d = keras.ops.convert_to_numpy(keras.ops.space_to_depth(d2s, block))
        np.testing.assert_array_equal(s2d, x)
    y = keras.ops.convert_to_numpy(keras.ops.depth_to_space(x[..., :9], 3))
    np.testing.assert_array_equal(y, tf.nn.depth_to_space(x[..., :9], 3).numpy())


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_block_ops_in_a_functional_model_keep_dtype_and_survive_saving(policy, tmp_path):
    compat.add_missing_ops()
    keras.mixed_precision.set_global_policy(policy)
    try:
        inputs = keras.Input((None, None, 1))
        h = keras.ops.space_to_depth(inputs, 2)
        h = keras.layers.Conv2D(4, 3, padding="same", dtype="float32", name="conv")(h)
        outputs = keras.ops.depth_to_space(h, 2)
        model = keras.Model(inputs, outputs)
        assert model.output.dtype == "float32"
        x = np.random.default_rng(1).random((1, 6, 8, 1)).astype(np.float32)
        y = np.asarray(model(x))
        assert y.shape == (1, 6, 8, 1) and y.dtype == np.float32
        model.save(tmp_path / "m.keras")
        again = keras.models.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(np.asarray(again(x)), y, atol=1e-6)
        model.save_weights(tmp_path / "m.weights.h5")
        fresh = keras.Model(inputs, outputs)
        fresh.load_weights(tmp_path / "m.weights.h5")
        np.testing.assert_allclose(np.asarray(fresh(x)), y, atol=1e-6)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_supplied_ops_refuse_bad_arguments():
    if hasattr(keras.ops.depth_to_space, "__doc__") and "course_utils.compat" not in (keras.ops.depth_to_space.__doc__ or ""):
        pytest.skip("this Keras has its own block ops")
    with pytest.raises(ValueError, match="block_size"):
        keras.ops.depth_to_space(np.zeros((1, 2, 2, 4), np.float32), 1)
    with pytest.raises(ValueError, match="data_format"):
        keras.ops.space_to_depth(np.zeros((1, 2, 2, 4), np.float32), 2, data_format="channels_first")


def test_set_random_seed_repeats_unseeded_keras_draws():
    draws = []
    for _ in range(2):
        compat.set_random_seed(3)
        draws.append((float(keras.random.uniform(())), float(np.random.rand())))
    assert draws[0] == draws[1]
    with pytest.raises(ValueError, match="seed"):
        compat.set_random_seed(-1)
