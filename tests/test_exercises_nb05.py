"""Exercise checkers of notebook 05 and their NumPy references (KL, reparameterisation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from course_utils.exercises import check_beta_kl, check_kl_gaussians, check_reparam_sample
from course_utils.exercises import nb05

floats = st.floats(-3.0, 3.0, allow_nan=False)
sigmas = st.floats(0.2, 3.0, allow_nan=False)


def _kl_by_quadrature(mu_q: float, s_q: float, mu_p: float, s_p: float) -> float:
    """KL(q || p) of two 1-D Gaussians by numerical integration (independent reference)."""
    q, p = stats.norm(mu_q, s_q), stats.norm(mu_p, s_p)
    f = lambda x: q.pdf(x) * (q.logpdf(x) - p.logpdf(x))  # noqa: E731
    value, _ = integrate.quad(f, mu_q - 12 * s_q, mu_q + 12 * s_q, limit=200)
    return value


@settings(max_examples=25, deadline=None)
@given(floats, sigmas, floats, sigmas)
def test_kl_matches_quadrature(mu_q, s_q, mu_p, s_p):
    assert nb05.kl_diag_gaussians(mu_q, s_q, mu_p, s_p) == pytest.approx(
        _kl_by_quadrature(mu_q, s_q, mu_p, s_p), rel=1e-6, abs=1e-8
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(floats, sigmas, floats, sigmas), min_size=1, max_size=5))
def test_kl_sums_dimensions_and_is_nonnegative(dims):
    mu_q, s_q, mu_p, s_p = (np.array(v) for v in zip(*dims))
    total = nb05.kl_diag_gaussians(mu_q, s_q, mu_p, s_p)
    parts = [nb05.kl_diag_gaussians(*d) for d in dims]
    assert total == pytest.approx(sum(parts), rel=1e-9, abs=1e-12)
    assert total >= -1e-12
    assert nb05.kl_diag_gaussians(mu_q, s_q, mu_q, s_q) == pytest.approx(0.0, abs=1e-12)


def test_kl_monte_carlo_agrees():
    e = nb05.KL_EXERCISE
    rng = np.random.default_rng(0)
    mu_q, s_q, mu_p, s_p = (np.array(e[k]) for k in ("mu_q", "sigma_q", "mu_p", "sigma_p"))
    z = mu_q + s_q * rng.standard_normal((400_000, 2))
    log_ratio = (stats.norm(mu_q, s_q).logpdf(z) - stats.norm(mu_p, s_p).logpdf(z)).sum(axis=1)
    assert log_ratio.mean() == pytest.approx(nb05.kl_diag_gaussians(**e), abs=0.01)


def test_kl_bad_input():
    with pytest.raises(ValueError, match="sigma_q"):
        nb05.kl_diag_gaussians(0.0, -1.0)
    with pytest.raises(ValueError, match="shape"):
        nb05.kl_diag_gaussians([0.0, 1.0], [1.0, 1.0, 1.0])


@settings(max_examples=25, deadline=None)
@given(floats, st.floats(-4, 4), floats)
def test_reparameterize_matches_scipy_quantile(mu, log_var, eps):
    # z = mu + sigma * eps is the N(mu, sigma^2) quantile at Phi(eps).
    z = nb05.reparameterize(mu, log_var, eps)
    ref = stats.norm(mu, np.exp(0.5 * log_var)).ppf(stats.norm.cdf(eps))
    assert float(z) == pytest.approx(float(ref), rel=1e-6, abs=1e-6)


def test_reparameterize_bad_shapes():
    with pytest.raises(ValueError, match="one shape"):
        nb05.reparameterize([0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0])


def test_check_kl_gaussians(capsys):
    assert check_kl_gaussians(1.0120792530117262) is True
    assert "correct" in capsys.readouterr().out
    assert check_kl_gaussians(np.float32(1.0121)) is True
    assert check_kl_gaussians(0.5) is False
    e = nb05.KL_EXERCISE
    swapped = nb05.kl_diag_gaussians(e["mu_p"], e["sigma_p"], e["mu_q"], e["sigma_q"])
    capsys.readouterr()
    assert check_kl_gaussians(swapped) is False
    assert "not symmetric" in capsys.readouterr().out
    assert check_kl_gaussians("one") is False
    assert check_kl_gaussians([1.0, 2.0]) is False
    assert check_kl_gaussians(None) is False
    assert "not answered" in capsys.readouterr().out


def test_check_reparam_sample(capsys):
    right = [0.5 + 1.0, -1.0 + np.exp(-1.0) * 0.5, 2.0 - np.exp(0.5)]
    assert check_reparam_sample(right) is True
    assert check_reparam_sample(np.array(right, dtype=np.float32)) is True
    assert check_reparam_sample([1.5, -0.8, 0.35]) is False  # too coarse
    capsys.readouterr()
    assert check_reparam_sample([0.5 + 1.0, -1.0 + np.exp(-2.0) * 0.5, 2.0 - np.e]) is False
    assert "standard deviation" in capsys.readouterr().out
    assert check_reparam_sample([1.5, -0.8]) is False
    assert check_reparam_sample("z") is False
    assert check_reparam_sample(None) is False
    assert "not answered" in capsys.readouterr().out


def test_check_beta_kl(capsys):
    assert check_beta_kl(("a", "b")) is True
    assert check_beta_kl([" A", "B "]) is True
    assert check_beta_kl({"beta_0": "a", "beta_large": "b"}) is True
    for wrong in [("b", "a"), ("c", "c"), ("a", "c"), ("a",), "ab", (1, 2)]:
        assert check_beta_kl(wrong) is False
    assert check_beta_kl(None) is False
    out = capsys.readouterr().out
    assert "not answered" in out
    # Every checker prints exactly one line per call.
    assert all(line.strip() for line in out.strip().splitlines())
    assert len(out.strip().splitlines()) == 10


def test_check_beta_bound(capsys):
    assert nb05.check_beta_bound("b") is True
    assert nb05.check_beta_bound(" B) ") is True
    for wrong in ("a", "c", "d"):
        assert nb05.check_beta_bound(wrong) is False
        assert "Hint" in capsys.readouterr().out
    assert nb05.check_beta_bound("e") is False
    assert nb05.check_beta_bound(3) is False
    assert nb05.check_beta_bound(None) is False
    assert "not answered" in capsys.readouterr().out


def test_beta_bound_answer_is_true_numerically():
    # recon + beta * KL >= -log p(x) for beta >= 1, and can fail below 1: a toy model with a
    # known likelihood. x | z ~ N(z, 1), z ~ N(0, 1), so p(x) = N(0, 2); q(z | x) = N(m, s^2).
    x, m, s = 1.3, 0.4, 0.5
    recon = -stats.norm(m, 1).logpdf(x) + 0.5 * s**2  # E_q[-log N(x; z, 1)]
    kl = np.log(1 / s) + (s**2 + m**2) / 2 - 0.5
    nll = -stats.norm(0, np.sqrt(2)).logpdf(x)
    assert all(recon + beta * kl >= nll for beta in (1.0, 1.5, 10.0))
    assert recon + 0.0 * kl < nll  # beta = 0 is below -log p(x): no bound
