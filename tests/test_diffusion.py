"""Diffusion for notebook 09: the maths (:mod:`course_utils.diffusion`) and the recipe (:mod:`course_utils.recipes.diffusion`).

Schedules against hand values, the forward process's statistics, the DDIM and DDPM updates
against hand computations and against each other (DDIM with eta = 1 on consecutive steps is
DDPM's ancestral step), the U-Net's shapes and size, that a checkpoint resumes a run exactly,
the evaluation path (with a stand-in judge) and the errors for bad arguments.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import diffusion as dm
from course_utils.recipes import diffusion as d

TINY = {"channels": [8, 16, 16], "time_embed": 16, "batch": 8}


def test_linear_schedule_alpha_bar_by_hand():
    s = dm.make_schedule("linear", T=4, beta_1=0.1, beta_T=0.4)
    np.testing.assert_allclose(s["betas"], [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(s["alpha_bar"], [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7, 0.9 * 0.8 * 0.7 * 0.6])
    np.testing.assert_allclose(s["alpha_bar_prev"], [1.0, 0.9, 0.72, 0.504])
    full = dm.make_schedule()
    assert full["betas"][0] == pytest.approx(1e-4) and full["betas"][-1] == pytest.approx(0.02)
    # Ho et al. (2020): the last step is almost pure noise
    assert full["alpha_bar"][-1] == pytest.approx(np.prod(1 - np.linspace(1e-4, 0.02, 1000)))
    assert full["alpha_bar"][-1] < 1e-4


def test_cosine_schedule_endpoints_and_formula():
    T, s = 1000, 0.008
    assert dm.cosine_alpha_bar(0.0, T, s) == pytest.approx(1.0)
    assert dm.cosine_alpha_bar(float(T), T, s) == pytest.approx(0.0, abs=1e-12)
    half = np.cos((0.5 + s) / (1 + s) * np.pi / 2) ** 2 / np.cos(s / (1 + s) * np.pi / 2) ** 2
    assert dm.cosine_alpha_bar(T / 2, T, s) == pytest.approx(half)
    sch = dm.make_schedule("cosine", T)
    assert sch["betas"].max() == pytest.approx(0.999)  # clipped at the end
    assert np.all(np.diff(sch["alpha_bar"]) < 0)
    # away from the clipped end, cumprod(1 - beta) reproduces alpha_bar(t)
    t = np.arange(1, 901)
    np.testing.assert_allclose(sch["alpha_bar"][:900], dm.cosine_alpha_bar(t, T, s), rtol=1e-10)
    # the cosine schedule destroys information more slowly than the linear one (Nichol & Dhariwal)
    assert sch["alpha_bar"][499] > dm.make_schedule("linear", T)["alpha_bar"][499]


def test_snr():
    np.testing.assert_allclose(dm.snr(np.array([0.5, 0.8])), [1.0, 4.0])


def test_q_sample_statistics():
    rng = np.random.default_rng(0)
    sch = dm.make_schedule()
    x0 = np.full((20_000, 2, 2, 1), 0.6, np.float32)
    t = np.full(len(x0), 300)
    xt = dm.q_sample(x0, t, rng.standard_normal(x0.shape), sch["alpha_bar"])
    a = sch["alpha_bar"][300]
    assert xt.mean() == pytest.approx(np.sqrt(a) * 0.6, abs=0.01)
    assert xt.var() == pytest.approx(1 - a, rel=0.02)
    # the exact mixture for one pixel
    eps = rng.standard_normal((3, 1, 1, 1))
    out = dm.q_sample(np.ones((3, 1, 1, 1)), np.array([0, 10, 999]), eps, sch["alpha_bar"])
    ab = sch["alpha_bar"][[0, 10, 999]]
    np.testing.assert_allclose(out.ravel(), np.sqrt(ab) + np.sqrt(1 - ab) * eps.ravel(), rtol=1e-6)


def test_ddim_update_by_hand():
    x_t, eps, a_t, a_p = np.array([0.5]), np.array([0.2]), 0.64, 0.81
    x0 = (0.5 - 0.6 * 0.2) / 0.8  # (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)
    x_prev, x0_hat = dm.ddim_step(x_t, eps, a_t, a_p)
    assert x0_hat[0] == pytest.approx(x0)
    assert x_prev[0] == pytest.approx(0.9 * x0 + np.sqrt(1 - 0.81) * 0.2)
    # eta > 0: sigma = eta sqrt((1 - a_p)/(1 - a_t)) sqrt(1 - a_t/a_p)
    sigma = 0.5 * np.sqrt(0.19 / 0.36) * np.sqrt(1 - 0.64 / 0.81)
    x_prev, _ = dm.ddim_step(x_t, eps, a_t, a_p, eta=0.5, noise=np.array([1.0]))
    assert x_prev[0] == pytest.approx(0.9 * x0 + np.sqrt(0.19 - sigma ** 2) * 0.2 + sigma)
    # the last step (a_prev = 1) returns x0_hat
    x_prev, x0_hat = dm.ddim_step(x_t, eps, a_t, 1.0)
    assert x_prev[0] == pytest.approx(x0_hat[0])


def test_ddim_with_eta_one_is_ddpm():
    sch = dm.make_schedule()
    rng = np.random.default_rng(1)
    x_t, eps, z = (rng.standard_normal((4, 3, 3, 1)) for _ in range(3))
    for t in (1, 50, 700, 999):
        a_t, a_p = sch["alpha_bar"][t], sch["alpha_bar_prev"][t]
        var = (1 - a_p) / (1 - a_t) * sch["betas"][t]
        assert dm.ddim_sigma(a_t, a_p, 1.0) ** 2 == pytest.approx(var)  # the posterior variance
        ddim, _ = dm.ddim_step(x_t, eps, a_t, a_p, eta=1.0, noise=z)
        ddpm, _ = dm.ddpm_step(x_t, eps, t, sch, noise=z)
        np.testing.assert_allclose(ddim, ddpm, rtol=1e-9, atol=1e-9)
        # Algorithm 2 of Ho et al. (2020)
        alg2 = (x_t - sch["betas"][t] / np.sqrt(1 - a_t) * eps) / np.sqrt(sch["alphas"][t]) + np.sqrt(var) * z
        np.testing.assert_allclose(ddpm, alg2, rtol=1e-9, atol=1e-9)


def test_ddim_timesteps_and_t_for_sigma():
    ts = dm.ddim_timesteps(50)
    assert len(ts) == 50 and ts[0] == 999 and ts[-1] == 0 and np.all(np.diff(ts) < 0)
    sch = dm.make_schedule()
    t = dm.t_for_sigma(25 / 255, sch)
    ratio = np.sqrt((1 - sch["alpha_bar"]) / sch["alpha_bar"])
    assert abs(ratio[t] - 50 / 255) <= abs(ratio[t + 1] - 50 / 255)
    assert abs(ratio[t] - 50 / 255) <= abs(ratio[t - 1] - 50 / 255)


def test_unet_shapes_and_parameter_count():
    m = d.build("diffusion")
    assert 0.45e6 < m.count_params() < 0.65e6
    x = np.zeros((2, 28, 28, 1), np.float32)
    out = m([x, np.array([0, 999], np.int32)])
    assert tuple(out.shape) == (2, 28, 28, 1) and out.dtype.name == "float32"
    assert tuple(m.get_layer("mid7_out").output.shape) == (None, 7, 7, 128)
    assert tuple(m.get_layer("down14_out").output.shape) == (None, 14, 14, 64)
    mc = d.build("diffusion-cond")
    assert mc.count_params() - m.count_params() == 11 * 128  # the label embedding, null label included
    assert tuple(mc([x, np.array([0, 5], np.int32), np.array([3, 10], np.int32)]).shape) == (2, 28, 28, 1)


def _tiny_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, n)


def test_save_load_resumes_identically(tmp_path):
    data = _tiny_data()
    a = d.Trainer("diffusion-cond", data=data, overrides=TINY)
    a.train(0, 0, 2)
    a.save(tmp_path / "ckpt")
    a.train(0, 2, 2)
    b = d.Trainer("diffusion-cond", data=data, overrides=TINY)
    b.train(1, 0, 3)  # other weights, moments and EMA step, all replaced by the checkpoint
    b.per_t_loss[:] = 0
    b.load(tmp_path / "ckpt")
    assert int(b.ema_step.numpy()) == 2
    b.train(0, 2, 2)
    for va, vb in zip(a._variables(), b._variables()):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(a.per_t_loss, b.per_t_loss, rtol=1e-6)
    # the EMA differs from the raw weights, and the export is the EMA network
    assert a.export() is a.ema_model
    assert not np.allclose(a.model.weights[-2].numpy(), a.ema_model.weights[-2].numpy())
    assert a.set_final_phase(True) == pytest.approx(2e-4)
    assert float(a.optimizer.learning_rate.numpy()) == pytest.approx(2e-4)


def test_sampling_and_evaluation_with_a_stand_in_judge(monkeypatch):
    from course_utils.recipes import judge

    monkeypatch.setattr(judge, "features", lambda x: np.asarray(x).reshape(len(x), -1)[:, ::49].astype(np.float64))
    monkeypatch.setattr(judge, "predicted_labels", lambda x: np.arange(len(x)) % 10)
    tr = d.Trainer("diffusion-cond", data=_tiny_data(), overrides=TINY)
    x = dm.sample(tr.ema_model, 3, steps=3, labels=np.array([1, 2, 10]), guidance=2.0)
    assert x.shape == (3, 28, 28, 1) and x.min() >= -1 and x.max() <= 1
    np.testing.assert_array_equal(x, dm.sample(tr.ema_model, 3, steps=3, labels=np.array([1, 2, 10]), guidance=2.0))
    out = d.evaluate("diffusion-cond", tr.ema_model, n_eval=20, n_boot=10, steps=2, guidance=(0.0, 1.0),
                     schedule=tr.schedule)
    assert [s["guidance"] for s in out["guidance_sweep"]] == [0.0, 1.0]
    for key in ("frechet_distance", "frechet_distance_real", "class_coverage_min", "label_accuracy",
                "ms_per_sample", "x0_psnr_sigma25"):
        assert key in out, key
    u = d.Trainer("diffusion", data=_tiny_data(), overrides=TINY)
    assert dm.sample(u.ema_model, 2, method="ddpm", schedule=dm.make_schedule(T=5)).shape == (2, 28, 28, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        dm.make_schedule("quadratic")
    with pytest.raises(ValueError, match="T"):
        dm.linear_betas(1)
    with pytest.raises(ValueError, match="beta_1"):
        dm.linear_betas(10, beta_1=0.5, beta_T=0.1)
    with pytest.raises(ValueError, match="t must"):
        dm.q_sample(np.zeros((2, 1)), np.array([0, 1000]), np.zeros((2, 1)), dm.make_schedule()["alpha_bar"])
    with pytest.raises(ValueError, match="eps"):
        dm.q_sample(np.zeros((2, 1)), np.array([0, 1]), np.zeros((3, 1)), dm.make_schedule()["alpha_bar"])
    with pytest.raises(ValueError, match="noise"):
        dm.ddim_step(np.zeros(2), np.zeros(2), 0.5, 0.9, eta=1.0)
    with pytest.raises(ValueError, match="alpha_bar_prev"):
        dm.ddim_step(np.zeros(2), np.zeros(2), 0.9, 0.5)
    with pytest.raises(ValueError, match="eta"):
        dm.ddim_sigma(0.5, 0.9, eta=-1)
    with pytest.raises(ValueError, match="steps"):
        dm.ddim_timesteps(0)
    with pytest.raises(ValueError, match="name"):
        d.build("vae")
    with pytest.raises(ValueError, match="sigma"):
        dm.t_for_sigma(0)
    with pytest.raises(ValueError, match="overrides"):
        d.Trainer("diffusion", data=_tiny_data(), overrides={"width": 3})
    with pytest.raises(ValueError, match="channels"):
        d.build_unet(channels=(8, 12, 16))
    m = d.build_unet(channels=(8, 8, 8), time_embed=8)
    with pytest.raises(ValueError, match="labels"):
        dm.sample(m, 2, steps=2, labels=np.array([1, 2]))
    with pytest.raises(ValueError, match="method"):
        dm.sample(m, 2, method="euler")
    with pytest.raises(ValueError, match="n must"):
        dm.sample(m, 0)
