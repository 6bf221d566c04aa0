"""``course_utils.weights``: where the course weights live, their manifests, checksums and loading.

The other files use the committed weights; here a temporary folder stands in for
``data/weights`` so that missing, corrupt and changed files can be made on purpose.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from course_utils import weights


@pytest.fixture
def folder(tmp_path, monkeypatch):
    committed = weights.weights_dir()
    for suffix in (".weights.h5", ".json"):
        shutil.copy(committed / f"judge{suffix}", tmp_path / f"judge{suffix}")
    monkeypatch.setattr(weights, "weights_dir", lambda: tmp_path)
    return tmp_path


def test_every_committed_manifest_matches_its_file():
    names = weights.names()
    assert {"judge", "denoiser", "espcn", "dcgan", "cgan", "diffusion", "diffusion-cond"} <= set(names)
    for name in names:
        m = weights.read_manifest(name)
        assert m["name"] == name and m["file"] == weights.weights_path(name).name
        assert weights.verified_path(name) == weights.weights_path(name)
        assert m["bytes"] == weights.weights_path(name).stat().st_size


def test_sha256_of_a_known_file(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    assert weights.sha256(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("bad", ["", "Judge", "../judge", "judge.json", 3, None])
def test_bad_names_are_refused(bad):
    with pytest.raises(ValueError, match="name must be a course-weight name"):
        weights.weights_path(bad)


def test_load_weights_checks_the_checksum_first(folder):
    from course_utils.classifier import build_quick_classifier

    model = weights.load_weights(build_quick_classifier(), "judge")
    reference = weights.load_weights(build_quick_classifier(), "judge", verify=False)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reference.get_weights()))
    with open(folder / "judge.weights.h5", "r+b") as f:  # flip one byte
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(ValueError, match="sha256 .* but the manifest says"):
        weights.load_weights(build_quick_classifier(), "judge")


def test_missing_files_say_how_to_train_them(folder):
    (folder / "judge.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="pretrain judge"):
        weights.verified_path("judge")
    with pytest.raises(FileNotFoundError, match="pretrain vae"):
        weights.read_manifest("vae")


def test_a_broken_manifest_says_how_to_restore_it(folder):
    (folder / "judge.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON.*git checkout"):
        weights.read_manifest("judge")


def test_write_manifest_round_trips_and_leaves_no_partial_file(folder):
    m = weights.read_manifest("judge")
    m["note"] = "rescored"
    path = weights.write_manifest("judge", m)
    assert json.loads(path.read_text()) == m and path.read_text().endswith("}\n")
    assert sorted(p.name for p in folder.iterdir()) == ["judge.json", "judge.weights.h5"]
    assert weights.names() == ["judge"]
