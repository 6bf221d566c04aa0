"""Exercise checkers for notebook 05 (autoencoders and variational autoencoders).

The exercises' numbers live here as constants so the notebook and the checkers agree:

* :data:`KL_EXERCISE` - two diagonal Gaussians ``q`` and ``p``; the answer is
  ``KL(q || p)`` in nats (a float);
* :data:`REPARAM_EXERCISE` - an encoder output ``mu``, ``log_var`` and a noise draw ``eps``;
  the answer is the reparameterised sample ``z`` (three floats);
* the beta exercise - the answer is a pair of letters naming what happens to the KL term
  at beta = 0 and at a large beta (choices in :data:`BETA_CHOICES`).

:func:`kl_diag_gaussians` and :func:`reparameterize` are the NumPy references the checkers
compare against; the notebook derives both itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._check import feedback, multiple_choice, not_answered

KL_EXERCISE = {
    "mu_q": (1.0, -0.5),
    "sigma_q": (0.5, 1.5),
    "mu_p": (0.0, 0.5),
    "sigma_p": (1.0, 2.0),
}

REPARAM_EXERCISE = {
    "mu": (0.5, -1.0, 2.0),
    "log_var": (0.0, -2.0, 1.0),
    "eps": (1.0, 0.5, -1.0),
}

BETA_CHOICES = {
    "a": "the KL term grows: nothing pulls q(z|x) towards the prior, so codes become precise "
         "and spread out, as in a plain autoencoder",
    "b": "the KL term shrinks towards 0: q(z|x) collapses onto the prior for every x, the code "
         "carries almost no information and reconstructions blur towards an average digit",
    "c": "the KL term does not change: beta only rescales the loss",
}
BETA_ANSWER = ("a", "b")


def kl_diag_gaussians(mu_q: Any, sigma_q: Any, mu_p: Any = 0.0, sigma_p: Any = 1.0) -> float:
    """``KL(q || p)`` in nats between diagonal Gaussians, summed over dimensions.

    ``q = N(mu_q, diag(sigma_q**2))`` and ``p = N(mu_p, diag(sigma_p**2))``; the arguments
    are scalars or 1-D arrays of one length (standard deviations, not variances, > 0).
    The closed form per dimension is
    ``log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 sigma_p**2) - 1/2``.
    """
    mu_q, sigma_q, mu_p, sigma_p = (np.asarray(v, dtype=np.float64) for v in
                                    (mu_q, sigma_q, mu_p, sigma_p))
    for name, s in (("sigma_q", sigma_q), ("sigma_p", sigma_p)):
        if np.any(~np.isfinite(s)) or np.any(s <= 0):
            raise ValueError(f"{name} must hold positive standard deviations, got {s!r}")
    try:
        mu_q, sigma_q, mu_p, sigma_p = np.broadcast_arrays(mu_q, sigma_q, mu_p, sigma_p)
    except ValueError:
        raise ValueError(
            "mu_q, sigma_q, mu_p and sigma_p must have one shape (or be scalars), got shapes "
            f"{[np.shape(v) for v in (mu_q, sigma_q, mu_p, sigma_p)]}"
        ) from None
    per_dim = (np.log(sigma_p / sigma_q)
               + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5)
    return float(per_dim.sum())


def reparameterize(mu: Any, log_var: Any, eps: Any) -> np.ndarray:
    """The reparameterised sample ``z = mu + exp(log_var / 2) * eps`` (float64 array)."""
    mu, log_var, eps = (np.asarray(v, dtype=np.float64) for v in (mu, log_var, eps))
    try:
        mu, log_var, eps = np.broadcast_arrays(mu, log_var, eps)
    except ValueError:
        raise ValueError(
            f"mu, log_var and eps must have one shape, got {mu.shape}, {log_var.shape}, {eps.shape}"
        ) from None
    return mu + np.exp(0.5 * log_var) * eps


def _as_float_array(answer: Any) -> np.ndarray | None:
    try:
        arr = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if np.all(np.isfinite(arr)) else None


def check_kl_gaussians(answer: Any) -> bool:
    """Check ``KL(q || p)`` (nats, a float) for the Gaussians in :data:`KL_EXERCISE`."""
    name = "KL of two Gaussians"
    if answer is None:
        return not_answered(name)
    value = _as_float_array(answer)
    if value is None or value.size != 1:
        return feedback(name, False, "give one number: the KL summed over both dimensions, in nats.")
    value = float(value.reshape(()))
    expected = kl_diag_gaussians(**KL_EXERCISE)
    if np.isclose(value, expected, rtol=1e-3, atol=1e-3):
        return feedback(name, True, detail=f"KL(q || p) = {expected:.4f} nats.")
    e = KL_EXERCISE
    swapped = kl_diag_gaussians(e["mu_p"], e["sigma_p"], e["mu_q"], e["sigma_q"])
    if np.isclose(value, swapped, rtol=1e-3, atol=1e-3):
        hint = "that is KL(p || q); KL is not symmetric, the expectation is taken under q."
    else:
        hint = ("per dimension, log(sigma_p/sigma_q) + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2)"
                " - 1/2; then sum the two dimensions.")
    return feedback(name, False, hint)


def check_reparam_sample(answer: Any) -> bool:
    """Check ``z = mu + sigma * eps`` for the numbers in :data:`REPARAM_EXERCISE`."""
    name = "Reparameterised sample"
    if answer is None:
        return not_answered(name)
    value = _as_float_array(answer)
    expected = reparameterize(**REPARAM_EXERCISE)
    if value is None or value.shape != expected.shape:
        return feedback(name, False, f"give {expected.size} numbers, one per latent dimension.")
    if np.allclose(value, expected, rtol=1e-3, atol=1e-3):
        return feedback(name, True, detail=f"z = {np.round(expected, 4).tolist()}.")
    e = REPARAM_EXERCISE
    wrong_var = np.asarray(e["mu"]) + np.exp(np.asarray(e["log_var"])) * np.asarray(e["eps"])
    if np.allclose(value, wrong_var, rtol=1e-3, atol=1e-3):
        hint = "exp(log_var) is the variance; the noise is scaled by the standard deviation exp(log_var / 2)."
    else:
        hint = "z = mu + exp(log_var / 2) * eps, element by element."
    return feedback(name, False, hint)


def check_beta_kl(answer: Any) -> bool:
    """Check the pair of letters (beta = 0, large beta) against :data:`BETA_CHOICES`."""
    name = "KL term and beta"
    if answer is None:
        return not_answered(name)
    if isinstance(answer, dict):
        answer = (answer.get("beta_0"), answer.get("beta_large"))
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2
            or not all(isinstance(a, str) for a in answer)):
        return feedback(name, False, 'give two letters, e.g. ("c", "c"): (beta = 0, large beta).')
    given = tuple(a.strip().lower() for a in answer)
    if given == BETA_ANSWER:
        return feedback(name, True, detail="beta = 0 is a plain autoencoder; a large beta collapses the posterior.")
    if given[0] != BETA_ANSWER[0]:
        hint = "at beta = 0 the loss is reconstruction only: what stops the codes drifting from the prior?"
    else:
        hint = "at a large beta, the cheapest way to cut the loss is to make q(z|x) equal to the prior."
    return feedback(name, False, hint)


BETA_BOUND_CHOICES = {
    "a": "only beta = 1",
    "b": "every beta >= 1",
    "c": "every beta <= 1",
    "d": "every beta > 0",
}
BETA_BOUND_ANSWER = "b"


def check_beta_bound(answer: Any) -> bool:
    """Multiple choice: for which beta is ``recon + beta * KL`` an upper bound on ``-log p(x)``?

    Choices in :data:`BETA_BOUND_CHOICES`. Since KL >= 0, ``recon + beta * KL >= recon + KL =
    -ELBO >= -log p(x)`` for every beta >= 1; for beta < 1 the bound can fail.
    """
    hints = {
        "a": "beta = 1 is the only value where the loss equals -ELBO, but is it the only bound? Use KL >= 0.",
        "c": "a smaller beta removes part of a non-negative term from -ELBO: can the result stay above -log p(x)?",
        "d": "try beta close to 0: the loss is then reconstruction only, which can be below -log p(x).",
    }
    return multiple_choice("which beta gives a bound", answer, BETA_BOUND_CHOICES, BETA_BOUND_ANSWER, hints,
                           detail="KL >= 0, so a larger beta only adds to -ELBO; beta = 1 is the ELBO itself.")
