"""The path matrix: every notebook under mixed precision, and every switch a parameters cell offers.

Students do not run the course the way nbval does (CPU, float32, default parameters). On Colab's
GPU the course runs under ``mixed_float16``; a parameters cell offers other datasets and a photo
of one's own. Each of those paths runs here, in ``test`` mode, through the headless runner
(``python -m course_utils run``), and must end with status ok and sane recorded metrics.

CPUs execute the same Keras dtype paths as a GPU under ``mixed_float16`` (float16 compute with
float32 variables), so dtype mix-ups and missing casts fail here as they would on Colab. The runs
inherit the suite's TF_ENABLE_ONEDNN_OPTS=0 (conftest.py): oneDNN's float16 CPU kernels are about
100 times slower than TensorFlow's default ones.
"""

from __future__ import annotations

import math
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
]
MATRIX = [(name[:2], "mixed_float16", {}) for name in NOTEBOOKS] + SWITCHES


def _in_unit_interval(value) -> bool:
    return isinstance(value, (int, float)) and 0.0 <= value <= 1.0


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


#: Per notebook: recorded metric -> a condition every run must meet, even a 1-epoch one.
SANITY = {
    "00": {"mode": lambda v: v == "test"},
    "01": {"max_abs_err_conv": lambda v: _finite(v) and v < 1e-5},  # float32 references
    "02": {"test_accuracy": _in_unit_interval},
    "03": {"map50": _in_unit_interval},
    "04": {"miou": _in_unit_interval},
    "05": {"neg_elbo": lambda v: _finite(v) and v > 0},
    "06": {"class_coverage_min": _in_unit_interval},
    "07": {"psnr_denoise": _finite},
}

#: Filled as the runs finish; printed as a table at the end of the session (conftest.py).
RESULTS: list[runner.Result] = []


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


@pytest.mark.parametrize("case", MATRIX, ids=[_id(c) for c in MATRIX])
def test_path(case, own_photo):
    name, precision, params = case
    params = {k: (str(own_photo) if v == "<own photo>" else v) for k, v in params.items()}
    [path] = runner.resolve([name])
    result = runner.run_notebook(
        path, "test", precision=precision, parameters=params, timeout=600,
    )
    RESULTS.append(result)
    assert result.status == "ok", result.error
    assert result.precision == precision, "setup() did not report the precision asked for"
    assert result.parameters == params
    for key, value in result.metrics.items():
        # report.record stores NaN and infinities as strings: no recorded number may be one.
        assert value not in ("nan", "inf", "-inf"), f"{path.stem}: {key} = {value}"
    for key, check in SANITY.get(name, {}).items():
        assert key in result.metrics, f"{path.stem} no longer records {key}"
        assert check(result.metrics[key]), f"{path.stem}: {key} = {result.metrics[key]!r}"


def test_matrix_covers_every_notebook_and_switch():
    mixed = {name for name, precision, _ in MATRIX if precision == "mixed_float16"}
    assert mixed == {n[:2] for n in NOTEBOOKS}
    switched = {(name, key) for name, _, params in SWITCHES for key in params}
    assert {("02", "DATASET"), ("04", "USE_PETS"), ("07", "OWN_IMAGE")} <= switched
    assert set(SANITY) <= {n[:2] for n in NOTEBOOKS}
    assert np.all([isinstance(p, dict) for _, _, p in MATRIX])
