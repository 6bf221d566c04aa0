"""Exercise checkers for notebook 09 (diffusion models).

* :func:`check_alpha_bar` - the cumulative product alpha_bar_t of the small schedule in
  :data:`SCHEDULE`;
* :func:`check_ddim_update` - one deterministic DDIM step for the numbers in :data:`DDIM_STEP`;
* :func:`check_guidance_weight` - what guidance weight 0 and a large weight do (a conceptual
  question, choices in :data:`GUIDANCE_CHOICES`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._check import feedback, multiple_choice, not_answered, number

__all__ = [
    "DDIM_STEP",
    "GUIDANCE_CHOICES",
    "SCHEDULE",
    "check_alpha_bar",
    "check_ddim_update",
    "check_guidance_weight",
]

#: Exercise 1: a linear schedule of T = 5 steps from beta_1 to beta_T; the question asks for alpha_bar at step t.
SCHEDULE = {"T": 5, "beta_1": 0.1, "beta_T": 0.5, "t": 3}

#: Exercise 2: one DDIM step (eta = 0) from x_t with the network's noise estimate eps_hat.
DDIM_STEP = {"x_t": 0.5, "eps_hat": 0.2, "alpha_bar_t": 0.64, "alpha_bar_prev": 0.81}


def _alpha_bar_expected() -> tuple[float, np.ndarray]:
    s = SCHEDULE
    betas = np.linspace(s["beta_1"], s["beta_T"], s["T"])
    return float(np.prod(1.0 - betas[: s["t"]])), betas


def check_alpha_bar(answer: Any) -> bool:
    """Exercise 1: ``alpha_bar_t = prod_{s <= t} (1 - beta_s)`` for :data:`SCHEDULE` (t counted from 1)."""
    name = "alpha_bar of a schedule"
    if answer is None:
        return not_answered(name)
    value = number(answer)
    if value is None:
        return feedback(name, False, "give one number between 0 and 1.")
    expected, betas = _alpha_bar_expected()
    t = SCHEDULE["t"]
    hint = "alpha_bar_t is the product of (1 - beta_s) over the steps s = 1..t."
    if abs(value - (1 - betas[t - 1])) <= 1e-3:
        hint = "that is alpha_t = 1 - beta_t of step t alone; alpha_bar multiplies all steps up to t."
    elif abs(value - (1 - betas[:t].sum())) <= 1e-3:
        hint = "the betas are not summed: the signal is scaled by sqrt(1 - beta_s) at every step, so the factors multiply."
    elif abs(value - float(np.prod(1 - betas[: t - 1]))) <= 1e-3 or abs(value - float(np.prod(1 - betas[: t + 1]))) <= 1e-3:
        hint = "count the steps again: t = 3 includes beta_1, beta_2 and beta_3."
    elif abs(value - math.sqrt(expected)) <= 1e-3:
        hint = "sqrt(alpha_bar_t) scales x_0 in x_t; the question asks for alpha_bar_t itself."
    factors = " x ".join(f"{1 - b:.1f}" for b in betas[:t])
    return feedback(name, abs(value - expected) <= 1e-3, hint, detail=f"alpha_bar_{t} = {factors} = {expected:.3f}.")


def _ddim_expected() -> tuple[float, float]:
    s = DDIM_STEP
    x0 = (s["x_t"] - math.sqrt(1 - s["alpha_bar_t"]) * s["eps_hat"]) / math.sqrt(s["alpha_bar_t"])
    return math.sqrt(s["alpha_bar_prev"]) * x0 + math.sqrt(1 - s["alpha_bar_prev"]) * s["eps_hat"], x0


def check_ddim_update(answer: Any) -> bool:
    """Exercise 2: ``x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps_hat`` with ``x0_hat`` from :data:`DDIM_STEP`."""
    name = "DDIM update"
    if answer is None:
        return not_answered(name)
    value = number(answer)
    if value is None:
        return feedback(name, False, "give one number: x at the earlier (less noisy) step.")
    expected, x0 = _ddim_expected()
    s = DDIM_STEP
    hint = ("first x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps_hat) / sqrt(alpha_bar_t), then "
            "x_prev = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev) eps_hat.")
    if abs(value - x0) <= 1e-3:
        hint = "that is x0_hat, the network's clean-image estimate; now put it back at the earlier step's noise level."
    elif abs(value - (math.sqrt(s["alpha_bar_prev"]) * x0)) <= 1e-3:
        hint = "with eta = 0 the update keeps the predicted noise: add sqrt(1 - alpha_bar_prev) eps_hat."
    elif abs(value - (s["x_t"] - s["eps_hat"])) <= 1e-3:
        hint = "subtracting eps_hat is not enough: the noise is scaled by sqrt(1 - alpha_bar) and the signal by sqrt(alpha_bar)."
    return feedback(name, abs(value - expected) <= 1e-3, hint,
                    detail=f"x0_hat = {x0:.4f}, x_prev = 0.9 x {x0:.4f} + sqrt(0.19) x 0.2 = {expected:.4f}.")


#: Exercise 3: guidance eps_tilde = (1 + w) eps(x, y) - w eps(x, null), with a model trained with label dropout.
GUIDANCE_CHOICES = {
    "a": "w = 0 samples from the plain conditional model (the label is used, without guidance); a large w "
         "pushes samples towards what the model finds most typical of the label: the judged label "
         "accuracy rises, the variety within each digit falls, and past some w the Frechet distance rises.",
    "b": "w = 0 ignores the label and gives unconditional samples; a large w gives more varied samples "
         "of the requested digit.",
    "c": "w = 0 ignores the label; a large w always gives samples closer to the data, so the Frechet "
         "distance keeps falling as w grows.",
    "d": "the guidance weight changes only how many network evaluations a sample costs, not which "
         "images come out.",
}
GUIDANCE_ANSWER = "a"


def check_guidance_weight(answer: Any) -> bool:
    """Exercise 3: what ``w = 0`` and a large ``w`` do in classifier-free guidance (choices in :data:`GUIDANCE_CHOICES`)."""
    hints = {
        "b": "put w = 0 into eps_tilde = (1 + w) eps(x, y) - w eps(x, null): which prediction is left?",
        "c": "w = 0 leaves eps(x, y), the conditional prediction; and look at the Frechet distances "
             "of the guidance sweep in section 7: do they keep falling?",
        "d": "every w > 0 costs the same two network calls per step; what changes is the mix of the two predictions.",
    }
    return multiple_choice("guidance weight", answer, GUIDANCE_CHOICES, GUIDANCE_ANSWER, hints,
                           detail="w = 0 is the conditional model; larger w trades variety (and eventually "
                                  "the Frechet distance) for label accuracy (Ho and Salimans, 2022).")
