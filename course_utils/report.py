"""Headline numbers a notebook records for its results cell and for the headless runner.

A notebook calls ``record("test_accuracy", acc)`` for each number it reports, then
``show()`` prints them as a small table. When the notebook runs under
``python -m course_utils run``, the runner sets ``COURSE_REPORT_PATH`` and every
``record`` also rewrites that JSON file, so the runner can read the metrics even if a
later cell fails.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

REPORT_ENV = "COURSE_REPORT_PATH"
#: Where ``setup()`` writes what it configured (mode, precision) for the headless runner.
RUNTIME_ENV = "COURSE_RUNTIME_PATH"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_METRICS: dict[str, Any] = {}


def to_jsonable(value: Any, *, name: str = "value") -> Any:
    """Convert NumPy scalars/arrays, tuples and mappings into plain JSON values."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), name=name)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, name=f"{name}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, name=name) for v in value]
    if hasattr(value, "numpy"):  # a TensorFlow/Keras tensor
        return to_jsonable(np.asarray(value), name=name)
    raise ValueError(
        f"{name} must be a number, string, bool, list or dict (JSON-like), got {type(value).__name__}"
    )


def record(name: str, value: Any) -> Any:
    """Record one headline number (or string, list or dict) under ``name`` and return it."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name must be an identifier-like string such as 'test_accuracy', got {name!r}"
        )
    _METRICS[name] = to_jsonable(value, name=name)
    path = os.environ.get(REPORT_ENV)
    if path:
        _write_atomic(Path(path), _METRICS)
    return value


def metrics() -> dict[str, Any]:
    """A copy of everything recorded so far in this process."""
    return dict(_METRICS)


def clear() -> None:
    """Forget every recorded metric (the report file, if any, is left alone)."""
    _METRICS.clear()


def format_value(value: Any) -> str:
    """Short text for a metric value: 4 significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def show(values: Mapping[str, Any] | None = None) -> None:
    """Print the recorded metrics (or ``values``) as a two-column table."""
    values = metrics() if values is None else dict(values)
    if not values:
        print("(no metrics recorded)")
        return
    width = max(len(k) for k in values)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 5}")
    for key, value in values.items():
        print(f"{key:<{width}}  {format_value(value)}")


def write_runtime(values: Mapping[str, Any]) -> None:
    """Write ``values`` to the file named by ``COURSE_RUNTIME_PATH``, when the runner set it."""
    path = os.environ.get(RUNTIME_ENV)
    if path:
        _write_atomic(Path(path), {str(k): to_jsonable(v, name=str(k)) for k, v in values.items()})


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read a report file written by :func:`record`; a missing file gives ``{}``."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
