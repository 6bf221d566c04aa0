"""Verification and identification metrics of notebook 08 (face recognition).

A verification system compares two samples and returns a **score**, higher meaning "more
likely the same identity" (for a distance, pass ``-distance``). ``labels`` are True (or 1) for
genuine pairs (same identity) and False (0) for impostor pairs. A pair is *accepted* when its
score is at least the threshold ``t``:

* false accept rate ``FAR(t)`` = impostor pairs accepted / impostor pairs (the ROC's false
  positive rate);
* true accept rate ``TAR(t)`` = genuine pairs accepted / genuine pairs (true positive rate), and
  the false reject rate ``FRR(t) = 1 - TAR(t)``.

The ROC curve traces ``(FAR, TAR)`` as ``t`` falls from above the largest score to the smallest;
:func:`roc_curve` gives the same points as ``sklearn.metrics.roc_curve(...,
drop_intermediate=False)`` and :func:`roc_auc` the same area as ``sklearn.metrics.roc_auc_score``
(ties count one half). The equal error rate is where FAR = FRR; TAR at FAR = x is the TAR of the
most permissive threshold whose FAR is still at most x. Identification (1:N) ranks the
identities of a gallery for each probe: :func:`identification_ranks`, :func:`rank_k_accuracy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EER", "choose_threshold", "eer", "far_frr", "identification_ranks", "rank_k_accuracy",
    "roc_auc", "roc_curve", "tar_at_far", "verification_accuracy",
]


def _labels_scores(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores must have the same length, got {y.shape[0]} and {s.shape[0]}")
    if y.dtype != bool:
        if not np.all(np.isin(y, (0, 1))):
            raise ValueError("labels must be True/False or 1/0 (1 = genuine pair), "
                             f"got values {np.unique(y)[:5].tolist()}")
        y = y.astype(bool)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    if y.all() or not y.any():
        raise ValueError(f"labels must contain both genuine (1) and impostor (0) pairs, "
                         f"got {int(y.sum())} genuine of {len(y)}")
    return y, s


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC: ``(far, tar, thresholds)``, three float arrays of the same length.

    ``thresholds`` are the distinct scores in decreasing order with ``inf`` first (accept
    nothing); ``far[k]`` and ``tar[k]`` are the rates of accepting ``score >= thresholds[k]``.
    The first point is (0, 0) and the last (1, 1). Equal to ``sklearn.metrics.roc_curve(labels,
    scores, drop_intermediate=False)``.
    """
    y, s = _labels_scores(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each run of equal scores
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    tar = np.r_[0.0, tp / y.sum()]
    far = np.r_[0.0, fp / (~y).sum()]
    return far, tar, np.r_[np.inf, s[last]]


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve: the probability that a random genuine pair scores above a random
    impostor pair (ties count one half), by the trapezoidal rule over :func:`roc_curve`."""
    far, tar, _ = roc_curve(labels, scores)
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2))


@dataclass(frozen=True)
class EER:
    """The equal error rate ``rate`` and the score ``threshold`` at which FAR and FRR cross."""

    rate: float
    threshold: float

    def __float__(self) -> float:
        return float(self.rate)


def eer(labels, scores) -> EER:
    """The equal error rate: where ``FAR(t) = FRR(t)`` on the ROC.

    FAR rises and FRR falls along the ROC points; between the last point with FAR < FRR and the
    next one the two are interpolated linearly, and ``rate`` is their common value there.
    ``threshold`` is the score of the ROC point nearer to the crossing (accept ``score >=
    threshold``). Perfectly separated scores give rate 0.
    """
    far, tar, thr = roc_curve(labels, scores)
    frr = 1.0 - tar
    diff = far - frr  # rises from -1 to +1
    k = int(np.flatnonzero(diff >= 0)[0])  # first point with FAR >= FRR (exists: the last point)
    if diff[k] == 0 or k == 0:
        return EER(float(far[k]), float(thr[k]))
    a, b = diff[k - 1], diff[k]  # a < 0 <= b
    w = -a / (b - a)
    rate = float(far[k - 1] + w * (far[k] - far[k - 1]))
    nearer = k if w >= 0.5 else k - 1
    t = thr[nearer] if np.isfinite(thr[nearer]) else thr[k]
    return EER(rate, float(t))


def tar_at_far(labels, scores, far: float) -> tuple[float, float]:
    """``(tar, threshold)``: the highest TAR among thresholds whose FAR is at most ``far``.

    With ``n`` impostor pairs FAR moves in steps of ``1 / n``: a value of ``far`` below
    ``1 / n`` can only be met by accepting no impostor at all, so report TAR at FAR = 1e-3 only
    when there are well over 1,000 impostor pairs. ``threshold`` is ``inf`` when only "accept
    nothing" qualifies.
    """
    if not 0 <= far <= 1:
        raise ValueError(f"far must be in [0, 1], got {far!r}")
    fars, tars, thr = roc_curve(labels, scores)
    ok = np.flatnonzero(fars <= far + 1e-12)
    k = int(ok[-1])  # FAR and TAR only grow along the curve: the last admissible point is best
    return float(tars[k]), float(thr[k])


def far_frr(labels, scores, threshold: float) -> tuple[float, float]:
    """``(FAR, FRR)`` of accepting pairs with ``score >= threshold``."""
    y, s = _labels_scores(labels, scores)
    accept = s >= threshold
    return float(np.mean(accept[~y])), float(np.mean(~accept[y]))


def verification_accuracy(labels, scores, threshold: float) -> float:
    """The fraction of pairs decided right (genuine accepted, impostor rejected) at ``threshold``."""
    y, s = _labels_scores(labels, scores)
    return float(np.mean((s >= threshold) == y))


def choose_threshold(labels, scores, rule: str = "accuracy", far: float | None = None) -> float:
    """A decision threshold chosen on validation pairs, to be applied unchanged to test pairs.

    ``rule="accuracy"`` maximises :func:`verification_accuracy` over the ROC thresholds (the
    LFW protocol's choice); ``"eer"`` takes the :func:`eer` threshold; ``"far"`` takes the
    :func:`tar_at_far` threshold for the given ``far``. Ties go to the higher threshold.
    """
    if rule == "accuracy":
        y, s = _labels_scores(labels, scores)
        fars, tars, thr = roc_curve(y, s)
        n_gen, n_imp = y.sum(), (~y).sum()
        acc = (tars * n_gen + (1 - fars) * n_imp) / len(y)
        k = int(np.argmax(acc[1:])) + 1  # never "accept nothing" (inf) when a finite one ties it
        return float(thr[k]) if acc[k] >= acc[0] else float(thr[0])
    if rule == "eer":
        return eer(labels, scores).threshold
    if rule == "far":
        if far is None:
            raise ValueError("far: rule='far' needs the target false accept rate, e.g. far=1e-2")
        return tar_at_far(labels, scores, far)[1]
    raise ValueError(f"rule must be 'accuracy', 'eer' or 'far', got {rule!r}")


def identification_ranks(similarity, probe_labels, gallery_labels) -> np.ndarray:
    """The rank of each probe's true identity among the gallery's identities (1 = best).

    ``similarity`` is (P, G): probe p against gallery item g, higher = more alike. An identity
    with several gallery items scores its best one. The rank is 1 + the number of *other*
    identities that score at least as high as the true one (ties count against the probe, so a
    constant similarity gives the worst rank). Every probe's identity must be in the gallery
    (closed-set identification). Returns int64 (P,).
    """
    sim = np.asarray(similarity, np.float64)
    pl = np.asarray(probe_labels).reshape(-1)
    gl = np.asarray(gallery_labels).reshape(-1)
    if sim.ndim != 2 or sim.shape != (len(pl), len(gl)):
        raise ValueError(f"similarity must have shape (len(probe_labels), len(gallery_labels)) = "
                         f"({len(pl)}, {len(gl)}), got {sim.shape}")
    ids = np.unique(gl)
    missing = np.setdiff1d(np.unique(pl), ids)
    if len(missing):
        raise ValueError(f"probe_labels {missing[:5].tolist()} have no gallery item (closed-set "
                         "identification needs every probe identity in the gallery)")
    per_id = np.stack([sim[:, gl == c].max(axis=1) for c in ids], axis=1)  # (P, identities)
    true = per_id[np.arange(len(pl)), np.searchsorted(ids, pl)]
    others = per_id >= true[:, None]  # includes the true identity itself
    return (others.sum(axis=1)).astype(np.int64)


def rank_k_accuracy(similarity, probe_labels, gallery_labels, k: int = 1) -> float:
    """The fraction of probes whose identity is among the ``k`` best-scoring gallery identities."""
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return float(np.mean(identification_ranks(similarity, probe_labels, gallery_labels) <= k))
