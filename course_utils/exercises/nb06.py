"""Exercise checkers for notebook 06 (generative adversarial networks).

* :func:`check_optimal_discriminator` - D*(x) = p_data(x) / (p_data(x) + p_g(x)) at one point;
* :func:`check_generator_output_shape` - the output shape of the small generator in
  :data:`GENERATOR_LAYERS`;
* :func:`check_mode_collapse` - which of the class histograms in :data:`CLASS_HISTOGRAMS`
  comes from a collapsed generator;
* :func:`check_fair_floor` - which statements in :data:`FLOOR_STATEMENTS` about a
  Frechet-distance floor are true (a conceptual question).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._check import feedback, not_answered

__all__ = [
    "CLASS_HISTOGRAMS",
    "DENSITIES",
    "FLOOR_STATEMENTS",
    "GENERATOR_LAYERS",
    "check_fair_floor",
    "check_generator_output_shape",
    "check_mode_collapse",
    "check_optimal_discriminator",
]

#: Densities of real data and of the generator at one point x (exercise 1).
DENSITIES = {"p_data": 0.6, "p_g": 0.2}

#: The generator of exercise 2, layer by layer (Keras arguments; input: a 100-d noise vector).
GENERATOR_LAYERS = (
    'layers.Dense(4 * 4 * 128, activation="relu")',
    "layers.Reshape((4, 4, 128))",
    'layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu")',
    'layers.Conv2DTranspose(32, 3, strides=2, padding="valid", activation="relu")',
    'layers.Conv2DTranspose(1, 4, strides=1, padding="valid", activation="tanh")',
)
_GENERATOR_SHAPE = (20, 20, 1)  # 4 -> 8 (same, x2) -> (8-1)*2+3 = 17 -> (17-1)*1+4 = 20

#: Classifier labels of 1,000 samples from three generators, counts per digit 0..9 (exercise 3).
CLASS_HISTOGRAMS = {
    "A": (98, 105, 101, 96, 99, 103, 97, 102, 100, 99),
    "B": (150, 60, 120, 80, 45, 130, 70, 110, 95, 140),
    "C": (0, 412, 3, 0, 0, 9, 0, 571, 5, 0),
}
_COLLAPSED = "C"


def check_optimal_discriminator(answer: Any) -> bool:
    """Exercise 1: the optimal discriminator's output at a point with :data:`DENSITIES`."""
    name = "optimal discriminator"
    if answer is None:
        return not_answered(name)
    expected = DENSITIES["p_data"] / (DENSITIES["p_data"] + DENSITIES["p_g"])
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return feedback(name, False, "give one number between 0 and 1.")
    ok = math.isfinite(value) and abs(value - expected) <= 1e-3
    hint = "D*(x) = p_data(x) / (p_data(x) + p_g(x)): the share of the density at x that is real."
    if math.isfinite(value) and abs(value - (1 - expected)) <= 1e-3:
        hint = "you swapped the roles: D outputs the probability that x is REAL. " + hint
    return feedback(name, ok, hint, detail=f"D*(x) = 0.6 / (0.6 + 0.2) = {expected:.2f}.")


def _as_shape(answer: Any) -> tuple[int, ...] | None:
    try:
        shape = tuple(answer)
    except TypeError:
        return None
    if shape and shape[0] is None:  # (None, H, W, C) with the batch axis is fine
        shape = shape[1:]
    try:
        if not all(float(s).is_integer() for s in shape):
            return None
        return tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        return None


def check_generator_output_shape(answer: Any) -> bool:
    """Exercise 2: the output shape ``(H, W, C)`` of :data:`GENERATOR_LAYERS`."""
    name = "generator output shape"
    if answer is None:
        return not_answered(name)
    shape = _as_shape(answer)
    if shape is None or len(shape) != 3:
        return feedback(name, False, "give a tuple (height, width, channels), e.g. (28, 28, 1).")
    ok = shape == _GENERATOR_SHAPE
    if shape[:2] == (32, 32):
        hint = "only padding='same' multiplies the size by the stride; 'valid' gives (n - 1) * s + k."
    elif shape[2] != 1:
        hint = "the channels are the filters of the last layer."
    else:
        hint = "'same': n * s; 'valid': (n - 1) * s + k. Go layer by layer from 4 x 4."
    return feedback(name, ok, hint, detail="4 -> 8 -> 17 -> 20, one channel.")


def check_mode_collapse(answer: Any) -> bool:
    """Exercise 3: the letter of the collapsed generator in :data:`CLASS_HISTOGRAMS`."""
    name = "mode collapse"
    if answer is None:
        return not_answered(name)
    letter = str(answer).strip().upper()
    if letter not in CLASS_HISTOGRAMS:
        return feedback(name, False, f"answer with one of {', '.join(CLASS_HISTOGRAMS)}.")
    counts = np.asarray(CLASS_HISTOGRAMS[_COLLAPSED])
    detail = (
        f"{_COLLAPSED} makes almost only {int(np.argsort(counts)[-1])}s and {int(np.argsort(counts)[-2])}s; "
        f"its smallest class share is {counts.min() / counts.sum():.3f}."
    )
    hint = "look for classes the generator never (or almost never) produces: the smallest share."
    if letter == "B":
        hint = "B is uneven, but every digit still gets at least 4.5% of the samples. " + hint
    return feedback(name, letter == _COLLAPSED, hint, detail=detail)


#: Exercise 4: a report gives a Frechet distance of 1,000 generated digits and a "floor" of 5,000
#: real *training* digits (the judge was trained on them), both against the same held-out set.
FLOOR_STATEMENTS = {
    "A": "The Frechet distance is biased upwards for small sets, so a floor from 5,000 images is "
         "lower than what 1,000 perfect samples would score: the comparison is unfair to the generator.",
    "B": "The judge's features of images it was trained on can differ from its features of new "
         "digits, so this floor does not show what fresh real digits score.",
    "C": "More images always make a floor more reliable, so it is fairest to use every training image.",
    "D": "A bootstrap interval around the floor removes its small-N bias.",
    "E": "Equal numbers of images matter only when the two sets have different class mixes.",
}
_FLOOR_TRUE = frozenset({"A", "B"})
#: Why each false statement is false (the solution explains these; the checker's hint names no letter).
_FLOOR_WHY = {
    "C": "the floor must be measured at the generated set's size, because the distance depends on N.",
    "D": "an interval shows how much the value moves with the images drawn; it does not remove bias.",
    "E": "the small-N bias is there whatever the class mix.",
}


def _as_letters(answer: Any) -> frozenset[str] | None:
    if isinstance(answer, str):
        parts = [c for c in answer.upper() if c.isalpha()]
    else:
        try:
            parts = [str(a).strip().upper() for a in answer]
        except TypeError:
            return None
    if not parts or any(p not in FLOOR_STATEMENTS for p in parts):
        return None
    return frozenset(parts)


def check_fair_floor(answer: Any) -> bool:
    """Exercise 4: the set of true statements in :data:`FLOOR_STATEMENTS` (e.g. ``{"A", "C"}``)."""
    name = "fair floor"
    if answer is None:
        return not_answered(name)
    letters = _as_letters(answer)
    if letters is None:
        return feedback(name, False, f"answer with the letters of all true statements, e.g. {{'A', 'C'}}, "
                                     f"from {', '.join(FLOOR_STATEMENTS)}.")
    wrong = sorted(letters - _FLOOR_TRUE)
    missing = sorted(_FLOOR_TRUE - letters)
    if wrong:  # no letter is named, so one try does not reveal the answer
        hint = ("at least one statement you chose is false. For each, ask: does a bootstrap interval "
                "move a value, or only show its spread? Does the distance depend on the number of images, "
                "whatever the class mix?")
    elif missing:
        hint = f"{len(missing)} true statement(s) missing: think about the number of images and about what the judge has seen."
    else:
        hint = ""
    return feedback(name, letters == _FLOOR_TRUE, hint,
                    detail="A and B: a fair floor uses as many images as the generated set, of digits the judge never saw. "
                    + " ".join(f"{k}: {why}" for k, why in _FLOOR_WHY.items()))
