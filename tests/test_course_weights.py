"""The committed course weights of notebook 07: checksums, manifests and a held-out check.

The denoiser must beat a tuned non-local means on a held-out photo (a 256x256 crop of
``camera``, sigma=25, to keep the test fast); ESPCN must beat bicubic interpolation there.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils import degrade, pretrain
from course_utils.data import PHOTO_TEST, PHOTO_TRAIN, load_photos
from course_utils.metrics import psnr

NAMES = ("denoiser", "espcn")


def _crop(x, size=256):
    r, c = (x.shape[0] - size) // 2, (x.shape[1] - size) // 2
    return x[r:r + size, c:c + size]


@pytest.mark.parametrize("name", NAMES)
def test_manifest_and_checksum(name):
    weights, manifest = pretrain.weights_path(name), pretrain.manifest_path(name)
    assert weights.exists() and manifest.exists()
    m = json.loads(manifest.read_text())
    assert m["sha256"] == pretrain.sha256(weights)
    assert weights.stat().st_size <= 2 * 1024 * 1024
    assert m["bytes"] == weights.stat().st_size
    for key in ("recipe", "data", "epochs", "steps", "train_wall_time_min", "heldout", "architecture"):
        assert key in m, key
    # trained on the training photos only
    assert set(m["data"]["train_photos"]) == set(PHOTO_TRAIN)
    assert not set(m["data"]["train_photos"]) & set(PHOTO_TEST)


def test_bad_checksum_is_refused(tmp_path, monkeypatch):
    import shutil

    for suffix in (".weights.h5", ".json"):
        shutil.copy(pretrain.weights_dir() / f"espcn{suffix}", tmp_path / f"espcn{suffix}")
    m = json.loads((tmp_path / "espcn.json").read_text())
    m["sha256"] = "0" * 64
    (tmp_path / "espcn.json").write_text(json.dumps(m))
    monkeypatch.setattr(pretrain, "weights_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        pretrain.load_course_model("espcn")


def test_course_denoiser_beats_nlm_on_a_heldout_photo():
    from course_utils.restoration import denoise_baseline, predict_image

    _, test = load_photos(gray=True)
    x = _crop(test["camera"])
    y = degrade.add_gaussian_noise(x, 25, seed=0)
    model = pretrain.load_course_model("denoiser")
    course = psnr(x, predict_image(model, y))
    nlm = psnr(x, denoise_baseline(y, "nlm", 25))
    assert course > nlm, (course, nlm)


def test_course_espcn_beats_bicubic_on_a_heldout_photo():
    from course_utils.restoration import predict_image

    _, test = load_photos(gray=True)
    x = degrade.modcrop(_crop(test["camera"]), 3)
    low = degrade.downsample(x, 3)
    model = pretrain.load_course_model("espcn")
    assert psnr(x, predict_image(model, low)) > psnr(x, degrade.upsample_bicubic(low, 3))
    assert np.isfinite(psnr(x, predict_image(model, low)))
