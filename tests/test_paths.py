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

``COURSE_PATHS=full`` (``make test-full``) runs the path a Colab GPU takes by default instead: the
*full-mode smoke*, every notebook in ``full`` mode under ``mixed_float16`` with its full-size data,
models and evaluations, and only its training cut short through ``-p`` (:data:`FULL_SMOKE`). On two
CPU cores it takes one to two hours (README, "Full mode: what it costs"), far beyond CI's budget,
so CI runs only :func:`test_full_smoke_cuts_only_training`, which keeps the cuts honest.
"""

from __future__ import annotations

import json
import math
import os
import re
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
#: The full-mode smoke: per notebook, the ``-p`` overrides that cut ONLY its training length
#: (epochs, optimiser steps, mining rounds) in ``full`` mode. Data sizes, model sizes and every
#: evaluation keep their full-mode values, so a full-size data path, model or evaluation that
#: breaks or is sized beyond reason shows there. Offline, "full-size data" is the fallback each
#: loader returns (for MNIST-shaped work: 8,000 / 2,000 digits).
FULL_SMOKE: dict[str, dict] = {
    "00": {},  # trains nothing
    "01": {},  # trains nothing
    "02": {"EPOCHS": 1, "TRAIN_STEPS": 20, "COMPARE_EPOCHS": 1, "COMPARE_STEPS": 8,
           "OVERFIT_EPOCHS": 2, "TRANSFER_EPOCHS": 1},
    "03": {"EPOCHS": 1},
    "04": {"EPOCHS_FCN": 1, "EPOCHS_UNET": 1},
    "05": {"AE_STEPS": 1, "VAE_STEPS": 1, "VAE2D_STEPS": 1, "BETA_STEPS": 1},  # 1 epoch each (the floor)
    "06": {"GAN_STEPS": 16, "BAD_STEPS": 8, "CGAN_STEPS": 8},
    "07": {"DN_STEPS": 3, "SR_STEPS": 3, "INP_STEPS": 3},
    "08": {"DET_EPOCHS": 1, "MINING_ROUNDS": 1, "EMB_EPOCHS": 1},
    "09": {"TRAIN_STEPS": 8, "COND_STEPS": 3, "VAE_STEPS": 20},  # VAE_STEPS: 1 epoch (the floor)
    "10": {"EPOCHS": 1, "PIXEL_EPOCHS": 1, "VIDEO_EPOCHS": 1, "CAPTION_EPOCHS": 1},
    "11": {"EPOCHS": 1},
}
#: The full-mode smoke never reaches the internet, even where there is one: downloads go to a
#: closed local port and are refused at once, so every loader takes its offline fallback and a run
#: costs the same on every machine. A dataset already in data/cache or COURSE_DATA_DIR is used.
OFFLINE_ENV = {"COURSE_DATA_MIRROR": "http://127.0.0.1:9/"}

#: ``make test-oldest`` runs every notebook once with Colab's own older TensorFlow and Keras, under
#: mixed_float16 as on a Colab GPU, except these, which run in float32 there: TensorFlow 2.19's CPU
#: float16 kernels make them 5 to 9 times slower than in float32 (test mode, two idle cores:
#: 02 145 s vs 32 s, 03 96 vs 15, 08 292 vs 31, 09 233 vs 45, 10 245 vs 40), which CI's 30
#: minutes cannot hold; TensorFlow 2.21's are not slow (08: 48 s). Their mixed_float16 path runs
#: with the newest set (``make test``); a GPU runs float16 with its own kernels.
OLDEST_FLOAT32 = {"02", "03", "08", "09", "10"}

#: ``COURSE_PATHS``: ``all`` (``make test``): the matrix above, in test mode. ``oldest``
#: (``make test-oldest``, with requirements-oldest.txt installed): every notebook once with its
#: default parameters, under mixed_float16 but for :data:`OLDEST_FLOAT32`; the switches and
#: nbval's output comparison run with the newest set only. ``full``
#: (``make test-full``): the full-mode smoke. ``COURSE_PATHS_NB`` (``make test-full NB="02 07"``)
#: keeps only the notebooks it names.
PATH_SET = os.environ.get("COURSE_PATHS", "all")
if PATH_SET not in ("all", "oldest", "full"):
    raise ValueError(f"COURSE_PATHS must be 'all', 'oldest' or 'full', got {PATH_SET!r}")
MODE = "full" if PATH_SET == "full" else "test"
if PATH_SET == "oldest":
    MATRIX = [(name[:2], "float32" if name[:2] in OLDEST_FLOAT32 else "mixed_float16", {})
              for name in NOTEBOOKS]
elif PATH_SET == "full":
    MATRIX = [(name[:2], "mixed_float16", FULL_SMOKE[name[:2]]) for name in NOTEBOOKS]
if os.environ.get("COURSE_PATHS_NB", "").split():
    wanted = {n[:2] for n in os.environ["COURSE_PATHS_NB"].split()}
    MATRIX = [case for case in MATRIX if case[0] in wanted]


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

#: Per mode: the checks of :data:`SANITY` that differ in that mode. In the full smoke 02 trains
#: one whole epoch (its step cap never cuts below one epoch): 107 steps on the offline digits.
MODE_SANITY = {
    "full": {"00": {"mode": lambda v: v == "full"},
             "02": {"train_steps": lambda v: isinstance(v, int) and 0 < v <= 1_000}},
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
#: all of them (about 19 runs of at most 90 s each, two at a time); the suite's 900 s would be too
#: tight on a loaded machine. The full smoke's 12 runs take one to two hours on two cores.
pytestmark = pytest.mark.timeout(2400 if MODE == "test" else 4 * 3600)
#: nbclient's limit per cell: a full-smoke cell (one epoch over full-size data, 09's sampling
#: sweeps) may take most of an hour on a CPU.
CELL_TIMEOUT = {"test": 600, "full": 3600}

#: Filled as the runs finish; printed as a table at the end of the session (conftest.py).
RESULTS: list[runner.Result] = []

#: Runs in parallel: two kernels of one TensorFlow thread each use two cores better than one
#: kernel of two threads (much of a test-mode run is single-threaded Python). COURSE_PATH_WORKERS
#: changes it.
WORKERS = int(os.environ.get("COURSE_PATH_WORKERS", "2"))
THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _id(case) -> str:
    name, precision, params = case
    if MODE == "full":  # the full-mode smoke: its parameters are FULL_SMOKE's
        return f"{name}-full-smoke-{precision}"
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
    offline = OFFLINE_ENV if MODE == "full" else {}
    return {**THREADS, **offline, **{k: v for k, v in given.items() if k in ENV_KEYS}}


def _seconds(name: str) -> float:
    """A notebook's test-mode run time as last measured (30 s when it has not been)."""
    try:
        notebooks = json.loads((paths.repo_root() / "site" / "live_times.json").read_text())["notebooks"]
    except (OSError, ValueError, KeyError):
        return 30.0
    return float(notebooks.get(runner.resolve([name])[0].stem, {}).get("total_seconds", 30.0))


@pytest.fixture(scope="module")
def matrix_results(own_photo) -> dict[str, runner.Result]:
    """Every case of MATRIX, run once, in MODE, by id.

    The runs of one notebook go one after another (they write the same files in data/artifacts).
    The generative notebooks score with the committed judge, so no notebook waits for another.
    """
    groups: dict[str, list] = {}
    for case in MATRIX:
        groups.setdefault(case[0], []).append(case)
    # The longest groups first, by the notebooks' measured test-mode times (the lecturer page's
    # site/live_times.json), so the two workers finish together.
    order = sorted(groups, key=lambda n: -len(groups[n]) * _seconds(n))

    def run_group(cases):
        out = {}
        for name, precision, given in cases:
            [path] = runner.resolve([name])
            out[_id((name, precision, given))] = runner.run_notebook(
                path, MODE, precision=precision, parameters=_params(given, own_photo),
                timeout=CELL_TIMEOUT[MODE], env=_env(given),
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
    assert result.mode == MODE
    assert result.precision == precision, "setup() did not report the precision asked for"
    assert result.parameters == _params(given, own_photo)
    for key, value in result.metrics.items():
        # report.record stores NaN and infinities as strings: no recorded number may be one.
        assert value not in ("nan", "inf", "-inf"), f"{result.name}: {key} = {value}"
    checks = {**SANITY.get(name, {}), **MODE_SANITY.get(MODE, {}).get(name, {})}
    for key, value in given.items():
        checks.update(SWITCH_CHECKS.get((name, key, value), {}))
    for key, check in checks.items():
        assert key in result.metrics, f"{result.name} no longer records {key}"
        assert check(result.metrics[key]), f"{result.name}: {key} = {result.metrics[key]!r}"


@pytest.mark.skipif(PATH_SET != "all" or bool(os.environ.get("COURSE_PATHS_NB", "").split()),
                    reason="only the whole matrix of make test covers every switch")
def test_matrix_covers_every_notebook_and_switch():
    mixed = {name for name, precision, _ in MATRIX if precision == "mixed_float16"}
    assert mixed == {n[:2] for n in NOTEBOOKS}
    switched = {(name, key) for name, _, params in SWITCHES for key in params}
    assert {("02", "DATASET"), ("04", "USE_PETS"), ("07", "OWN_IMAGE"), ("08", "DATASET"),
            ("02", "COURSE_DEVICES"), ("05", "COURSE_DEVICES")} <= switched
    assert set(SANITY) <= {n[:2] for n in NOTEBOOKS}
    assert {(n, k, v) for n, _, p in SWITCHES for k, v in p.items()} == set(SWITCH_CHECKS)
    assert np.all([isinstance(p, dict) for _, _, p in MATRIX])
    assert set(FULL_SMOKE) == {n[:2] for n in NOTEBOOKS}, "every notebook has its full-smoke cuts"


#: Parameters whose names look like training lengths but are not: 00 only prints its example, and
#: 09's SAMPLE_STEPS and GUIDE_STEPS are DDIM sampling steps, part of the full-size evaluation.
NOT_TRAINING = {("00", "EXAMPLE_EPOCHS"), ("09", "SAMPLE_STEPS"), ("09", "GUIDE_STEPS")}
TRAINING_LENGTH = re.compile(r"EPOCHS|STEPS|ROUNDS")


def _full_values(nb) -> dict:
    """Each ``NAME = course_utils.budget(..., full=VALUE)`` of the parameters cell: NAME -> VALUE."""
    import ast

    index, _ = runner.parameter_names(nb)
    values = {}
    for node in ast.parse(nb.cells[index].source).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.targets[0], ast.Name)):
            for keyword in node.value.keywords:
                if keyword.arg == "full":
                    values[node.targets[0].id] = ast.literal_eval(keyword.value)
    return values


def test_full_smoke_cuts_only_training():
    """The full smoke cuts every training length of every notebook, and nothing else: each
    override names an epoch count, a step count or a number of mining rounds of its notebook's
    parameters cell, and sets it to a positive integer below its full-mode value."""
    import nbformat

    for name, given in FULL_SMOKE.items():
        [path] = runner.resolve([name])
        nb = nbformat.read(path, as_version=4)
        _, known = runner.parameter_names(nb)
        full = _full_values(nb)
        lengths = {k for k in known if TRAINING_LENGTH.search(k) and (name, k) not in NOT_TRAINING}
        assert set(given) == lengths, f"{name}: the full smoke must cut exactly {sorted(lengths)}"
        for key, value in given.items():
            assert isinstance(value, int) and value > 0, f"{name}: {key} = {value!r}"
            assert full.get(key) is None or value < full[key], f"{name}: {key} = {value} is no cut"
