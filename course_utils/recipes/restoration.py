"""Course-weight recipes for notebook 07: the DnCNN-style denoiser and ESPCN x3.

The architectures are ``course_utils.restoration``'s (the notebook's own); they train on random
patches of the **training** photos only (``course_utils.data.load_photos``) and are scored on the
held-out test photos against the classical baselines. :mod:`course_utils.training` runs,
checkpoints and writes the manifest (:mod:`course_utils.training`).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import degrade

SIGMA = 25
SCALE = 3

RECIPES: dict[str, dict[str, Any]] = {
    "denoiser": {
        "family": "restoration",
        "builder": "build_dncnn", "kwargs": {"depth": 9, "filters": 48, "block": 2},
        "task": "Gaussian denoising, sigma=25 (0-255 scale), noise not clipped",
        "patch": 48, "batch": 16, "patches_per_epoch": 3200, "lr": 1e-3, "lr_final": 1e-4,
        "loss": "mse", "optimizer": "Adam", "augment": "random crops, flips, 90-degree rotations",
    },
    "espcn": {
        "family": "restoration",
        "builder": "build_espcn", "kwargs": {"scale": SCALE, "filters": [64, 32]},
        "task": "x3 super-resolution of the luminance (gray) image; low-res by "
                "course_utils.degrade.downsample (tf.image.resize bicubic, antialias=True)",
        "patch": 51, "batch": 32, "patches_per_epoch": 3200, "lr": 1e-3, "lr_final": 1e-4,
        "loss": "mse", "optimizer": "Adam", "augment": "random crops, flips, 90-degree rotations",
    },
}


def build(name: str):
    """The untrained model of a recipe (the notebook's architecture)."""
    from .. import restoration

    if name not in RECIPES:
        raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
    r = RECIPES[name]
    kwargs = dict(r["kwargs"])
    if "filters" in kwargs and isinstance(kwargs["filters"], list):
        kwargs["filters"] = tuple(kwargs["filters"])
    return getattr(restoration, r["builder"])(**kwargs)


def make_batch(name: str, clean: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) training pairs from clean patches (N, P, P, 1)."""
    if name == "denoiser":
        return degrade.add_gaussian_noise(clean, SIGMA, seed=seed), clean
    return degrade.downsample(clean, SCALE), clean


def epoch_data(name: str, train: dict, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    r = RECIPES[name]
    clean = degrade.extract_patches(train, r["patch"], r["patches_per_epoch"], seed=1000 + epoch)
    return make_batch(name, clean, seed=2000 + epoch)


def evaluate(name: str, model, test: dict, sigmas=(15, 25, 50)) -> dict[str, Any]:
    """Held-out PSNR/SSIM of the model and the classical baselines on the test photos."""
    from ..metrics.image import psnr, ssim
    from ..restoration import denoise_baseline, predict_image

    out: dict[str, Any] = {}
    if name == "denoiser":
        for sigma in sigmas:
            rows: dict[str, list] = {}
            for i, (photo, x) in enumerate(sorted(test.items())):
                y = degrade.add_gaussian_noise(x, sigma, seed=100 + i)
                est = {"noisy": y, "gaussian": denoise_baseline(y, "gaussian", sigma),
                       "tv": denoise_baseline(y, "tv", sigma),
                       "nlm": denoise_baseline(y, "nlm", sigma)}
                if sigma == SIGMA:
                    est["course"] = predict_image(model, y)
                for k, v in est.items():
                    rows.setdefault(k, []).append((photo, psnr(x, v), ssim(x, v)))
            out[f"sigma{sigma}"] = {k: {"psnr_mean": round(float(np.mean([r[1] for r in v])), 3),
                                        "ssim_mean": round(float(np.mean([r[2] for r in v])), 4),
                                        "psnr": {r[0]: round(r[1], 3) for r in v}}
                                    for k, v in rows.items()}
            # the course model is trained at sigma=25 only; the other levels show it out of range
            if sigma != SIGMA:
                rows_c = []
                for i, (photo, x) in enumerate(sorted(test.items())):
                    y = degrade.add_gaussian_noise(x, sigma, seed=100 + i)
                    rows_c.append((photo, psnr(x, predict_image(model, y))))
                out[f"sigma{sigma}"]["course"] = {
                    "psnr_mean": round(float(np.mean([r[1] for r in rows_c])), 3),
                    "psnr": {r[0]: round(r[1], 3) for r in rows_c}}
    else:
        rows = {}
        for photo, x in sorted(test.items()):
            x = degrade.modcrop(x, SCALE)
            low = degrade.downsample(x, SCALE)
            est = {"bicubic": degrade.upsample_bicubic(low, SCALE),
                   "course": predict_image(model, low)}
            for k, v in est.items():
                rows.setdefault(k, []).append((photo, psnr(x, v), ssim(x, v)))
        out["x3"] = {k: {"psnr_mean": round(float(np.mean([r[1] for r in v])), 3),
                         "ssim_mean": round(float(np.mean([r[2] for r in v])), 4),
                         "psnr": {r[0]: round(r[1], 3) for r in v}} for k, v in rows.items()}
    return out


class Trainer:
    """Trains one restoration recipe in chunks of steps for :func:`course_utils.training.train`."""

    def __init__(self, name: str, seed: int = 0):
        import keras

        from ..data import load_photos

        keras.utils.set_random_seed(seed)
        self.name, self.recipe = name, RECIPES[name]
        self.train_photos, self.test_photos = load_photos(gray=True)
        if set(self.train_photos) & set(self.test_photos):
            raise RuntimeError("the training and test photos overlap")
        self.model = build(name)
        self.model.compile(optimizer=keras.optimizers.Adam(self.recipe["lr"]), loss=self.recipe["loss"])
        self.model.optimizer.build(self.model.trainable_variables)
        self.steps_per_epoch = self.recipe["patches_per_epoch"] // self.recipe["batch"]
        self._epoch, self._data = None, None

    def set_final_phase(self, final: bool) -> float:
        lr = self.recipe["lr_final"] if final else self.recipe["lr"]
        self.model.optimizer.learning_rate.assign(lr)
        return lr

    def train(self, epoch: int, start: int, n: int) -> float:
        if self._epoch != epoch:
            self._epoch, self._data = epoch, epoch_data(self.name, self.train_photos, epoch)
        x, y = self._data
        b = self.recipe["batch"]
        sl = slice(start * b, (start + n) * b)
        hist = self.model.fit(x[sl], y[sl], batch_size=b, epochs=1, verbose=0, shuffle=False)
        return float(hist.history["loss"][-1])

    def save(self, path) -> None:
        self.model.save_weights(str(path) + ".weights.h5")

    def load(self, path) -> None:
        self.model.load_weights(str(path) + ".weights.h5")

    def export(self):
        export = build(self.name)  # an uncompiled copy: the file holds the weights only
        export.set_weights(self.model.get_weights())
        return export

    def evaluate(self, model=None) -> dict[str, Any]:
        return evaluate(self.name, self.model if model is None else model, self.test_photos)

    def describe(self) -> dict[str, Any]:
        from ..data import PHOTO_TEST, PHOTO_TRAIN

        r = self.recipe
        return {
            "architecture": {"builder": f"course_utils.restoration.{r['builder']}",
                             "kwargs": r["kwargs"], "params": int(self.model.count_params())},
            "data": {"train_photos": list(PHOTO_TRAIN), "test_photos": list(PHOTO_TEST),
                     "source": "course_utils.data.load_photos(gray=True): scikit-image and "
                               "scikit-learn sample photos; the test photos are never trained on"},
        }


def tune() -> None:
    """Grid-search the classical denoisers' settings on training-photo crops and print them."""
    from ..data import load_photos
    from ..restoration import tune_baselines

    train_photos, _ = load_photos(gray=True)
    crops = []  # a 160x160 centre crop of every training photo
    for x in train_photos.values():
        h, w = x.shape
        crops.append(x[h // 2 - 80:h // 2 + 80, w // 2 - 80:w // 2 + 80])
    for sigma in (15, 25, 50):
        print(sigma, json.dumps(tune_baselines(crops, sigma)), flush=True)
