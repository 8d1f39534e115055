"""Tests for :mod:`kr.experiments.diagonal.flow` (gradient flow / GD on the diagonal networks of Sections 4-5).

Every check compares against a computation that shares no code with the
implementation:

* central finite differences of the loss ``L = ||X (w+^D - w-^D) - y||^2``;
* brute-force gradient flow in the 2d-dimensional parameter space
  (``scipy.integrate.solve_ivp`` at rtol 1e-12);
* the minimiser of the implicit bias Q of Theorems 1 and 3 (``kr.theory``),
  computed with ``scipy.optimize`` on the affine set ``X beta = y``;
* the flow itself, for gradient descent (small steps converge to it, O(lr)).

Tolerances are stated next to each assertion together with their origin.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from scipy import integrate, linalg, optimize

from kr import theory, validation
from kr.experiments.diagonal import flow as flows


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@contextlib.contextmanager
def strict():
    """Every warning and every floating-point exception (underflow included) is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def tiny_problem(seed: int = 1, N: int = 3, d: int = 8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)), rng.standard_normal(N)


def sparse_problem(seed: int = 0, N: int = 10, d: int = 50):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    beta_star = np.zeros(d)
    beta_star[[3, 17, 41]] = [1.0, -0.7, 0.5]
    return X, X @ beta_star


def loss(X, y, wp, wm, D):
    r = X @ (wp**D - wm**D) - y
    return float(r @ r)


def grad_formula(X, y, wp, wm, D):
    """dL/dw+- = +-2D (X^T r) w+-^(D-1), written out here independently of kr.experiments.diagonal.flow."""
    g = 2.0 * D * (X.T @ (X @ (wp**D - wm**D) - y))
    return g * wp ** (D - 1), -g * wm ** (D - 1)


def q_minimiser(X, y, alpha, D, w0=None):
    """argmin Q(beta) s.t. X beta = y, by scipy's trust-exact on beta = beta0 + Z c.

    Q is Theorem 1's ``Q_{alpha,w0}`` (D = 2, ``kr.theory.Q``) or Theorem 3's
    ``Q^D_alpha`` (w0 = 1, ``kr.theory.Q_D``); for D > 2 with a non-uniform w0 we
    use ``sum_i (alpha w0_i)^2 q_D(beta_i / (alpha w0_i)^D)``, derived in
    kr.experiments.diagonal.flow' docstring (the paper states only w0 = 1 there).  Gradient and
    Hessian come from ``kr.theory.h_inv``: ``dQ/dbeta_i = h^-1(beta_i/s_i) / a_i^(D-2)``
    with ``a = alpha w0``, ``s = a^D``.
    """
    d = X.shape[1]
    a = alpha * (np.ones(d) if w0 is None else np.asarray(w0, float))
    s = a**D

    if D == 2:
        value = lambda b: float(theory.Q(b, alpha, w0))  # noqa: E731
    elif w0 is None:
        value = lambda b: float(theory.Q_D(b, alpha, D))  # noqa: E731 (a constant multiple)
    else:
        value = lambda b: float(np.sum(a**2 * theory.q_D(b / s, D)))  # noqa: E731

    def grad(b):
        return theory.h_inv(b / s, D) / a ** (D - 2)

    def hess_diag(b):
        z = theory.h_inv(b / s, D)
        if D == 2:
            hp = 2.0 * np.cosh(z)
        else:
            p = D / (D - 2.0)
            hp = p * ((1 - z) ** (-p - 1) + (1 + z) ** (-p - 1))
        return 1.0 / (a ** (2 * D - 2) * hp)

    scale = 1.0 if (D == 2 or w0 is not None) else alpha ** (D - 2)  # theory.Q_D = scale * ours
    Z = linalg.null_space(X)
    b0 = np.linalg.lstsq(X, y, rcond=None)[0]
    res = optimize.minimize(
        lambda c: value(b0 + Z @ c) / scale,
        np.zeros(Z.shape[1]),
        jac=lambda c: Z.T @ grad(b0 + Z @ c),
        hess=lambda c: (Z.T * hess_diag(b0 + Z @ c)) @ Z,
        method="trust-exact",
        options={"gtol": 1e-14, "maxiter": 500},
    )
    # trust-exact stops once Q's rounding hides further decrease (gradient ~1e-9);
    # finish with plain Newton steps on the same gradient and Hessian.
    c = res.x
    for _ in range(5):
        b = b0 + Z @ c
        c = c - np.linalg.solve((Z.T * hess_diag(b)) @ Z, Z.T @ grad(b))
    beta = b0 + Z @ c
    # first-order optimality: the gradient lies in range(X^T) (KKT of eq. 4)
    g = grad(beta)
    assert np.linalg.norm(Z.T @ g) <= 1e-10 * max(1.0, np.linalg.norm(g)), res.message
    return beta


# --------------------------------------------------------------------------
# 1. the gradient of L
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_loss_gradient_matches_finite_differences(D):
    rng = np.random.default_rng(D)
    X, y = rng.standard_normal((4, 6)), rng.standard_normal(4)
    wp, wm = rng.uniform(0.3, 1.2, 6), rng.uniform(0.3, 1.2, 6)
    gp, gm = flows.loss_gradient(X, y, wp, wm, D)
    h = 1e-5
    for i in range(6):
        e = np.zeros(6)
        e[i] = h
        fd_p = (loss(X, y, wp + e, wm, D) - loss(X, y, wp - e, wm, D)) / (2 * h)
        fd_m = (loss(X, y, wp, wm + e, D) - loss(X, y, wp, wm - e, D)) / (2 * h)
        # central differences: O(h^2) = 1e-10 truncation, ~1e-11 rounding (L ~ 10)
        assert gp[i] == pytest.approx(fd_p, rel=1e-7, abs=1e-7)
        assert gm[i] == pytest.approx(fd_m, rel=1e-7, abs=1e-7)
    # the paper's eqs. (15)/(50) (gradient of L/2) would be off by exactly 2
    assert np.allclose(gp, 2 * D * (X.T @ (X @ (wp**D - wm**D) - y)) * wp ** (D - 1))


# --------------------------------------------------------------------------
# 2. the flow's limit is the minimiser of Q (Theorems 1 and 3)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3])
@pytest.mark.parametrize("alpha", [0.1, 0.5, 1.0, 3.0])
def test_flow_limit_is_q_minimiser(D, alpha):
    X, y = tiny_problem()
    res = flows.diagonal_flow(X, y, alpha, D, tol=1e-12)
    assert res.converged, res.message
    ref = q_minimiser(X, y, alpha, D)
    # KKT conditioning of these 3 x 8 problems is mild: 1e-12 residual -> ~1e-10
    assert rel(res.beta, ref) <= 1e-6


@pytest.mark.parametrize("D", [2, 3])
def test_flow_limit_nonuniform_w0(D):
    X, y = tiny_problem(seed=4)
    w0 = np.linspace(0.3, 2.0, X.shape[1])
    for alpha in (0.2, 1.0):
        res = flows.diagonal_flow(X, y, alpha, D, w0=w0, tol=1e-12)
        assert res.converged, res.message
        ref = q_minimiser(X, y, alpha, D, w0=w0)
        assert rel(res.beta, ref) <= 1e-6
        # ... and w0 matters: the uniform-w0 minimiser is a different point
        assert rel(q_minimiser(X, y, alpha, D), ref) > 1e-3


# --------------------------------------------------------------------------
# 3. the S-reduction: the flow's path equals brute-force gradient flow on w
# --------------------------------------------------------------------------
def brute_force_path(X, y, alpha, D, w0, times):
    d = X.shape[1]

    def rhs(_t, w):
        gp, gm = grad_formula(X, y, w[:d], w[d:], D)
        return -np.concatenate([gp, gm])

    w_init = np.concatenate([alpha * w0, alpha * w0])
    sol = integrate.solve_ivp(
        rhs, (0, times[-1]), w_init, method="DOP853", t_eval=times, rtol=1e-12, atol=1e-14
    )
    assert sol.success
    return (sol.y[:d] ** D - sol.y[d:] ** D).T


@pytest.mark.parametrize(
    ("D", "alpha", "times"),
    [(2, 0.5, [0.02, 0.1, 0.4]), (3, 0.7, [0.02, 0.1, 0.4]), (4, 0.8, [0.01, 0.05, 0.2])],
)
def test_flow_path_matches_brute_force(D, alpha, times):
    X, y = tiny_problem(seed=2, N=3, d=6)
    w0 = np.array([1.0, 0.5, 2.0, 1.0, 0.8, 1.3])
    times = np.asarray(times)
    ref = brute_force_path(X, y, alpha, D, w0, times)
    # the path must actually move between the checkpoints for this to test anything
    assert rel(ref[0], ref[-1]) > 0.1
    # (a) the reduced ODE dS/dt = X beta(S) - y with diagonal_beta, integrated here
    sol = integrate.solve_ivp(
        lambda _t, S: X @ flows.diagonal_beta(X, S, alpha, D, w0) - y,
        (0, times[-1]), np.zeros(3), method="DOP853", dense_output=True, rtol=1e-12, atol=1e-14,
    )
    for k, t in enumerate(times):
        assert rel(flows.diagonal_beta(X, sol.sol(t), alpha, D, w0), ref[k]) <= 1e-8
    # (b) diagonal_flow's own integration, through t_eval
    res = flows.diagonal_flow(X, y, alpha, D, w0=w0, t_eval=times, rtol=1e-11)
    for k in range(len(times)):
        assert rel(res.beta_eval[k], ref[k]) <= 1e-7


def test_paper_eq17_constant_is_that_of_half_the_loss():
    """The paper's beta = 2 a^2 sinh(-4 X^T S) (eq. 17, the flow of L/2) gives a different path."""
    X, y = tiny_problem(seed=2, N=3, d=6)
    w0 = np.ones(6)
    ref = brute_force_path(X, y, 0.5, 2, w0, np.array([0.1]))[0]
    paper_rhs = lambda _t, S: X @ (2 * 0.25 * np.sinh(-4 * (S @ X))) - y  # noqa: E731
    sol = integrate.solve_ivp(paper_rhs, (0, 0.1), np.zeros(3), rtol=1e-12, atol=1e-14)
    assert rel(2 * 0.25 * np.sinh(-4 * (sol.y[:, -1] @ X)), ref) > 1e-2


# --------------------------------------------------------------------------
# 4. gradient descent
# --------------------------------------------------------------------------
def test_gd_converges_to_flow_as_step_shrinks():
    X, y = tiny_problem()
    alphas = [0.5, 1.0]
    flow = [flows.diagonal_flow(X, y, a, 2, tol=1e-12).beta for a in alphas]
    lr = 0.5 * flows.gd_learning_rate(X, y, alphas, 2)
    errs = []
    for factor in (1.0, 0.25):
        gd = flows.diagonal_gd(X, y, alphas, 2, lr=lr * factor, tol=1e-11)
        assert gd.converged.all(), gd.message
        assert np.all(gd.residual_norm <= 1e-11)
        errs.append([rel(gd.beta[k], flow[k]) for k in range(2)])
    errs = np.array(errs)
    assert np.all(errs[0] <= 1.5e-3)  # GD's limit differs from the flow's by O(lr)
    # O(lr): a 4x smaller step is 4x closer (measured 4.0x; allow 3x-5x)
    assert np.all((errs[0] / errs[1] > 3.0) & (errs[0] / errs[1] < 5.0)), errs


@pytest.mark.parametrize("D", [2, 3])
def test_gd_batched_equals_separate(D):
    X, y = tiny_problem(seed=3)
    alphas = np.array([0.4, 1.0, 2.5])
    batched = flows.diagonal_gd(X, y, alphas, D, tol=1e-9)
    assert batched.converged.all()
    # rows freeze at different steps; each must match its own run
    assert len(set(batched.steps.tolist())) == 3
    for k, a in enumerate(alphas):
        single = flows.diagonal_gd(X, y, [a], D, lr=batched.lr[k], tol=1e-9)
        assert single.steps[0] == batched.steps[k]
        # BLAS may sum a batch in another order: agree to rounding, not bitwise
        np.testing.assert_allclose(single.beta[0], batched.beta[k], rtol=1e-12, atol=1e-14)


def test_gd_auto_lr_is_stable_and_deterministic():
    X, y = sparse_problem()
    r1 = flows.diagonal_gd(X, y, [0.1, 0.5, 3.0], 2, tol=1e-6, max_steps=100_000)
    r2 = flows.diagonal_gd(X, y, [0.1, 0.5, 3.0], 2, tol=1e-6, max_steps=100_000)
    assert r1.converged.all(), r1.message
    assert np.array_equal(r1.beta, r2.beta) and np.array_equal(r1.steps, r2.steps)
    r3 = flows.diagonal_gd(X, y, [0.5, 2.0], 3, tol=1e-5, max_steps=100_000)
    assert r3.converged.all(), r3.message


# --------------------------------------------------------------------------
# 5. robustness over alpha in [1e-8, 1e4], D in 2..5
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_flow_robust_over_alpha(D):
    X, y = sparse_problem()
    tol = 1e-10
    betas = {}
    for alpha in (1e-8, 1e-3, 1.0, 1e4):
        with strict():
            res = flows.diagonal_flow(X, y, alpha, D, tol=tol, max_steps=20_000)
        assert res.converged, (alpha, res.message)
        assert np.all(np.isfinite(res.beta))
        assert np.linalg.norm(X @ res.beta - y) <= tol
        assert res.loss == pytest.approx(res.residual_norm**2)
        betas[alpha] = res.beta
    # the regimes (Theorems 2-3): alpha = 1e4 gives the min-l2 interpolant (error
    # O(alpha^-2D), eq. 6), alpha = 1e-8 the min-l1 one (an LP here); for D > 2 to
    # ~1e-10, for D = 2 only logarithmically in alpha (measured 10%).
    d = X.shape[1]
    lp = optimize.linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    l1 = lp.x[:d] - lp.x[d:]
    assert rel(betas[1e4], np.linalg.pinv(X) @ y) <= 1e-8
    if D == 2:
        assert rel(betas[1e-8], l1) <= 0.2 and rel(betas[1e-8], l1) < rel(betas[1.0], l1) / 3
    else:
        assert rel(betas[1e-8], l1) <= 1e-6


# --------------------------------------------------------------------------
# 5b. the saddle-to-saddle regime (small alpha, D > 2): limit and path
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def section4_small():
    """The Section 4 sparse regression, shrunk (d = 60, N = 15): ~15 plateaus and transitions."""
    from kr.experiments.diagonal.data import sparse_regression

    return sparse_regression(d=60, n=15, r_star=5, seed=0)


@pytest.mark.parametrize("D", [3, 5])
@pytest.mark.parametrize("alpha", [1e-3, 1e-6])
def test_flow_small_alpha_agrees_with_min_Q(section4_small, D, alpha):
    """Theorem 3 at small alpha, through the saddle-to-saddle dynamics (flow times up to 1e17).

    The reference is Newton's method on the dual of min Q (kr.reference.min_Q, no code
    shared with the flow).  The flow stops at ||X beta - y|| <= 1e-11, which moves beta
    by ~1e-11 times the conditioning (measured 3.5e-11 for all four): 1e-8 leaves room.
    """
    from kr.reference import min_Q

    X, y = section4_small.X, section4_small.y
    res = flows.diagonal_flow(X, y, alpha, D, tol=1e-11)
    assert res.converged, res.message
    ref = min_Q(X, y, alpha, D=D, solver="newton")
    assert ref.converged, ref.status
    assert rel(res.beta, ref.beta) <= 1e-8


def test_flow_small_alpha_path_matches_brute_force(section4_small):
    """The path, not just the limit: beta(t) through the first plateaus at alpha = 1e-3, D = 3.

    Brute force: DOP853 on the 2d parameters at rtol 1e-13 (non-stiff while beta is small).
    The flow at rtol 1e-10 is measured within 4e-12 (the previous scipy-Radau integrator
    was 3e-8 off at the first of these times, even at rtol 1e-11).
    """
    X, y = section4_small.X, section4_small.y
    D, alpha, d = 3, 1e-3, X.shape[1]
    times = np.geomspace(0.25, 25.0, 4)

    def rhs(_t, w):
        gp, gm = grad_formula(X, y, w[:d], w[d:], D)
        return -np.concatenate([gp, gm])

    sol = integrate.solve_ivp(
        rhs, (0, times[-1]), np.full(2 * d, alpha), method="DOP853", t_eval=times, rtol=1e-13, atol=1e-20
    )
    assert sol.success
    ref = (sol.y[:d] ** D - sol.y[d:] ** D).T
    assert rel(ref[0], ref[-1]) > 0.5  # the path moves
    res = flows.diagonal_flow(X, y, alpha, D, t_eval=times, rtol=1e-10, tol=1e-6)
    for k in range(times.size):
        assert rel(res.beta_eval[k], ref[k]) <= 1e-9, k


def test_flow_frozen_coordinates_change_nothing(section4_small, monkeypatch):
    """Freezing coordinates that cannot move (small alpha^D) gives the same flow as evaluating all."""
    X, y = section4_small.X, section4_small.y
    times = np.array([1e15, 1e16, 1e17])
    fast = flows.diagonal_flow(X, y, 1e-6, 5, tol=1e-11, t_eval=times)
    monkeypatch.setattr(flows, "_DEAD_MIN", 2.0)  # never freeze
    full = flows.diagonal_flow(X, y, 1e-6, 5, tol=1e-11, t_eval=times)
    assert fast.converged and full.converged
    # identical but for rounding (measured 4e-15 for the limit and 3e-15 along the path)
    assert rel(fast.beta, full.beta) <= 1e-12
    for k in range(times.size):
        assert np.linalg.norm(fast.beta_eval[k] - full.beta_eval[k]) <= 1e-12 * np.linalg.norm(full.beta), k


@pytest.mark.parametrize("method", ["Radau5", "Radau9", "Radau13"])
def test_flow_methods_same_limit(method):
    X, y = sparse_problem()
    res = flows.diagonal_flow(X, y, 0.1, 4, tol=1e-11, method=method)
    assert res.converged, res.message
    ref = flows.diagonal_flow(X, y, 0.1, 4, tol=1e-11)
    assert rel(res.beta, ref.beta) <= 1e-8
    with pytest.raises(ValueError, match="method must be"):
        flows.diagonal_flow(X, y, 0.1, 4, method="RK45")


# --------------------------------------------------------------------------
# 6. honest non-convergence
# --------------------------------------------------------------------------
def test_flow_reports_caps():
    X, y = sparse_problem()
    res = flows.diagonal_flow(X, y, 1e-3, 2, max_steps=5)
    assert not res.converged and res.steps == 5 and "max_steps" in res.message
    res = flows.diagonal_flow(X, y, 1e-3, 2, t_max=1.0)
    assert not res.converged and res.t == pytest.approx(1.0) and "t_max" in res.message
    assert res.residual_norm > 1e-10


def test_gd_reports_caps():
    X, y = sparse_problem()
    res = flows.diagonal_gd(X, y, [0.1, 1.0], 2, max_steps=10)
    assert not res.converged.any()
    assert res.steps.tolist() == [10, 10]
    assert "0/2 converged" in res.message
    # a step far above the stability limit diverges; that row is frozen, not "converged"
    with strict():
        res = flows.diagonal_gd(X, y, [0.1, 1.0], 2, lr=[1e-6, 1.0], max_steps=500, tol=1e-3)
    assert res.converged.tolist() == [False, False]
    assert np.isfinite(res.beta[0]).all() and not np.isfinite(res.residual_norm[1])
    assert res.steps[0] == 500 and res.steps[1] < 500 and "1 diverged" in res.message


# --------------------------------------------------------------------------
# 7. bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"X": np.ones((3, 4)), "y": np.ones(2)}, "rows"),
        ({"X": np.ones(4), "y": np.ones(1)}, "2-D"),
        ({"X": np.ones((3, 4)), "y": np.ones((3, 1))}, "1-D"),
        ({"X": np.array([[1.0, np.nan]]), "y": np.ones(1)}, "X contains NaN"),
        ({"X": np.ones((1, 2)), "y": np.array([np.nan])}, "y contains NaN"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"alpha": np.inf}, "alpha"),
        ({"D": 1.5}, "depth"),
        ({"w0": np.array([1.0, 0.0])}, "w0"),
        ({"w0": np.array([1.0, -1.0])}, "w0"),
        ({"w0": np.ones(3)}, "w0"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = {"X": np.array([[1.0, 2.0]]), "y": np.array([1.0]), "alpha": 1.0, "D": 2, "w0": None} | kwargs
    with pytest.raises(ValueError, match=match):
        flows.diagonal_flow(args["X"], args["y"], args["alpha"], args["D"], w0=args["w0"])
    with pytest.raises(ValueError, match=match):
        flows.diagonal_gd(args["X"], args["y"], [args["alpha"]], args["D"], w0=args["w0"], max_steps=1)


@pytest.mark.parametrize("tol", [-1e-3, np.nan, np.inf, "tight", None])
def test_check_tol(tol):
    assert validation.check_tol(0) == 0.0
    with pytest.raises(ValueError, match="^tol must"):
        validation.check_tol(tol)


@pytest.mark.parametrize("rtol", [0.0, 1e-15, 1.0, np.nan, "x"])
def test_check_rtol(rtol):
    assert validation.check_rtol(1e-14) == 1e-14
    with pytest.raises(ValueError, match="^rtol must"):
        validation.check_rtol(rtol)


@pytest.mark.parametrize("t_max", [0.0, -1.0, np.nan, -np.inf, None])
def test_check_t_max(t_max):
    assert validation.check_t_max(np.inf) == np.inf
    with pytest.raises(ValueError, match="^t_max must"):
        validation.check_t_max(t_max)


@pytest.mark.parametrize("max_steps", [-1, np.inf, "many", None])
def test_check_max_steps(max_steps):
    assert validation.check_max_steps(3.7) == 3
    with pytest.raises(ValueError, match="^max_steps must"):
        validation.check_max_steps(max_steps)


@pytest.mark.parametrize("method", ["RK45", "radau", None])
def test_check_method(method):
    assert validation.check_method("BDF", ("Radau", "BDF")) == "BDF"
    with pytest.raises(ValueError, match="^method must be 'Radau' or 'BDF'"):
        validation.check_method(method, ("Radau", "BDF"))


@pytest.mark.parametrize("t_eval", [[1.0, 0.5], [-1.0], [0.0, np.nan], [0.0, 20.0]])
def test_check_t_eval(t_eval):
    assert validation.check_t_eval(None) is None
    assert validation.check_t_eval([[0.0, 1.0]], t_max=1.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="t_eval"):
        validation.check_t_eval(t_eval, t_max=10.0)


def test_import_is_numpy_only():
    import subprocess
    import sys

    code = "import sys, kr.experiments.diagonal.flow; assert 'torch' not in sys.modules, 'kr.experiments.diagonal.flow imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
