"""Helpers for *Deep Learning for Image Processing with Keras*.

Importing the package is light (no TensorFlow): the runtime switch and the report are
loaded at once; the other modules (``data``, ``shapes``, ``sequences``, ``conv``, ``boxes``,
``metrics``, ``degrade``, ``viz``, ``exercises``) load on first use, e.g. ``course_utils.data``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .report import record, show
from .runtime import budget, mode, setup

__version__ = "0.1.0"

_SUBMODULES = {
    "boxes", "classifier", "colab", "conv", "data", "degrade", "exercises", "faces", "metrics", "paths",
    "report", "runner", "runtime", "sequences", "shapes", "viz",
}
# Functions re-exported at the top level, loaded lazily from their module.
_LAZY = {"load_classifier": "classifier", "load_judge": "classifier"}

__all__ = ["budget", "mode", "record", "setup", "show", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
