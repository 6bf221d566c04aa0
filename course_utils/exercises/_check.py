"""The one-line feedback every exercise checker prints, and how checkers read a number."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def number(answer: Any) -> float | None:
    """``answer`` (a number, a one-element array or a numeric string) as a finite float, else ``None``."""
    try:
        value = float(np.asarray(answer, dtype=float).reshape(-1)[0]) if np.size(answer) == 1 else None
    except (TypeError, ValueError):
        return None
    return value if value is not None and math.isfinite(value) else None


def whole_number(answer: Any) -> int | None:
    """``answer`` as an int when it is a whole number (``3`` or ``3.0``), else ``None``."""
    value = number(answer)
    return int(value) if value is not None and value == int(value) else None


def not_answered(name: str) -> bool:
    """Feedback for an answer still set to ``None``."""
    print(f"{name}: not answered yet - replace None with your answer and run the cell again.")
    return False


def feedback(name: str, ok: bool, hint: str = "", detail: str = "") -> bool:
    """Print ``name: correct`` or ``name: not yet - hint`` and return ``ok``."""
    if ok:
        print(f"{name}: correct." + (f" {detail}" if detail else ""))
    else:
        print(f"{name}: not yet." + (f" Hint: {hint}" if hint else ""))
    return bool(ok)


def multiple_choice(name: str, answer, choices: dict, correct: str, hints: dict, detail: str = "") -> bool:
    """Check a one-letter answer among ``choices``: ``detail`` when right, ``hints[letter]`` when wrong."""
    if answer is None:
        return not_answered(name)
    given = answer.strip().lower().strip(")") if isinstance(answer, str) else None
    if given not in choices:
        return feedback(name, False, f"answer with one letter among {sorted(choices)}.")
    if given == correct:
        return feedback(name, True, detail=detail)
    return feedback(name, False, hints[given])
