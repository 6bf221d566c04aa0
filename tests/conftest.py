"""Test configuration shared by the unit tests and the nbval notebook run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Notebooks and helpers run in test mode under pytest: small data, offline, fast.
os.environ["COURSE_MODE"] = "test"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

# nbval: stderr (TensorFlow warnings) and HTML reprs are never compared, and a cell may be
# silent for longer than nbval's default 5 s while it trains.
NBVAL_SKIP_COMPARE = ("stderr", "text/html")
NBVAL_OUTPUT_TIMEOUT = 120


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
