"""Exercise checkers for notebook 08 (face recognition)."""

from __future__ import annotations

import numpy as np

from ._check import feedback, not_answered, number

__all__ = ["EER_GENUINE", "EER_IMPOSTOR", "RATE_GENUINE", "RATE_IMPOSTOR", "RATE_THRESHOLDS",
           "TRIPLET", "check_eer", "check_far_frr", "check_triplet_loss"]

#: Similarity scores of four genuine and four impostor pairs (exercise 1).
EER_GENUINE = (0.9, 0.8, 0.6, 0.35)
EER_IMPOSTOR = (0.7, 0.4, 0.3, 0.2)

#: Unit-length 2-d embeddings of an anchor, a positive and a negative, and the margin (exercise 2).
TRIPLET = {"anchor": (1.0, 0.0), "positive": (0.6, 0.8), "negative": (0.8, 0.6), "margin": 0.2}

#: Scores of five genuine and five impostor pairs and three thresholds (exercise 3).
RATE_GENUINE = (0.95, 0.8, 0.65, 0.55, 0.4)
RATE_IMPOSTOR = (0.6, 0.45, 0.35, 0.2, 0.1)
RATE_THRESHOLDS = (0.3, 0.5, 0.7)


def check_eer(answer: float | None) -> bool:
    """The equal error rate of the scores :data:`EER_GENUINE` / :data:`EER_IMPOSTOR` (accept
    ``score >= t``), as a fraction (0.25, not 25)."""
    name = "equal error rate"
    if answer is None:
        return not_answered(name)
    from ..metrics.verification import eer

    labels = [1] * len(EER_GENUINE) + [0] * len(EER_IMPOSTOR)
    expected = eer(labels, EER_GENUINE + EER_IMPOSTOR).rate
    value = number(answer)
    ok = value is not None and abs(value - expected) <= 1e-3
    hint = ("lower the threshold through the sorted scores and write FAR (impostors accepted / 4) "
            "and FRR (genuine rejected / 4) at each step; the EER is where they are equal.")
    if value is not None and abs(value - 100 * expected) <= 0.1:
        hint = "give the rate as a fraction between 0 and 1, not a percentage."
    return feedback(name, ok, hint=hint, detail=f"EER = {expected:.2f}")


def triplet_loss_value(anchor, positive, negative, margin: float) -> float:
    """FaceNet's triplet loss ``max(||a - p||^2 - ||a - n||^2 + margin, 0)`` (squared L2)."""
    a, p, n = (np.asarray(v, np.float64) for v in (anchor, positive, negative))
    return float(max(np.sum((a - p) ** 2) - np.sum((a - n) ** 2) + margin, 0.0))


def check_triplet_loss(answer: float | None) -> bool:
    """The triplet loss of :data:`TRIPLET` with squared Euclidean distances (FaceNet's form)."""
    name = "triplet loss by hand"
    if answer is None:
        return not_answered(name)
    t = TRIPLET
    expected = triplet_loss_value(t["anchor"], t["positive"], t["negative"], t["margin"])
    value = number(answer)
    ok = value is not None and abs(value - expected) <= 1e-3
    hint = "||a - p||^2 and ||a - n||^2 are sums of squared coordinate differences (no square root)."
    if value is not None and abs(value) <= 1e-9:
        hint = "the negative here is closer to the anchor than the positive: the loss is not zero."
    return feedback(name, ok, hint=hint, detail=f"loss = {expected:.2f}: the negative is closer than the positive")


def check_far_frr(answer: dict | None) -> bool:
    """``{threshold: (FAR, FRR)}`` for each of :data:`RATE_THRESHOLDS`, accepting ``score >= t``."""
    name = "FAR and FRR against the threshold"
    if answer is None:
        return not_answered(name)
    g, i = np.asarray(RATE_GENUINE), np.asarray(RATE_IMPOSTOR)
    expected = {t: (float(np.mean(i >= t)), float(np.mean(g < t))) for t in RATE_THRESHOLDS}
    ok = isinstance(answer, dict)
    if ok:
        for t, (far, frr) in expected.items():
            got = answer.get(t)
            try:
                ok = ok and got is not None and abs(float(got[0]) - far) <= 1e-6 and abs(float(got[1]) - frr) <= 1e-6
            except (TypeError, ValueError, IndexError):
                ok = False
    return feedback(name, ok, hint="FAR = share of impostor scores >= t, FRR = share of genuine "
                    "scores < t; answer {0.3: (FAR, FRR), 0.5: (...), 0.7: (...)}.",
                    detail="raising the threshold trades false accepts for false rejects.")
