"""Exercise checkers for notebook 10 (recurrent networks for images).

* :func:`check_lstm_layer` - the output shape and parameter count of the LSTM layer in
  :data:`LSTM_LAYER`;
* :func:`check_bptt_gradient` - dL/du by backpropagation through time for the 3-step scalar RNN of
  :data:`SCALAR_RNN`;
* :func:`check_bleu` - BLEU-4 of the caption pair in :data:`BLEU_PAIR`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..metrics.text import modified_precision, sentence_bleu
from ._check import feedback, not_answered, number

__all__ = ["BLEU_PAIR", "LSTM_LAYER", "SCALAR_RNN", "bptt_gradient", "check_bleu", "check_bptt_gradient",
           "check_lstm_layer"]

#: Exercise 1: ``keras.layers.LSTM(units, return_sequences=True)`` on inputs (batch, time, features).
LSTM_LAYER = {"time": 20, "features": 16, "units": 32, "return_sequences": True}

#: Exercise 2: h_t = tanh(w x_t + u h_{t-1}), h_0 = 0, three steps, loss L = (h_3 - y)^2 / 2.
SCALAR_RNN = {"w": 0.5, "u": 0.8, "x": (1.0, 0.5, -1.0), "y": 0.2}

#: Exercise 3: a generated caption and its reference.
BLEU_PAIR = {"candidate": "a red square to the left of a blue square",
             "reference": "a red circle to the left of a blue square"}


def _lstm_expected() -> tuple[tuple[int, ...], int]:
    s = LSTM_LAYER
    shape = (s["time"], s["units"]) if s["return_sequences"] else (s["units"],)
    return shape, 4 * (s["units"] * (s["features"] + s["units"]) + s["units"])


def _shape(value: Any) -> tuple[int, ...] | None:
    try:
        dims = tuple(value)
    except TypeError:
        return None
    if dims and dims[0] is None:  # (None, time, units): the batch axis is allowed
        dims = dims[1:]
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
        return None
    return tuple(int(d) for d in dims)


def check_lstm_layer(answer: Any) -> bool:
    """Exercise 1: ``(output_shape, n_params)`` of the layer in :data:`LSTM_LAYER` (shape without the batch axis)."""
    name = "LSTM shape and parameters"
    if answer is None:
        return not_answered(name)
    try:
        shape, params = answer
    except (TypeError, ValueError):
        return feedback(name, False, "answer with a pair (output_shape, n_params), e.g. ((10, 8), 1234).")
    shape = _shape(shape)
    params = number(params)
    if shape is None or params is None:
        return feedback(name, False, "answer with a pair (output_shape, n_params), e.g. ((10, 8), 1234).")
    expected_shape, expected_params = _lstm_expected()
    s = LSTM_LAYER
    u, f = s["units"], s["features"]
    hints = []
    if shape != expected_shape:
        if shape == (u,):
            hints.append("return_sequences=True keeps one output per time step.")
        elif shape == (s["time"], f):
            hints.append("each output has `units` numbers, not the input's features.")
        else:
            hints.append("the output has one vector of `units` numbers per time step.")
    if params != expected_params:
        one = u * (f + u) + u
        if params == one:
            hints.append("that is one gate's weights; an LSTM has four (input, forget, cell, output).")
        elif params == 3 * one or params == 3 * one + 3 * u:
            hints.append("three gates' weights is a GRU; an LSTM has four.")
        elif params == 4 * u * (f + u):
            hints.append("add the biases: one per unit and gate.")
        elif params == 4 * (u * f + u):
            hints.append("the recurrent kernel U (units x units) is missing.")
        else:
            hints.append("each of the 4 gates has W (features x units), U (units x units) and a bias (units).")
    return feedback(name, not hints, " ".join(hints),
                    detail=f"output {expected_shape}, 4 x ({u} x ({f} + {u}) + {u}) = {expected_params:,} parameters.")


def bptt_gradient(w: float, u: float, x, y: float) -> tuple[float, float]:
    """(dL/du, dL/dw) of L = (h_T - y)^2 / 2 for h_t = tanh(w x_t + u h_{t-1}), h_0 = 0, by hand BPTT."""
    h = [0.0]
    for xt in x:
        h.append(math.tanh(w * xt + u * h[-1]))
    delta = h[-1] - y  # dL/dh_T
    du = dw = 0.0
    for t in range(len(x), 0, -1):
        da = delta * (1 - h[t] ** 2)  # through the tanh of step t
        du += da * h[t - 1]
        dw += da * x[t - 1]
        delta = da * u  # on to h_{t-1}
    return du, dw


def check_bptt_gradient(answer: Any) -> bool:
    """Exercise 2: dL/du for :data:`SCALAR_RNN` (one number)."""
    name = "BPTT by hand"
    if answer is None:
        return not_answered(name)
    value = number(answer)
    if value is None:
        return feedback(name, False, "give one number: dL/du.")
    s = SCALAR_RNN
    expected, dw = bptt_gradient(s["w"], s["u"], s["x"], s["y"])
    h = [0.0]
    for xt in s["x"]:
        h.append(math.tanh(s["w"] * xt + s["u"] * h[-1]))
    last_only = (h[3] - s["y"]) * (1 - h[3] ** 2) * h[2]
    hint = ("unroll: dL/du = sum over t of dL/da_t * h_{t-1}, with dL/da_t = dL/dh_t (1 - h_t^2) and "
            "dL/dh_{t-1} = u dL/da_t.")
    if abs(value - last_only) <= 1e-4:
        hint = "that is the last step's term only; u is used at every step, so the earlier steps add terms too."
    elif abs(value - dw) <= 1e-4:
        hint = "that is dL/dw; the question asks for the recurrent weight u (multiplying h_{t-1})."
    elif abs(value + expected) <= 1e-4:
        hint = "check the sign of dL/dh_3 = h_3 - y."
    return feedback(name, abs(value - expected) <= 1e-4, hint,
                    detail=f"h = {', '.join(f'{v:.4f}' for v in h[1:])}; dL/du = {expected:.5f}.")


def check_bleu(answer: Any) -> bool:
    """Exercise 3: sentence BLEU-4 of :data:`BLEU_PAIR` (no smoothing)."""
    name = "BLEU of a caption pair"
    if answer is None:
        return not_answered(name)
    value = number(answer)
    if value is None:
        return feedback(name, False, "give one number between 0 and 1.")
    cand, ref = BLEU_PAIR["candidate"], BLEU_PAIR["reference"]
    expected = sentence_bleu(cand, ref)
    counts = [modified_precision(cand, [ref], n) for n in range(1, 5)]
    precisions = [m / t for m, t in counts]
    tokens = cand.split()
    unclipped = []
    ref_grams = [set(zip(*[ref.split()[i:] for i in range(n)])) for n in range(1, 5)]
    for n in range(1, 5):
        grams = list(zip(*[tokens[i:] for i in range(n)]))
        unclipped.append(sum(g in ref_grams[n - 1] for g in grams) / len(grams))
    hint = ("BLEU-4 = BP x (p1 p2 p3 p4)^(1/4), with p_n the clipped n-gram precisions; count each "
            "candidate n-gram at most as often as it occurs in the reference.")
    if abs(value - math.prod(unclipped) ** 0.25) <= 1e-3:
        hint = "clip the counts: 'square' occurs twice in the candidate but once in the reference."
    elif abs(value - sum(precisions) / 4) <= 1e-3:
        hint = "BLEU takes the geometric mean of the precisions, not the arithmetic mean."
    elif abs(value - precisions[3]) <= 1e-3:
        hint = "that is p4 alone; BLEU-4 combines p1..p4."
    elif abs(value - 100 * expected) <= 0.1:
        hint = "give BLEU as a number in [0, 1], not a percentage."
    detail = ", ".join(f"p{n} = {m}/{t}" for n, (m, t) in enumerate(counts, 1))
    return feedback(name, abs(value - expected) <= 1e-3, hint, detail=f"{detail}, BP = 1: BLEU-4 = {expected:.4f}.")
