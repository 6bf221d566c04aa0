"""The path matrix: every notebook under mixed precision, and every switch a parameters cell offers.

Students do not run the course the way nbval does (CPU, float32, default parameters). On Colab's
GPU the course runs under ``mixed_float16``; a parameters cell offers other datasets and a photo
of one's own; a lab machine may have several GPUs (two logical CPU devices stand in for them here).
Each of those paths runs here, in ``test`` mode, through the headless runner
(``python -m course_utils run``), and must end with status ok and sane recorded metrics.

CPUs execute the same Keras dtype paths as a GPU under ``mixed_float16`` (float16 compute with
float32 variables), so dtype mix-ups and missing casts fail here as they would on Colab. The runs
inherit the suite's TF_ENABLE_ONEDNN_OPTS=0 (conftest.py): oneDNN's float16 CPU kernels are about
100 times slower than TensorFlow's default ones.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from course_utils import paths, runner

NOTEBOOKS = sorted(p.stem for p in paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))

#: (notebook prefix, precision, parameters). The default path (float32, default parameters)
#: is nbval's run of every notebook; a photo path is filled in by the ``own_photo`` fixture.
SWITCHES = [
    ("02", "float32", {"DATASET": "fashion_mnist"}),
    ("02", "float32", {"DATASET": "cifar10"}),
    ("04", "float32", {"USE_PETS": True}),
    ("07", "float32", {"OWN_IMAGE": "<own photo>"}),
    ("08", "float32", {"DATASET": "lfw"}),
    # Several GPUs, as two logical CPU devices: one notebook that trains with fit, and 05, whose
    # VAE has its own train_step. COURSE_DEVICES goes to the environment, not the parameters cell.
    ("02", "mixed_float16", {"COURSE_DEVICES": "CPU:0,CPU:1"}),
    ("05", "mixed_float16", {"COURSE_DEVICES": "CPU:0,CPU:1"}),
]
#: Keys of a case's dict that set an environment variable of the run instead of a parameter.
ENV_KEYS = {"COURSE_DEVICES"}
MATRIX = [(name[:2], "mixed_float16", {}) for name in NOTEBOOKS] + SWITCHES
#: ``COURSE_PATHS=oldest`` (``make test-oldest``, with requirements-oldest.txt installed): every
#: notebook once, as a Colab GPU runs it with Colab's own older TensorFlow and Keras, under
#: mixed_float16 with its default parameters. The switches and nbval's output comparison run
#: with the newest set only.
PATH_SET = os.environ.get("COURSE_PATHS", "all")
if PATH_SET not in ("all", "oldest"):
    raise ValueError(f"COURSE_PATHS must be 'all' or 'oldest', got {PATH_SET!r}")
if PATH_SET == "oldest":
    MATRIX = [(name[:2], "mixed_float16", {}) for name in NOTEBOOKS]


def _in_unit_interval(value) -> bool:
    return isinstance(value, (int, float)) and 0.0 <= value <= 1.0


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _positive(value) -> bool:
    return _finite(value) and value > 0


def _unit_list(value) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(map(_in_unit_interval, value))


#: Per notebook: recorded metric -> a condition every run must meet, even a 1-epoch one.
SANITY = {
    "00": {"mode": lambda v: v == "test"},
    # float32 references, so from scratch and Keras agree under mixed precision too
    "01": {f"max_abs_err_{op}": lambda v: _finite(v) and v < 1e-5
           for op in ("conv", "pool", "transpose", "grad")},
    "02": {"test_accuracy": _in_unit_interval, "final_train_loss": _positive,
           "train_steps": lambda v: isinstance(v, int) and 0 < v <= 20,  # TRAIN_STEPS in test mode
           "overfit_val_loss_rise": _finite, "transfer_frozen_accuracy": _in_unit_interval,
           "transfer_finetuned_accuracy": _in_unit_interval, "transfer_scratch_accuracy": _in_unit_interval},
    "03": {"map50": _in_unit_interval, "final_train_loss": _finite},
    "04": {"miou": _in_unit_interval, "final_loss_max": _finite},
    "05": {"neg_elbo": _positive, "vae_train_loss": lambda v: _positive(v) and v < 600},
    "06": {"class_coverage_min": _in_unit_interval, "gan_final_d_loss": _positive,
           "gan_final_g_loss": _positive, "cgan_final_d_loss": _positive,
           "cgan_final_g_loss": _positive, "cgan_label_accuracy": _in_unit_interval,
           "frechet_distance_real": _positive,
           "frechet_distance_ci": lambda v: isinstance(v, list) and len(v) == 2 and all(map(_finite, v))
           and v[0] <= v[1]},
    "08": {"detector_ap50": _in_unit_interval, "cascade_ap50": lambda v: _in_unit_interval(v) and v > 0.5,
           "detector_train_loss": _positive, "emb_train_loss_triplet": lambda v: _finite(v) and v >= 0,
           "distractor_hit_rate": _in_unit_interval, "verification_eer": _in_unit_interval,
           "open_set_eer": _in_unit_interval, "rank1": _in_unit_interval,
           "verification_auc_pixels": lambda v: 0.7 < v < 0.85,  # no training: fixed by the offline data
           **{f"verification_auc_{m}": _in_unit_interval for m in ("triplet", "contrastive", "softmax", "hog")},
           **{f"open_set_auc_{m}": _in_unit_interval for m in ("triplet", "contrastive", "softmax", "pixels", "hog")},
           "best_embedding": lambda v: v in ("softmax", "contrastive", "triplet", "arcface"),
           "best_embedding_val_auc": _in_unit_interval,
           **{k: lambda v: isinstance(v, list) and len(v) == 2 and all(map(_in_unit_interval, v)) and v[0] <= v[1]
              for k in ("verification_auc_interval", "open_set_auc_interval")},
           "scrambled_face_hit_rate": _in_unit_interval, "background_crop_hit_rate": _in_unit_interval,
           "astronaut_face_iou": _in_unit_interval,
           "open_set_tries_val": lambda v: isinstance(v, dict) and len(v) == 7
           and all(map(_in_unit_interval, v.values())),
           "open_set_chosen": lambda v: v in ("softmax", "softmax_aug", "softmax_early", "triplet", "triplet_aug",
                                              "triplet_256", "arcface"),
           "open_set_chosen_test_auc": _in_unit_interval,
           "replicas": lambda v: isinstance(v, int) and v >= 1},
    "09": {"final_train_loss": _positive, "train_steps": lambda v: isinstance(v, int) and 0 < v <= 20,
           "frechet_distance": _positive, "frechet_distance_real": _positive,
           "frechet_distance_ci": lambda v: isinstance(v, list) and len(v) == 2 and all(map(_finite, v))
           and v[0] <= v[1],
           "x0_psnr_sigma25_run": _finite, "x0_psnr_sigma25": _finite,
           "cfg_label_accuracy_course": _in_unit_interval, "class_coverage_min_course": _in_unit_interval},
    # float32 references, so from scratch and Keras agree under mixed precision too
    "10": {**{f"max_abs_err_{cell}": lambda v: _finite(v) and v < 1e-5 for cell in ("rnn", "lstm", "gru")},
           "max_abs_err_bptt": lambda v: _finite(v) and v < 1e-4,
           **{f"row_accuracy_{m}": _in_unit_interval for m in ("simplernn", "lstm", "gru", "bilstm")},
           "cnn_accuracy": _in_unit_interval, "pixel_accuracy_lstm": _in_unit_interval,
           "convlstm_psnr": _finite, "stacking_cnn_psnr": _finite,
           "copy_last_psnr": lambda v: _finite(v) and 10 < v < 20,  # no training: fixed by the generator
           **{f"{m}_ssim": lambda v: _finite(v) and -1 <= v <= 1 for m in ("convlstm", "stacking_cnn", "copy_last")},
           "convlstm_rollout_psnr": lambda v: isinstance(v, list) and len(v) > 1 and all(map(_finite, v)),
           **{f"caption_{m}": _in_unit_interval for m in (
               "exact_match", "bleu4", "exact_match_no_attention", "bleu4_no_attention",
               "colour_accuracy", "shape_accuracy", "relation_accuracy")}},
    # float32 references; per-size and per-shift lists with one accuracy per entry of the run's own axis
    "11": {**{f"max_abs_err_{op}": lambda v: _finite(v) and v < 1e-5
              for op in ("attention", "mha", "patch_embedding")},
           "vit_accuracy": _in_unit_interval, "cnn_accuracy": _in_unit_interval,
           "vit_final_train_loss": _positive, "epochs": lambda v: v == 1,  # EPOCHS in test mode
           "vit_parameters": lambda v: v == 139_018, "cnn_parameters": lambda v: v == 184_970,
           "train_sizes": lambda v: isinstance(v, list) and len(v) >= 2 and v == sorted(set(v)),
           "vit_accuracy_by_size": _unit_list, "cnn_accuracy_by_size": _unit_list,
           "shifts": lambda v: v == [0, 1, 2, 3, 4, 5, 6],
           "shift_accuracy_vit": lambda v: _unit_list(v) and len(v) == 7,
           "shift_accuracy_cnn": lambda v: _unit_list(v) and len(v) == 7,
           "shuffle_accuracy_vit": lambda v: _unit_list(v) and len(v) == 3,
           "shuffle_accuracy_cnn": lambda v: _unit_list(v) and len(v) == 3},
    "07": {"psnr_denoise": _finite, "dn_train_loss": _positive, "sr_train_loss": _positive,
           "inpaint_train_loss": _positive, "psnr_y_sr": _finite, "psnr_y_bicubic": _finite,
           "psnr_inpaint_train_holes": _finite, "psnr_inpaint_large_holes": _finite},
}

#: Per switch: what the notebook must report about the data that ran (offline: the fallback).
SWITCH_CHECKS = {
    ("02", "DATASET", "fashion_mnist"): {"n_classes": lambda v: v == 10},
    ("02", "DATASET", "cifar10"): {"n_classes": lambda v: v == 3,  # the shapes-32 fallback
                                   "cnn_parameters": lambda v: v == 259_395},  # 32x32x3 input
    ("04", "USE_PETS", True): {"data": lambda v: str(v).startswith("Oxford-IIIT Pets")},
    ("07", "OWN_IMAGE", "<own photo>"): {"own_image": lambda v: v == "my photo.jpg"},
    ("08", "DATASET", "lfw"): {"data_source": lambda v: v == "mnist-t10k"},  # offline: the digits stand in
    ("02", "COURSE_DEVICES", "CPU:0,CPU:1"): {"replicas": lambda v: v == 2},  # MirroredStrategy's copies
    ("05", "COURSE_DEVICES", "CPU:0,CPU:1"): {"replicas": lambda v: v == 2},
}

#: The matrix runs every case in the fixture of the first test, so that test's time limit covers
#: all of them (about 15 runs of at most 90 s each, two at a time); the suite's 900 s would be too
#: tight on a loaded machine.
pytestmark = pytest.mark.timeout(2400)

#: Filled as the runs finish; printed as a table at the end of the session (conftest.py).
RESULTS: list[runner.Result] = []

#: Runs in parallel: two kernels of one TensorFlow thread each use two cores better than one
#: kernel of two threads (much of a test-mode run is single-threaded Python). COURSE_PATH_WORKERS
#: changes it.
WORKERS = int(os.environ.get("COURSE_PATH_WORKERS", "2"))
THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _id(case) -> str:
    name, precision, params = case
    given = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{name}-{precision}" + (f"-{given}" if given else "")


@pytest.fixture(scope="module")
def own_photo(tmp_path_factory) -> Path:
    """A colour JPEG that is not one of the course's photos, as a student's own picture."""
    from PIL import Image
    from skimage import data as skdata

    path = tmp_path_factory.mktemp("photo") / "my photo.jpg"
    Image.fromarray(skdata.rocket()[40:400, 60:560]).save(path, quality=90)
    return path


def _params(given: dict, own_photo: Path) -> dict:
    return {k: (str(own_photo) if v == "<own photo>" else v) for k, v in given.items() if k not in ENV_KEYS}


def _env(given: dict) -> dict:
    return {**THREADS, **{k: v for k, v in given.items() if k in ENV_KEYS}}


@pytest.fixture(scope="module")
def matrix_results(own_photo) -> dict[str, runner.Result]:
    """Every case of MATRIX, run once, in test mode, by id.

    The runs of one notebook go one after another (they write the same files in data/artifacts).
    The generative notebooks score with the committed judge, so no notebook waits for another.
    """
    groups: dict[str, list] = {}
    for case in MATRIX:
        groups.setdefault(case[0], []).append(case)
    order = sorted(groups, key=lambda n: -len(groups[n]))  # the longest groups first

    def run_group(cases):
        out = {}
        for name, precision, given in cases:
            [path] = runner.resolve([name])
            out[_id((name, precision, given))] = runner.run_notebook(
                path, "test", precision=precision, parameters=_params(given, own_photo),
                timeout=600, env=_env(given),
            )
        return out

    results: dict[str, runner.Result] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(run_group, groups[n]) for n in order]
        for future in futures:
            results.update(future.result())
    RESULTS.extend(results[_id(c)] for c in MATRIX)
    return results


@pytest.mark.parametrize("case", MATRIX, ids=[_id(c) for c in MATRIX])
def test_path(case, matrix_results, own_photo):
    name, precision, given = case
    result = matrix_results[_id(case)]
    assert result.status == "ok", result.error
    assert result.precision == precision, "setup() did not report the precision asked for"
    assert result.parameters == _params(given, own_photo)
    for key, value in result.metrics.items():
        # report.record stores NaN and infinities as strings: no recorded number may be one.
        assert value not in ("nan", "inf", "-inf"), f"{result.name}: {key} = {value}"
    checks = dict(SANITY.get(name, {}))
    for key, value in given.items():
        checks.update(SWITCH_CHECKS.get((name, key, value), {}))
    for key, check in checks.items():
        assert key in result.metrics, f"{result.name} no longer records {key}"
        assert check(result.metrics[key]), f"{result.name}: {key} = {result.metrics[key]!r}"


@pytest.mark.skipif(PATH_SET == "oldest", reason="the oldest set runs every notebook once, without switches")
def test_matrix_covers_every_notebook_and_switch():
    mixed = {name for name, precision, _ in MATRIX if precision == "mixed_float16"}
    assert mixed == {n[:2] for n in NOTEBOOKS}
    switched = {(name, key) for name, _, params in SWITCHES for key in params}
    assert {("02", "DATASET"), ("04", "USE_PETS"), ("07", "OWN_IMAGE"), ("08", "DATASET"),
            ("02", "COURSE_DEVICES"), ("05", "COURSE_DEVICES")} <= switched
    assert set(SANITY) <= {n[:2] for n in NOTEBOOKS}
    assert {(n, k, v) for n, _, p in SWITCHES for k, v in p.items()} == set(SWITCH_CHECKS)
    assert np.all([isinstance(p, dict) for _, _, p in MATRIX])
