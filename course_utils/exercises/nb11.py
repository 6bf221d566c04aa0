"""Exercise checkers for notebook 11 (attention and vision transformers).

* :func:`check_attention_weights` - the 3x3 matrix of attention weights for the three tokens of
  :data:`THREE_TOKENS`;
* :func:`check_vit_params` - the parameter count of the vision transformer described by
  :data:`VIT_CONFIG`;
* :func:`check_attention_cost` - the number of tokens and of attention weights for the image and
  patch size of :data:`COST_QUESTION`, and how they grow when the patch is halved.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._check import feedback, not_answered

__all__ = [
    "COST_QUESTION",
    "THREE_TOKENS",
    "VIT_CONFIG",
    "attention_cost_answer",
    "attention_weights_answer",
    "check_attention_cost",
    "check_attention_weights",
    "check_vit_params",
    "vit_param_count",
]

#: Exercise 1: queries and keys of three tokens (rows), d_k = 4 so that sqrt(d_k) = 2.
THREE_TOKENS = {
    "Q": [[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]],
    "K": [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 1.0]],
}

#: Exercise 2: a small ViT (pre-norm blocks, class token, learned position embedding, final LayerNorm).
VIT_CONFIG = {
    "image": (32, 32, 3),  # height, width, channels
    "patch": 4,  # non-overlapping patch_size x patch_size patches, embedded by a strided Conv2D with bias
    "width": 96,  # token width d; every head has d / heads dimensions
    "depth": 6,  # transformer blocks
    "heads": 3,
    "mlp": 384,  # hidden units of each block's MLP (Dense(mlp) - GELU - Dense(d), both with bias)
    "classes": 10,  # Dense(classes) on the final class token
}

#: Exercise 3: tokens and attention weights of one head in one layer, for this image and patch size.
COST_QUESTION = {"image": 224, "patch": 16}


def _matrix(answer: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    if value.shape != shape or not np.all(np.isfinite(value)):
        return None
    return value


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention_weights_answer() -> np.ndarray:
    """softmax(Q K^T / sqrt(d_k)) for :data:`THREE_TOKENS`, rows summing to 1: shape (3, 3)."""
    q, k = np.asarray(THREE_TOKENS["Q"]), np.asarray(THREE_TOKENS["K"])
    return _softmax(q @ k.T / math.sqrt(q.shape[-1]), axis=-1)


def check_attention_weights(answer: Any) -> bool:
    """Exercise 1: the (3, 3) attention weights ``softmax(Q K^T / sqrt(d_k))`` (row i: query i)."""
    name = "attention weights"
    if answer is None:
        return not_answered(name)
    value = _matrix(answer, (3, 3))
    if value is None:
        return feedback(name, False, "give a 3x3 matrix (a nested list or an array): row i holds the "
                                     "weights query i gives to keys 0, 1, 2.")
    expected = attention_weights_answer()
    q, k = np.asarray(THREE_TOKENS["Q"]), np.asarray(THREE_TOKENS["K"])
    scores = q @ k.T
    hint = "score_ij = q_i . k_j / sqrt(d_k), then a softmax along each row (over the keys j)."
    if np.allclose(value, _softmax(scores, axis=-1), atol=1e-3):
        hint = "the scores are divided by sqrt(d_k) = 2 before the softmax."
    elif np.allclose(value, _softmax(scores / 4.0, axis=-1), atol=1e-3):
        hint = "divide by sqrt(d_k) = 2, not by d_k = 4."
    elif np.allclose(value, _softmax(scores / 2.0, axis=0), atol=1e-3):
        hint = "the softmax runs over the keys, along each row: every row (one query) must sum to 1."
    elif np.allclose(value, expected.T, atol=1e-3):
        hint = "row i belongs to query i: you gave the transpose."
    elif np.allclose(value, scores / 2.0, atol=1e-3):
        hint = "those are the scaled scores; the weights are their softmax along each row."
    return feedback(name, np.allclose(value, expected, atol=1e-3), hint,
                    detail=f"scaled scores {np.round(scores / 2, 2).tolist()}; weights rounded "
                           f"{np.round(expected, 3).tolist()}.")


def vit_param_count(image: tuple[int, int, int], patch: int, width: int, depth: int, heads: int,
                    mlp: int, classes: int) -> dict[str, int]:
    """Parameters of a pre-norm ViT, by part (the ``"total"`` key is their sum).

    Patch embedding ``Conv2D(width, patch, strides=patch)`` with bias; a class token (``width``);
    a learned position embedding for the ``n + 1`` tokens; per block two LayerNorms (``2 width``
    each), multi-head attention (four ``width x width`` projections with biases, ``heads`` does not
    change the count) and an MLP ``width -> mlp -> width``; a final LayerNorm; a ``Dense(classes)``
    head. ``image`` is ``(height, width, channels)`` and must be divisible by ``patch``.
    """
    h, w, c = image
    if h % patch or w % patch:
        raise ValueError(f"image {image} is not divisible into {patch}x{patch} patches")
    if width % heads:
        raise ValueError(f"width {width} is not divisible by heads {heads}")
    n = (h // patch) * (w // patch)
    block = 2 * (2 * width) + (4 * width * width + 4 * width) + (width * mlp + mlp + mlp * width + width)
    parts = {
        "patch_embedding": patch * patch * c * width + width,
        "class_token": width,
        "position_embedding": (n + 1) * width,
        "blocks": depth * block,
        "final_norm": 2 * width,
        "head": width * classes + classes,
    }
    parts["total"] = sum(parts.values())
    return parts


def check_vit_params(answer: Any) -> bool:
    """Exercise 2: the number of parameters of the ViT in :data:`VIT_CONFIG`."""
    name = "ViT parameter count"
    if answer is None:
        return not_answered(name)
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return feedback(name, False, "give one integer, the number of trainable parameters.")
    parts = vit_param_count(**VIT_CONFIG)
    total = parts["total"]
    d, depth = VIT_CONFIG["width"], VIT_CONFIG["depth"]
    near_misses = {
        "without the class token (or without the class token's position)": total - parts["class_token"],
        "without the position embedding": total - parts["position_embedding"],
        "without the biases of the attention projections": total - depth * 4 * d,
        "without the LayerNorms": total - depth * 4 * d - parts["final_norm"],
        "without the final LayerNorm": total - parts["final_norm"],
    }
    hint = ("add patch embedding (P^2 C d + d), class token (d), position embedding ((n + 1) d), per "
            "block 2 LayerNorms (2d each), attention (4 d^2 + 4 d) and MLP (2 d m + m + d), the "
            "final LayerNorm (2d) and the head (10 d + 10).")
    for what, wrong in near_misses.items():
        if value == wrong:
            hint = f"that is the count {what}."
            break
    if value == total - depth * (4 * d * d + 4 * d) + depth * VIT_CONFIG["heads"] * (4 * d * d + 4 * d):
        hint = "the heads split the width d; they do not each get their own d x d projections."
    return feedback(name, value == total, hint,
                    detail=f"{total:,} = " + " + ".join(f"{v:,} ({k.replace('_', ' ')})"
                                                       for k, v in parts.items() if k != "total") + ".")


def attention_cost_answer() -> tuple[int, int, int]:
    """(patch tokens n, attention weights n^2 per head and layer, growth of n^2 when the patch is halved)."""
    n = (COST_QUESTION["image"] // COST_QUESTION["patch"]) ** 2
    n_half = (COST_QUESTION["image"] // (COST_QUESTION["patch"] // 2)) ** 2
    return n, n * n, (n_half * n_half) // (n * n)


def check_attention_cost(answer: Any) -> bool:
    """Exercise 3: ``(n, n**2, growth)`` for :data:`COST_QUESTION` (patch tokens, without a class token)."""
    name = "tokens and attention cost"
    if answer is None:
        return not_answered(name)
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError):
        values = None
    if values is None or len(values) != 3:
        return feedback(name, False, "give three numbers: (tokens, attention weights per head, growth factor).")
    n, n2, growth = attention_cost_answer()
    size, patch = COST_QUESTION["image"], COST_QUESTION["patch"]
    hints = []
    if values[0] != n:
        if values[0] == size // patch:
            hints.append(f"{size // patch} patches per side; the tokens cover both sides.")
        elif values[0] == n + 1:
            hints.append("count the patch tokens only, without the class token.")
        else:
            hints.append(f"n = (image / patch)^2 = ({size} / {patch})^2.")
    if values[1] != n2:
        hints.append("every token attends to every token: n x n weights per head and layer.")
    if values[2] != growth:
        hints.append("halving the patch gives 4 times the tokens, and the attention matrix is n x n."
                     if values[2] == 4 else "compare n^2 at patch 8 with n^2 at patch 16.")
    return feedback(name, not hints, " ".join(hints),
                    detail=f"n = {n}, n^2 = {n2:,}; at patch {patch // 2}, n = {4 * n} and n^2 grows {growth} times.")
