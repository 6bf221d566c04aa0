"""Test configuration shared by the unit tests and the nbval notebook run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Notebooks and helpers run in test mode under pytest: small data, offline, fast.
os.environ["COURSE_MODE"] = "test"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The references the tests compare against must be right. TensorFlow 2.21's oneDNN convolution
# returns wrong values for some shapes on AVX-512 CPUs (see test_conv.py's pinned example), so the
# suite runs TensorFlow with oneDNN off. Set before anything imports TensorFlow; the kernels of
# the path matrix inherit it (oneDNN's float16 CPU kernels are about 100 times slower than the
# default ones), while nbval's kernels get TensorFlow's default back: the students' setting.
_ONEDNN_DEFAULT = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Hypothesis draws the same examples on every run (profile "ci", the default), so a red run can
# be repeated; HYPOTHESIS_PROFILE=explore searches with fresh random examples.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

# nbval: stderr (TensorFlow warnings) and HTML reprs are never compared, and a cell may be
# silent for longer than nbval's default 5 s while it trains.
NBVAL_SKIP_COMPARE = ("stderr", "text/html")
NBVAL_OUTPUT_TIMEOUT = 120


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel with this process's environment: the students' oneDNN."""
    if type(item).__name__ == "IPyNbCell":
        if _ONEDNN_DEFAULT is None:
            os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)
        else:
            os.environ["TF_ENABLE_ONEDNN_OPTS"] = _ONEDNN_DEFAULT


def pytest_collection_modifyitems(config, items):
    for item in items:
        parent = getattr(item, "parent", None)
        if type(item).__name__ == "IPyNbCell" and parent is not None:
            if not set(NBVAL_SKIP_COMPARE) <= set(parent.skip_compare):
                parent.skip_compare = tuple(parent.skip_compare) + NBVAL_SKIP_COMPARE
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT


@pytest.fixture
def shared_datasets() -> Path:
    """The real test data kept beside the project; skips the test when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"{SHARED_DATASETS} is absent")
    return SHARED_DATASETS


def pytest_terminal_summary(terminalreporter):
    """Print the path matrix (tests/test_paths.py) as the runner's table, when it ran."""
    import sys

    module = sys.modules.get("test_paths")
    results = getattr(module, "RESULTS", None)
    if not results:
        return
    from course_utils import runner

    width = max(len(r.name) for r in results)
    terminalreporter.section(f"path matrix ({results[0].mode} mode)")
    terminalreporter.write_line(runner.header(width))
    for result in results:
        terminalreporter.write_line(runner.format_row(result, width))
