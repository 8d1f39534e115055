"""ReLU networks of Section 7: models, tangent tools, training (kr.experiments.relu.network, kr.experiments.relu.tangent, kr.experiments.relu.training)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from kr.experiments.relu.network import (
    LOSS_GRADS,
    init_mlp,
    init_univariate,
    mlp_forward,
    select,
    univariate_forward,
    univariate_hidden,
)
from kr.experiments.relu.data import circle_teacher, linear_spline
from kr.experiments.relu.tables import step_sizes
from kr.experiments.relu.training import mse, train_gd
from kr.experiments.relu.tangent import gauss_newton_top, grad_distance, kernel_predictor, linearised_gd, tangent_features

F64 = torch.float64


@pytest.fixture(scope="module")
def circle():
    d = circle_teacher(n_train=10, n_test=1000, seed=0)
    return (torch.tensor(d.X_train), torch.tensor(d.y_train), torch.tensor(d.X_test), d)


@pytest.mark.parametrize("D", [2, 3, 5])
def test_unbiased_init_is_zero_and_biased_is_homogeneous(D, circle):
    X = circle[2]
    alphas = torch.tensor([0.1, 1.0, 7.0], dtype=F64)
    p = init_mlp(D, 30, 2, alphas.tolist(), seed=3, unbiased=True)
    assert (mlp_forward(p, X).abs().amax(dim=1) <= 1e-14 * alphas**D).all()  # zero up to rounding
    q = init_mlp(D, 30, 2, [0.5, 1.0, 2.0], seed=3, unbiased=False)
    f = mlp_forward(q, X)
    assert f[1].abs().max().item() > 1e-3  # not trivially zero
    # D-homogeneous in the parameters: f(alpha w0) = alpha^D f(w0)
    torch.testing.assert_close(f[0], 0.5**D * f[1], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(f[2], 2.0**D * f[1], rtol=1e-12, atol=1e-14)


def test_he_uniform_bounds_and_determinism():
    p = init_mlp(3, 30, 2, [1.0], seed=5, unbiased=True)
    for W in p:
        bound = np.sqrt(6.0 / W.shape[2])
        assert W.abs().max().item() <= bound and W.abs().max().item() > 0.7 * bound
    again = init_mlp(3, 30, 2, [1.0], seed=5, unbiased=True)
    other = init_mlp(3, 30, 2, [1.0], seed=6, unbiased=True)
    assert all(torch.equal(a, b) for a, b in zip(p, again))
    assert not torch.equal(p[0], other[0])


def test_univariate_unbiased_and_shape_rescaling_keeps_every_unit():
    x = torch.linspace(-3, 3, 101, dtype=F64)
    ref = init_univariate(200, [1.0], seed=2, c=1.0)
    assert univariate_forward(ref, x).abs().max().item() < 1e-12
    contrib = torch.relu(univariate_hidden(ref, x)) * ref[2][:, None, :]  # each unit's w2_j relu(w1_j x + b1_j)
    assert contrib.abs().max().item() > 0.01
    for c in (0.05, 0.3, 4.0):
        p = init_univariate(200, [1.0], seed=2, c=c)
        torch.testing.assert_close(p[0], c * ref[0])
        torch.testing.assert_close(p[2], ref[2] / c)
        torch.testing.assert_close(torch.relu(univariate_hidden(p, x)) * p[2][:, None, :], contrib)
        assert univariate_forward(p, x).abs().max().item() < 1e-12
    # w1, b1 ~ N(0, 1) and w2 ~ N(0, std sqrt(2/k)) at c = 1
    big = init_univariate(20000, [1.0], seed=0)
    assert abs(big[0].std().item() - 1) < 0.03 and abs(big[2].std().item() * np.sqrt(20000 / 2) - 1) < 0.03


@pytest.mark.parametrize("model", ["mlp3", "univariate"])
def test_hand_written_gradient_matches_autograd(model, circle):
    if model == "mlp3":
        X, y = circle[0], circle[1]
        p, fwd, lg = init_mlp(3, 30, 2, [0.7, 1.3], seed=1), mlp_forward, LOSS_GRADS["mlp"]
    else:
        X = torch.tensor([-1.0, -0.2, 0.4, 1.1], dtype=F64)
        y = torch.tensor([0.3, -0.5, 0.2, 0.9], dtype=F64)
        p, fwd, lg = init_univariate(50, [0.5, 2.0], seed=1, c=0.4), univariate_forward, LOSS_GRADS["univariate"]
    W = [t.clone().requires_grad_(True) for t in p]
    loss = mse(fwd, tuple(W), X, y)
    auto = torch.autograd.grad(loss.sum(), W)
    loss2, hand = lg(p, X, y)
    torch.testing.assert_close(loss2, loss.detach(), rtol=1e-13, atol=1e-15)
    for a, h in zip(auto, hand):
        torch.testing.assert_close(h, a, rtol=1e-11, atol=1e-14)


def test_grad_distance_zero_for_identical_params(circle):
    X = circle[0]
    p = init_mlp(3, 30, 2, [0.5, 2.0], seed=0)
    phi = tangent_features(mlp_forward, p, X)
    assert grad_distance(phi, phi.clone()).abs().max().item() < 1e-14


def test_grad_distance_matches_hand_computation_on_two_units():
    """f(x) = v1 relu(a1 x + c1) + v2 relu(a2 x + c2) + b2: features written out by hand."""
    x = np.array([-1.0, 0.5, 2.0])

    def hand_phi(a, c, v):
        u = np.outer(x, a) + c  # [n, 2]
        on = (u > 0).astype(float)
        return np.concatenate([on * v * x[:, None], on * v, np.maximum(u, 0), np.ones((3, 1))], axis=1)

    w0 = (np.array([1.0, -0.5]), np.array([0.2, 0.3]), np.array([0.7, -1.2]))
    w1 = (np.array([1.5, -0.1]), np.array([-0.6, 0.9]), np.array([0.4, -2.0]))
    P0, P1 = hand_phi(*w0), hand_phi(*w1)
    expected = 1.0 - (P0 * P1).sum() / (np.linalg.norm(P0) * np.linalg.norm(P1))

    def as_params(w):
        return tuple(torch.tensor(t, dtype=F64)[None] for t in w) + (torch.zeros(1, dtype=F64),)

    xt = torch.tensor(x, dtype=F64)
    phi0 = tangent_features(univariate_forward, as_params(w0), xt)
    phi1 = tangent_features(univariate_forward, as_params(w1), xt)
    np.testing.assert_allclose(phi0[0].numpy(), P0, rtol=1e-14)
    assert expected > 0.05
    assert grad_distance(phi0, phi1).item() == pytest.approx(expected, rel=1e-12)


def test_kernel_predictor_interpolates_and_matches_explicit_formula(circle):
    Xtr, ytr, Xte, _ = circle
    p = init_mlp(2, 30, 2, [1.0, 3.0], seed=4, unbiased=False)  # f0 != 0: the bias term matters
    kp_train = kernel_predictor(mlp_forward, p, Xtr, ytr, Xtr)
    torch.testing.assert_close(kp_train, ytr.expand(2, -1), rtol=0, atol=1e-9)
    phi_tr, phi_te = tangent_features(mlp_forward, p, Xtr), tangent_features(mlp_forward, p, Xte[:50])
    f0_tr, f0_te = mlp_forward(p, Xtr), mlp_forward(p, Xte[:50])
    K = phi_tr[0] @ phi_tr[0].T
    explicit = f0_te[0] + phi_te[0] @ phi_tr[0].T @ torch.linalg.solve(K, ytr - f0_tr[0])
    torch.testing.assert_close(kernel_predictor(mlp_forward, p, Xtr, ytr, Xte[:50])[0], explicit)
    # the tangent kernel scales as alpha^(2(D-1)) = 9: the Gauss-Newton top eigenvalue too
    gn = gauss_newton_top(phi_tr)
    assert gn[1].item() == pytest.approx(9.0 * gn[0].item(), rel=1e-10)


def test_large_alpha_gd_tracks_the_linearised_model(circle):
    """At large alpha GD follows the linearised model f0 + <Phi0(x), w - w0> run with the same steps.

    The linear model's weights move in the span of Phi0(X): w_t - w0 = Phi0(X)^T c_t with
    c_{t+1} = c_t - lr (2/N) (K0 c_t + f0(X) - y), so f_t(x) = f0(x) + K0(x, X) c_t (here f0 = 0).
    """
    Xtr, ytr, Xte, _ = circle
    N, D, steps = len(ytr), 2, 300
    dists = []
    for alpha in (10.0, 100.0):
        p = init_mlp(D, 30, 2, [alpha], seed=0)
        phi0 = tangent_features(mlp_forward, p, Xtr)
        lr = float(step_sizes(1.0, gauss_newton_top(phi0).numpy(), 1.0)[0])
        res = train_gd(mlp_forward, p, Xtr, ytr, lr, tol=1e-30, max_steps=steps, loss_grad=LOSS_GRADS["mlp"])
        K = phi0[0] @ phi0[0].T
        K_te = tangent_features(mlp_forward, p, Xte[:200])[0] @ phi0[0].T
        coef = torch.zeros(N, dtype=F64)
        for _ in range(steps):
            coef = coef - lr * (2.0 / N) * (K @ coef - ytr)
        f_lin = torch.cat([K @ coef, K_te @ coef])
        assert torch.linalg.norm(K @ coef - ytr) > 0.01 * torch.linalg.norm(ytr)  # still far from the end point
        f_net = mlp_forward(res.params, torch.cat([Xtr, Xte[:200]]))[0]
        # 95th percentile over points (a test point whose hidden unit sits at a ReLU kink may flip: a
        # non-smooth effect on a vanishing fraction of points)
        gap = (f_net - f_lin).abs() / f_lin.abs().max()
        dists.append(torch.quantile(gap, 0.95).item())
    # the gap shrinks like alpha^-D
    assert dists[1] < 1e-7 and dists[1] < 1e-3 * dists[0], dists


def test_batched_training_equals_per_alpha_training(circle):
    Xtr, ytr = circle[0], circle[1]
    alphas = [0.3, 1.0, 4.0]
    p = init_mlp(3, 30, 2, alphas, seed=1)
    lr = step_sizes(0.1, gauss_newton_top(tangent_features(mlp_forward, p, Xtr)).numpy(), 1.0)
    both = train_gd(mlp_forward, p, Xtr, ytr, lr, tol=1e-6, max_steps=3000, check_every=100,
                    loss_grad=LOSS_GRADS["mlp"])
    assert len(set(both.steps.tolist())) > 1  # models stop at different steps (masking is exercised)
    for i in range(3):
        one = train_gd(mlp_forward, select(p, i), Xtr, ytr, lr[i], tol=1e-6, max_steps=3000, check_every=100,
                       loss_grad=LOSS_GRADS["mlp"])
        assert one.steps[0] == both.steps[i] and one.converged[0] == both.converged[i]
        for a, b in zip(one.params, select(both.params, i)):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    # autograd and the hand-written gradient take the same path
    auto = train_gd(mlp_forward, p, Xtr, ytr, lr, tol=1e-6, max_steps=500)
    short = train_gd(mlp_forward, p, Xtr, ytr, lr, tol=1e-6, max_steps=500, loss_grad=LOSS_GRADS["mlp"])
    for a, b in zip(auto.params, short.params):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_step_cap_and_divergence_are_recorded(circle):
    Xtr, ytr = circle[0], circle[1]
    p = init_mlp(2, 30, 2, [0.01, 1.0], seed=0)
    res = train_gd(mlp_forward, p, Xtr, ytr, [0.01, 50.0], tol=1e-9, max_steps=50, loss_grad=LOSS_GRADS["mlp"])
    assert res.hit_cap[0] and not res.converged[0] and res.steps[0] == 50
    assert res.diverged[1] and not res.converged[1] and not res.hit_cap[1]


def test_data_and_spline():
    a, b = circle_teacher(seed=1), circle_teacher(seed=1)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    np.testing.assert_allclose(np.linalg.norm(a.X_train, axis=1), 1.0)
    x, y = [0.0, 1.0, 3.0], [1.0, 3.0, -1.0]
    np.testing.assert_allclose(linear_spline(x, y, [0.5, 2.0, -1.0, 4.0]), [2.0, 1.0, -1.0, -3.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: init_mlp(2, 31, 2, [1.0], seed=0, unbiased=True), "even width"),
        (lambda: init_mlp(1, 30, 2, [1.0], seed=0), "D must be"),
        (lambda: init_mlp(2, 30, 2, [-1.0], seed=0), "alpha"),
        (lambda: init_univariate(100, [1.0], seed=0, c=0.0), "shape c"),
        (lambda: init_univariate(101, [1.0], seed=0), "even integer"),
        (lambda: linear_spline([0.0, 0.0], [1.0, 2.0], [0.5]), "distinct"),
        (lambda: circle_teacher(n_train=0), "n_train"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_learning_rate_is_rejected(circle):
    p = init_mlp(2, 4, 2, [1.0], seed=0)
    with pytest.raises(ValueError, match="lr"):
        train_gd(mlp_forward, p, circle[0], circle[1], lr=-1.0)


def test_linearised_gd_closed_form_matches_iteration():
    """Closed-form linearised GD = the explicit loop, same stopping step; tol -> 0 gives the ridgeless predictor."""
    g = torch.Generator().manual_seed(0)
    Phi = torch.randn(5, 12, generator=g, dtype=F64)
    Phi_te = torch.randn(7, 12, generator=g, dtype=F64)
    y, f0, f0_te = (torch.randn(n, generator=g, dtype=F64) for n in (5, 5, 7))
    K, K_te = Phi @ Phi.T, Phi_te @ Phi.T
    lr = 1.0 / (2.0 / 5 * torch.linalg.eigvalsh(K)[-1].item())
    pred, t, ok = linearised_gd(K, K_te, y, f0, f0_te, lr, tol=1e-8, max_steps=100000)
    w = torch.zeros(12, dtype=F64)
    for step in range(100000):
        r = f0 + Phi @ w - y
        if (r * r).mean() <= 1e-8:
            break
        w = w - lr * (2.0 / 5) * Phi.T @ r
    assert ok and t == step
    torch.testing.assert_close(pred, f0_te + Phi_te @ w, rtol=1e-8, atol=1e-10)
    exact = f0_te + K_te @ torch.linalg.solve(K, y - f0)
    pred_inf, _, ok_inf = linearised_gd(K, K_te, y, f0, f0_te, lr, tol=1e-28, max_steps=10**9)
    assert ok_inf
    torch.testing.assert_close(pred_inf, exact, rtol=1e-8, atol=1e-10)
    _, t_cap, ok_cap = linearised_gd(K, K_te, y, f0, f0_te, lr, tol=1e-8, max_steps=3)
    assert not ok_cap and t_cap == 3


def _fig6_table(small_err: float) -> Any:
    import pandas as pd

    rows = []
    for D in (2, 3):
        for seed in (0, 1):
            for aD, err, gd in ((0.01, small_err, 0.6), (1.0, 0.02, 0.1), (1000.0, 0.04, 1e-6)):
                rows.append({"D": D, "seed": seed, "alpha": aD ** (1 / D), "alpha_D": aD, "test_error": err,
                             "kernel_test_error": 0.041, "linearised_test_error": 0.0401, "linearised_steps": 100,
                             "net_linearised_rms": 1e-4, "y_test_rms": 0.3, "grad_distance": gd,
                             "train_loss": 1e-7, "hit_cap": False, "converged": True})
    rows[1].update(converged=False, hit_cap=True, train_loss=2e-6)  # one capped run, excluded and listed
    return pd.DataFrame(rows)


def test_relu_claims_follow_the_table():
    from kr.ledger import Measurement
    from kr.experiments.relu.claims import CLAIMS

    th = {"relu_error_ratio_min": 1.2, "relu_kernel_gap_rtol": 0.1, "relu_linearised_rtol": 0.05,
          "relu_grad_distance_kernel_max": 0.05, "relu_grad_distance_rich_min": 0.2}
    checks = {c.claim_id: c.check for c in CLAIMS}
    good = {"relu_fig6": _fig6_table(0.001)}
    bad = {"relu_fig6": _fig6_table(0.08)}  # small alpha now generalises worse
    m: Measurement = checks["relu-fig6a-rich-generalises"](good, th)
    assert m.reproduced and m.value == pytest.approx(40.0) and "1 runs not converged" in m.detail
    assert not checks["relu-fig6a-rich-generalises"](bad, th).reproduced
    assert checks["relu-fig6a-kernel-limit"](good, th).value == pytest.approx(1 / 41)
    assert checks["relu-fig6b-grad-distance"](good, th).reproduced
    assert not checks["relu-fig6b-grad-distance"](good, {**th, "relu_grad_distance_rich_min": 0.9}).reproduced


# --------------------------------------------------------------------------- #
# typed specs and job params (kr.experiments.relu.specs, kr.experiments.relu.plan)
# --------------------------------------------------------------------------- #
def _relu_config() -> dict[str, Any]:
    import copy
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    return copy.deepcopy(cfg["relu"])


@pytest.mark.parametrize(
    "key, value",
    [
        ("lr", 0.0),
        ("lr", float("nan")),
        ("tol", -1e-6),
        ("width", 31),  # unbiased pairs the last hidden layer
        ("max_steps", 2.5),
        ("unbiased", "yes"),
        ("lr_gn_fraction", 0),
        ("alpha_D", [0.1, -1.0]),
        ("data_seed", -1),
    ],
)
def test_fig6_spec_rejects_bad_values_naming_the_key(key: str, value: Any) -> None:
    from kr.experiments.relu.plan import fig6_params
    from kr.experiments.relu.specs import Fig6Spec

    params = {**fig6_params(_relu_config()), key: value}
    with pytest.raises(ValueError, match=rf"^relu\.fig6\.{key}\b"):
        Fig6Spec.from_config(params)


@pytest.mark.parametrize(
    "key, value, named",
    [
        ("c", 0.0, "relu.fig7.shapes.b"),
        ("c", float("inf"), "relu.fig7.shapes.b"),
        ("width", 999, "relu.fig7.width"),
        ("x", [0.0, 0.0, 1.0, 2.0, 3.0, 4.0], "relu.fig7.x"),
        ("y", [1.0, 2.0], "relu.fig7.x"),  # lengths differ
        ("grid_margin", -0.1, "relu.fig7.grid_margin"),
        ("alpha", {"log10_start": -2, "log10_stop": 1, "num": 0}, "relu.fig7.alpha.num"),
        ("dtype", "float16", "relu.dtype"),
        ("check_every", 0, "relu.fig7.check_every"),
    ],
)
def test_fig7_spec_rejects_bad_values_naming_the_key(key: str, value: Any, named: str) -> None:
    from kr.experiments.relu.plan import fig7_params
    from kr.experiments.relu.specs import Fig7Spec

    params = {**fig7_params(_relu_config(), "b"), key: value}
    with pytest.raises(ValueError, match="^" + named.replace(".", r"\.") + r"\b"):
        Fig7Spec.from_config(params)


def test_specs_round_trip_their_params_and_check_config_builds_them() -> None:
    from kr.experiments.relu.plan import check_config, fig6_params, fig7_params
    from kr.experiments.relu.specs import Fig6Spec, Fig7Spec

    relu = _relu_config()
    p6 = fig6_params(relu)
    assert Fig6Spec.from_config(p6).parameters() == p6
    assert Fig6Spec.from_config(Fig6Spec.from_config(p6).parameters()) == Fig6Spec.from_config(p6)
    for panel in relu["fig7"]["shapes"]:
        p7 = fig7_params(relu, panel)
        assert Fig7Spec.from_config(p7).parameters() == p7
    relu["fig7"]["shapes"]["c"] = -0.5  # only the spec rejects this (the schema too, at workflow start-up)
    with pytest.raises(ValueError, match=r"relu\.fig7\.shapes\.c"):
        check_config({"relu": relu})


def test_job_params_carry_only_the_keys_the_job_reads() -> None:
    from kr.experiments.relu.plan import fig6_params, fig7_params

    relu = _relu_config()
    p6, p7 = fig6_params(relu), {p: fig7_params(relu, p) for p in relu["fig7"]["shapes"]}
    assert not {"depths", "seeds", "claims"} & set(p6)
    assert all(not {"shapes", "claims"} & set(p) for p in p7.values())
    # another panel's shape, the depth/seed lists and the ledger thresholds leave a job's params alone
    changed = _relu_config()
    changed["fig7"]["shapes"]["a"] = 0.7
    changed["fig7"]["shapes"]["c"] = 0.01
    changed["fig6"].update(depths=[2], seeds=[0, 1, 2])
    changed["claims"]["relu_spline_rel_tol"] = 0.5
    assert fig7_params(changed, "b") == p7["b"]
    assert fig7_params(changed, "a") != p7["a"] and fig7_params(changed, "a")["c"] == 0.7
    assert fig6_params(changed) == p6
    # a key the jobs read does change them
    changed["fig7"]["lr"] = 0.1
    assert fig7_params(changed, "b") != p7["b"]
