"""Train the course weights of notebook 07: ``python -m course_utils.pretrain denoiser|espcn``.

The command trains the notebook's own architectures (``course_utils.restoration``) for longer
than a notebook run can, on patches of the **training** photos only
(``course_utils.data.load_photos``), then scores them on the held-out test photos against the
classical baselines and writes ``data/weights/<name>.weights.h5`` and ``<name>.json`` (the
manifest: sha256 of the weights file, recipe, data, epochs, wall time, held-out PSNR/SSIM).

It is time-bounded and resumable: ``--minutes`` caps the training time (the learning rate drops
tenfold for the last quarter of the budget), a checkpoint is saved to
``data/cache/pretrain/`` after every chunk of steps, and running the same command again
continues from it (``--fresh`` starts over). ``--threads`` limits TensorFlow's CPU threads
(the course machine is shared). ``python -m course_utils.pretrain baselines`` grid-searches the
classical denoisers' settings on training-photo crops and prints them.

Example: ``python -m course_utils.pretrain denoiser --minutes 40 --threads 2``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import degrade, paths
from .metrics.image import psnr, ssim

SIGMA = 25
SCALE = 3

RECIPES: dict[str, dict[str, Any]] = {
    "denoiser": {
        "builder": "build_dncnn", "kwargs": {"depth": 9, "filters": 48, "block": 2},
        "task": "Gaussian denoising, sigma=25 (0-255 scale), noise not clipped",
        "patch": 48, "batch": 16, "patches_per_epoch": 3200, "lr": 1e-3, "lr_final": 1e-4,
        "loss": "mse", "optimizer": "Adam", "augment": "random crops, flips, 90-degree rotations",
    },
    "espcn": {
        "builder": "build_espcn", "kwargs": {"scale": SCALE, "filters": [64, 32]},
        "task": "x3 super-resolution of the luminance (gray) image; low-res by "
                "course_utils.degrade.downsample (tf.image.resize bicubic, antialias=True)",
        "patch": 51, "batch": 32, "patches_per_epoch": 3200, "lr": 1e-3, "lr_final": 1e-4,
        "loss": "mse", "optimizer": "Adam", "augment": "random crops, flips, 90-degree rotations",
    },
}


def weights_dir() -> Path:
    """``data/weights`` in the repository (committed, unlike data/cache and data/artifacts)."""
    return paths.repo_root() / "data" / "weights"


def weights_path(name: str) -> Path:
    return weights_dir() / f"{name}.weights.h5"


def manifest_path(name: str) -> Path:
    return weights_dir() / f"{name}.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(name: str):
    """The untrained model of a recipe (the notebook's architecture)."""
    from . import restoration

    if name not in RECIPES:
        raise ValueError(f"name must be one of {sorted(RECIPES)}; got {name!r}")
    r = RECIPES[name]
    kwargs = dict(r["kwargs"])
    if "filters" in kwargs and isinstance(kwargs["filters"], list):
        kwargs["filters"] = tuple(kwargs["filters"])
    return getattr(restoration, r["builder"])(**kwargs)


def load_course_model(name: str, verify: bool = True):
    """Build the architecture and load the committed course weights (checksum verified)."""
    path, manifest = weights_path(name), manifest_path(name)
    if not path.exists() or not manifest.exists():
        raise FileNotFoundError(f"course weights {path} or manifest {manifest} are missing; "
                                f"train them with `python -m course_utils.pretrain {name}`")
    if verify:
        expected = json.loads(manifest.read_text())["sha256"]
        got = sha256(path)
        if got != expected:
            raise ValueError(f"{path} has sha256 {got}, but the manifest says {expected}; "
                             "the file is corrupt or was changed without updating the manifest")
    model = build(name)
    model.load_weights(path)
    return model


def make_batch(name: str, clean: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) training pairs from clean patches (N, P, P, 1)."""
    if name == "denoiser":
        return degrade.add_gaussian_noise(clean, SIGMA, seed=seed), clean
    return degrade.downsample(clean, SCALE), clean


def _epoch_data(name: str, train: dict, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    r = RECIPES[name]
    clean = degrade.extract_patches(train, r["patch"], r["patches_per_epoch"], seed=1000 + epoch)
    return make_batch(name, clean, seed=2000 + epoch)


def evaluate(name: str, model, test: dict, sigmas=(15, 25, 50)) -> dict[str, Any]:
    """Held-out PSNR/SSIM of the model and the classical baselines on the test photos."""
    from .restoration import denoise_baseline, predict_image

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


def train(name: str, minutes: float, threads: int, fresh: bool, steps_per_chunk: int = 25) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from .data import PHOTO_TEST, PHOTO_TRAIN, load_photos

    keras.utils.set_random_seed(0)
    r = RECIPES[name]
    train_photos, test_photos = load_photos(gray=True)
    assert not set(train_photos) & set(test_photos)
    ckpt_dir = paths.cache_dir() / "pretrain"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt, state_file = ckpt_dir / f"{name}.weights.h5", ckpt_dir / f"{name}.state.json"
    model = build(name)
    model.compile(optimizer=keras.optimizers.Adam(r["lr"]), loss=r["loss"])
    model.optimizer.build(model.trainable_variables)  # so a checkpoint restores Adam's moments
    state = {"elapsed_s": 0.0, "steps": 0, "epoch": 0, "log": []}
    if not fresh and ckpt.exists() and state_file.exists():
        model.load_weights(ckpt)
        state = json.loads(state_file.read_text())
        print(f"resuming {name}: {state['steps']} steps, {state['elapsed_s'] / 60:.1f} min done",
              flush=True)
    budget_s = minutes * 60.0
    opt = model.optimizer
    steps_per_epoch = r["patches_per_epoch"] // r["batch"]
    while state["elapsed_s"] < budget_s:
        x, y = _epoch_data(name, train_photos, state["epoch"])
        pos = 0
        while pos < steps_per_epoch and state["elapsed_s"] < budget_s:
            lr = r["lr"] if state["elapsed_s"] < 0.75 * budget_s else r["lr_final"]
            opt.learning_rate.assign(lr)
            n = min(steps_per_chunk, steps_per_epoch - pos)
            sl = slice(pos * r["batch"], (pos + n) * r["batch"])
            t0 = time.time()
            hist = model.fit(x[sl], y[sl], batch_size=r["batch"], epochs=1, verbose=0,
                             shuffle=False)
            state["elapsed_s"] += time.time() - t0
            state["steps"] += n
            pos += n
            loss = float(hist.history["loss"][-1])
            state["log"].append([state["steps"], round(state["elapsed_s"], 1), loss, lr])
            print(f"{name}: step {state['steps']} epoch {state['epoch']} "
                  f"{state['elapsed_s'] / 60:.1f}/{minutes:.0f} min loss {loss:.3e} "
                  f"(~{10 * np.log10(1 / max(loss, 1e-12)):.2f} dB) lr {lr:g}", flush=True)
            model.save_weights(ckpt)
            state_file.write_text(json.dumps(state))
        if pos >= steps_per_epoch:
            state["epoch"] += 1
            state_file.write_text(json.dumps(state))

    print(f"{name}: evaluating on the held-out photos", flush=True)
    t0 = time.time()
    scores = evaluate(name, model, test_photos)
    weights_dir().mkdir(parents=True, exist_ok=True)
    out = weights_path(name)
    export = build(name)  # an uncompiled copy: the file holds the weights only, no optimizer state
    export.set_weights(model.get_weights())
    export.save_weights(out)
    manifest = {
        "name": name,
        "file": out.name,
        "sha256": sha256(out),
        "bytes": out.stat().st_size,
        "architecture": {"builder": f"course_utils.restoration.{r['builder']}",
                         "kwargs": r["kwargs"], "params": int(model.count_params())},
        "recipe": {k: v for k, v in r.items() if k not in ("builder", "kwargs")},
        "data": {"train_photos": list(PHOTO_TRAIN), "test_photos": list(PHOTO_TEST),
                 "source": "course_utils.data.load_photos(gray=True): scikit-image and "
                           "scikit-learn sample photos; the test photos are never trained on"},
        "steps": state["steps"],
        "epochs": round(state["steps"] / steps_per_epoch, 2),
        "train_wall_time_min": round(state["elapsed_s"] / 60, 1),
        "eval_wall_time_min": round((time.time() - t0) / 60, 1),
        "threads": threads,
        "machine": f"{platform.machine()} CPU, shared with other jobs (times are under load)",
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     "tensorflow": tf.__version__, "numpy": np.__version__},
        "command": "python -m course_utils.pretrain " + " ".join(sys.argv[1:]),
        "heldout": scores,
        "loss_log_every_chunk": state["log"][-10:],
    }
    manifest_path(name).write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(scores, indent=1))
    print(f"wrote {out} ({manifest['bytes']} bytes) and {manifest_path(name)}")


def tune() -> None:
    from .data import load_photos
    from .restoration import tune_baselines

    train_photos, _ = load_photos(gray=True)
    crops = []  # a 160x160 centre crop of every training photo
    for x in train_photos.values():
        h, w = x.shape
        crops.append(x[h // 2 - 80:h // 2 + 80, w // 2 - 80:w // 2 + 80])
    for sigma in (15, 25, 50):
        print(sigma, json.dumps(tune_baselines(crops, sigma)), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m course_utils.pretrain", description=__doc__.split("\n")[0])
    p.add_argument("name", choices=[*RECIPES, "baselines"])
    p.add_argument("--minutes", type=float, default=60.0, help="training-time budget")
    p.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    a = p.parse_args(argv)
    if a.name == "baselines":
        tune()
    else:
        train(a.name, a.minutes, a.threads, a.fresh)


if __name__ == "__main__":
    main()
