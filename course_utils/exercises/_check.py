"""The one-line feedback every exercise checker prints."""

from __future__ import annotations


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
