"""Tests for :mod:`kr.reference` (Woodworth et al. 2020, Section 4, Theorems 1, 3).

Each solver is checked against a route that shares no code with it:

* min-l1: HiGHS on the primal LP vs cvxpy vs HiGHS on the *dual* LP
  (``max y^T nu s.t. |X^T nu| <= 1``) vs brute force over supports;
* min-l2: cvxpy and the KKT characterisation ``beta in range(X^T)``;
* min-Q: cvxpy (conic), direct primal minimisation with scipy on
  ``kr.theory.Q`` / ``q_D``, the KKT condition ``grad Q(beta*) in range(X^T)``
  with ``grad Q`` from ``kr.theory.h_inv``, strong duality with the closed-form
  conjugate, and -- for the general-shape regulariser -- the limit of a
  numerically integrated gradient flow of the model itself (eqs. 3, 10).

Tolerances are stated next to each assertion; the cvxpy ones come from the
accuracy table in the module docstring of :mod:`kr.reference`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, linalg, optimize

from kr import reference as ref
from kr import theory as th


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@contextlib.contextmanager
def strict():
    """Every warning and every float overflow/invalid/divide is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def sparse_problem(d: int, N: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Section 4's sparse regression: Gaussian X, 3-sparse planted beta, noisy y."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    beta = np.zeros(d)
    beta[:3] = 1.0 / np.sqrt(3.0)
    return X, X @ beta + noise * rng.standard_normal(N)


def null_projector(X: np.ndarray) -> np.ndarray:
    """Orthogonal projector onto null(X) = range(X^T)^perp."""
    Z = linalg.null_space(X)
    return Z @ Z.T


def grad_Q(beta, alpha, D, w0=None):
    """dQ/dbeta_i = w0_i^(2-D) h_D^{-1}(beta_i / (alpha w0_i)^D), from kr.theory only."""
    w0 = np.ones_like(beta) if w0 is None else w0
    return w0 ** (2.0 - D) * th.h_inv(beta / (alpha * w0) ** D, D)


def Q_value(beta, alpha, D, w0=None):
    """Q^D_{alpha,w0}(beta) from kr.theory only: eq. (5) for D = 2, Theorem 3 with a shape."""
    if D == 2:
        return float(th.Q(beta, alpha, w0))
    w0 = np.ones_like(beta) if w0 is None else w0
    return float(alpha**D * np.sum(w0**2 * th.q_D(beta / (alpha * w0) ** D, D)))


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def prob_small():
    return sparse_problem(60, 15, 11)


@pytest.fixture(scope="module")
def prob_medium():
    return sparse_problem(100, 20, 12)


@pytest.fixture(scope="module")
def prob_tiny():
    """d = 6, N = 3: small enough for brute force and scipy on the primal."""
    rng = np.random.default_rng(3)
    return rng.standard_normal((3, 6)), rng.standard_normal(3)


W0_TINY = np.array([0.5, 1.5, 1.0, 2.0, 0.7, 1.2])


# --------------------------------------------------------------------------
# min-l1
# --------------------------------------------------------------------------
def test_min_l1_linprog_cvxpy_and_dual_lp_agree(prob_small):
    X, y = prob_small
    lp = ref.min_l1(X, y)
    cv = ref.min_l1(X, y, solver="cvxpy")
    assert lp.converged and cv.converged
    assert lp.method == "linprog:highs" and cv.method.startswith("cvxpy:")
    for r in (lp, cv):
        assert r.residual <= 1e-10 * np.linalg.norm(y)
        assert r.residual == pytest.approx(np.linalg.norm(X @ r.beta - y), abs=1e-15)
        assert r.objective == pytest.approx(np.abs(r.beta).sum(), rel=1e-15)
    # the dual LP, formulated and solved independently: max y^T nu s.t. |X^T nu| <= 1
    A = np.vstack([X.T, -X.T])
    ones = np.ones(2 * X.shape[1])
    dual = optimize.linprog(-y, A_ub=A, b_ub=ones, bounds=(None, None), method="highs")
    assert dual.status == 0
    assert lp.objective == pytest.approx(-dual.fun, abs=1e-8)
    assert cv.objective == pytest.approx(-dual.fun, abs=1e-8)
    # the LP's own certificate: |X^T nu| <= 1 and y^T nu = ||beta||_1
    assert np.abs(X.T @ lp.nu).max() <= 1 + 1e-9
    assert y @ lp.nu == pytest.approx(lp.objective, abs=1e-8)
    # a sparse solution (at most N nonzeros), unlike min-l2
    assert np.sum(np.abs(lp.beta) > 1e-9) <= X.shape[0]


def test_min_l1_brute_force_over_supports(prob_tiny):
    """The optimum is a basic solution: X_S beta_S = y on some |S| = N support."""
    X, y = prob_tiny
    N, d = X.shape
    best, best_beta = np.inf, None
    for S in itertools.combinations(range(d), N):
        XS = X[:, S]
        if abs(np.linalg.det(XS)) < 1e-12:
            continue
        b = np.zeros(d)
        b[list(S)] = np.linalg.solve(XS, y)
        if np.abs(b).sum() < best:
            best, best_beta = np.abs(b).sum(), b
    for solver in ("linprog", "cvxpy"):
        r = ref.min_l1(X, y, solver=solver)
        assert r.objective == pytest.approx(best, abs=1e-8), solver
        np.testing.assert_allclose(r.beta, best_beta, atol=1e-7)


# --------------------------------------------------------------------------
# min-l2
# --------------------------------------------------------------------------
def test_min_l2_cvxpy_and_kkt(prob_small):
    X, y = prob_small
    ex = ref.min_l2(X, y)
    cv = ref.min_l2(X, y, solver="cvxpy")
    assert ex.converged and ex.method == "lstsq" and ex.status == "exact"
    assert cv.converged
    assert ex.residual <= 1e-13 * np.linalg.norm(y)
    assert rel(cv.beta, ex.beta) <= 1e-8
    # KKT: beta in range(X^T), i.e. orthogonal to null(X); nu is its certificate
    P = null_projector(X)
    assert np.linalg.norm(P @ ex.beta) <= 1e-13 * np.linalg.norm(ex.beta)
    np.testing.assert_allclose(X.T @ ex.nu, ex.beta, atol=1e-13)
    assert ex.objective == pytest.approx(np.linalg.norm(ex.beta))
    # and it is strictly shorter than min-l1's interpolator
    assert ex.objective < np.linalg.norm(ref.min_l1(X, y).beta)


# --------------------------------------------------------------------------
# the regulariser
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_regulariser_matches_theory(D):
    rng = np.random.default_rng(D)
    beta = rng.standard_normal(7)
    for alpha in (1e-3, 0.5, 20.0):
        want = float(th.Q_D(beta, alpha, D))
        assert ref.regulariser(beta, alpha, D) == pytest.approx(want, rel=1e-13)
        got = ref.regulariser_grad(beta, alpha, D)
        np.testing.assert_allclose(got, grad_Q(beta, alpha, D), rtol=1e-13)
    w0 = rng.uniform(0.5, 2.0, 7)
    assert ref.regulariser(beta, 0.7, D, w0) == pytest.approx(Q_value(beta, 0.7, D, w0), rel=1e-13)
    # finite-difference check of the gradient with a shape
    g = ref.regulariser_grad(beta, 0.7, D, w0)
    h = 1e-6
    fd = [
        (ref.regulariser(beta + h * e, 0.7, D, w0) - ref.regulariser(beta - h * e, 0.7, D, w0)) / (2 * h)
        for e in np.eye(7)
    ]
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("D", [2, 3, 5])
def test_dual_coordinate_functions_vs_mpmath(D):
    """The log-space evaluations behind the Newton solver (private ``_Coords``):
    beta = c h_D(tanh s), Hessian weight c g h_D'(tanh s) and conjugate
    a H_D(tanh s), against 50-digit mpmath on the closed forms of the module
    docstring (D = 2: h = 2 sinh, H = 2 (cosh - 1), with z = s)."""
    alpha, w0 = 0.3, 1.7
    sigma = np.array([-20.0, -3.0, -1e-3, 1e-10, 0.5, 2.0, 20.0])
    co = ref._Coords.at(sigma, ref._Scales.make(alpha, D, np.full(sigma.size, w0)))
    with mpmath.workdps(50):
        c = (mpmath.mpf(alpha) * w0) ** D
        a, g = mpmath.mpf(alpha) ** D * w0**2, mpmath.mpf(w0) ** (D - 2)
        for i, s in enumerate(sigma):
            s = mpmath.mpf(s)
            if D == 2:
                want = (2 * c * mpmath.sinh(s), 2 * c * mpmath.cosh(s), 2 * c * (mpmath.cosh(s) - 1))
            else:
                z, p, e = mpmath.tanh(s), mpmath.mpf(D) / (D - 2), mpmath.mpf(2) / (D - 2)
                want = (
                    c * ((1 - z) ** -p - (1 + z) ** -p),
                    c * g * p * ((1 - z) ** (-p - 1) + (1 + z) ** (-p - 1)),
                    a * ((D - 2) * ((1 - z) ** -e + (1 + z) ** -e) / 2 - (D - 2)),
                )
            for got, exp in zip((co.beta[i], co.w[i], co.aH[i]), want):
                assert got == pytest.approx(float(exp), rel=1e-12), (D, float(s))


# --------------------------------------------------------------------------
# min-Q: against independent routes
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "D, alpha",
    [(2, 1e-3), (2, 0.1), (2, 3.0), (3, 1e-3), (3, 0.1), (3, 0.3)],
)
def test_min_Q_newton_vs_cvxpy(prob_small, D, alpha):
    """cvxpy is accurate to ~1e-7 at these alpha (module docstring, Accuracy)."""
    X, y = prob_small
    nt = ref.min_Q(X, y, alpha, D)
    cv = ref.min_Q(X, y, alpha, D, solver="cvxpy")
    assert nt.converged and nt.method == "newton"
    assert cv.method.startswith("cvxpy:")
    assert rel(cv.beta, nt.beta) <= 1e-6
    assert rel(cv.nu, nt.nu) <= 1e-6
    assert cv.objective == pytest.approx(nt.objective, rel=1e-6)
    # Newton is the better optimum (both are feasible to 1e-6 or better)
    assert nt.objective <= cv.objective * (1 + 1e-9)


@pytest.mark.parametrize("D, formulation", [(2, "dual"), (2, "primal"), (3, "primal"), (4, "primal")])
def test_min_Q_newton_vs_cvxpy_with_shape(prob_small, D, formulation):
    X, y = prob_small
    w0 = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[1])
    nt = ref.min_Q(X, y, 0.1, D, w0)
    cv = ref.min_Q(X, y, 0.1, D, w0, solver="cvxpy", formulation=formulation)
    assert cv.method.endswith(formulation)
    assert rel(cv.beta, nt.beta) <= 1e-6
    assert rel(ref.min_Q(X, y, 0.1, D).beta, nt.beta) > 1e-2  # the shape matters


@pytest.mark.parametrize("D", [2, 3, 4])
@pytest.mark.parametrize("alpha", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("shaped", [False, True])
def test_min_Q_vs_scipy_primal(prob_tiny, D, alpha, shaped):
    """Direct minimisation of kr.theory's Q over {beta : X beta = y} (null-space
    parametrisation, BFGS with the kr.theory gradient)."""
    X, y = prob_tiny
    w0 = W0_TINY if shaped else None
    b0 = np.linalg.lstsq(X, y, rcond=None)[0]
    Z = linalg.null_space(X)
    scale = 1.0 / max(1e-300, np.abs(grad_Q(b0, alpha, D, w0)).max())
    res = optimize.minimize(
        lambda t: scale * Q_value(b0 + Z @ t, alpha, D, w0),
        np.zeros(Z.shape[1]),
        jac=lambda t: scale * Z.T @ grad_Q(b0 + Z @ t, alpha, D, w0),
        method="BFGS",
        options={"gtol": 1e-12, "maxiter": 2000},
    )
    beta_sp = b0 + Z @ res.x
    nt = ref.min_Q(X, y, alpha, D, w0)
    assert nt.converged
    np.testing.assert_allclose(nt.beta, beta_sp, atol=1e-7 * np.abs(beta_sp).max())
    assert nt.objective <= Q_value(beta_sp, alpha, D, w0) * (1 + 1e-12)


def gradient_flow_limit(X, y, alpha, D, w0, T=2000.0):
    """Integrate w+' = -D (X^T r) w+^(D-1), w-' = +D (X^T r) w-^(D-1) from alpha w0."""
    d = X.shape[1]

    def f(_, w):
        wp, wm = w[:d], w[d:]
        g = X.T @ (X @ (wp**D - wm**D) - y)
        return np.concatenate([-D * g * wp ** (D - 1), D * g * wm ** (D - 1)])

    w = np.concatenate([alpha * w0, alpha * w0])
    sol = integrate.solve_ivp(f, (0.0, T), w, method="LSODA", rtol=1e-12, atol=1e-14)
    assert sol.success
    wp, wm = sol.y[:d, -1], sol.y[d:, -1]
    return wp**D - wm**D


@pytest.mark.parametrize("D", [2, 3, 4])
@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_min_Q_with_shape_is_the_gradient_flow_limit(prob_tiny, D, alpha):
    """Theorem 1 (general case) and the shaped D >= 3 regulariser of the module
    docstring, against the model's own gradient flow."""
    X, y = prob_tiny
    flow = gradient_flow_limit(X, y, alpha, D, W0_TINY)
    assert np.linalg.norm(X @ flow - y) <= 1e-10
    shaped = ref.min_Q(X, y, alpha, D, W0_TINY)
    assert shaped.converged
    np.testing.assert_allclose(shaped.beta, flow, atol=1e-9)
    # the shape matters here: the w0 = 1 solution is far away
    assert np.abs(ref.min_Q(X, y, alpha, D).beta - flow).max() > 1e-2


@pytest.mark.parametrize("D", [2, 3, 4, 5])
@pytest.mark.parametrize("alpha", [1e-8, 1e-4, 1.0, 1e4])
def test_min_Q_kkt(prob_medium, D, alpha):
    """KKT (Section 4): grad Q(beta*) = X^T nu, i.e. no component in null(X)."""
    X, y = prob_medium
    w0 = np.random.default_rng(7).uniform(0.5, 2.0, X.shape[1]) if D % 2 else None
    r = ref.min_Q(X, y, alpha, D, w0)
    assert r.converged
    g = grad_Q(r.beta, alpha, D, w0)
    assert np.linalg.norm(null_projector(X) @ g) <= 1e-10 * np.linalg.norm(g)
    np.testing.assert_allclose(X.T @ r.nu, g, atol=1e-9 * np.abs(g).max())


@pytest.mark.parametrize("D", [2, 3, 4])
def test_min_Q_strong_duality(prob_small, D):
    """Q(beta*) = y^T nu - sum_i a_i H_D(g_i (X^T nu)_i) with the closed-form H_D."""
    X, y = prob_small
    w0 = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[1])
    alpha = 0.8
    r = ref.min_Q(X, y, alpha, D, w0)
    a, g = alpha**D * w0**2, w0 ** (D - 2.0)
    z = g * (X.T @ r.nu)
    if D == 2:
        H = 2.0 * (np.cosh(z) - 1.0)
    else:
        e = 2.0 / (D - 2.0)
        H = 0.5 * (D - 2.0) * ((1 - z) ** -e + (1 + z) ** -e) - (D - 2.0)
    assert r.objective == pytest.approx(y @ r.nu - np.sum(a * H), rel=1e-10)
    assert r.objective == pytest.approx(Q_value(r.beta, alpha, D, w0), rel=1e-14)


# --------------------------------------------------------------------------
# limits (Theorems 2, 3; eqs. 6, 7)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 4, 5])
def test_large_alpha_is_min_l2(prob_medium, D):
    X, y = prob_medium
    assert rel(ref.min_Q(X, y, 1e4, D).beta, ref.min_l2(X, y).beta) <= 1e-8
    assert rel(ref.min_Q(X, y, 1.0, D).beta, ref.min_l2(X, y).beta) > 1e-4  # not yet at alpha = 1


def test_large_alpha_with_shape_is_weighted_min_l2(prob_medium):
    """Eq. (6): Q_{alpha,w0} ~ sum beta_i^2 / (4 alpha^2 w0_i^2) as alpha -> inf."""
    X, y = prob_medium
    w0 = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[1])
    W = w0**2
    weighted = W * (X.T @ np.linalg.solve((X * W) @ X.T, y))
    assert rel(ref.min_Q(X, y, 1e4, 2, w0).beta, weighted) <= 1e-8
    assert rel(weighted, ref.min_l2(X, y).beta) > 1e-2


def test_small_alpha_approaches_min_l1(prob_medium):
    """D = 3 is at min-l1 already at alpha = 1e-4; D = 2 only logarithmically (eq. 7)."""
    X, y = prob_medium
    l1 = ref.min_l1(X, y)

    def gap(alpha, D, w0=None):
        return (np.abs(ref.min_Q(X, y, alpha, D, w0).beta).sum() - l1.objective) / l1.objective

    assert 0 <= gap(1e-4, 3) <= 1e-6
    assert rel(ref.min_Q(X, y, 1e-4, 3).beta, l1.beta) <= 1e-4
    g2 = [gap(a, 2) for a in (1e-2, 1e-4, 1e-8)]
    assert g2[0] > g2[1] > g2[2] > 0
    assert g2[2] <= 1e-2
    assert g2[1] > 1e3 * gap(1e-4, 3)  # depth hastens the transition (Section 5)


def test_small_alpha_limit_with_shape(prob_medium):
    """D = 2: the shape does not change the rich limit (eq. 7).  D > 2: it does;
    the limit is min sum_i w0_i^(2-D) |beta_i| (the dual box is |x_i^T nu| <=
    w0_i^(2-D), module docstring)."""
    X, y = prob_medium
    w0 = np.random.default_rng(4).uniform(0.5, 2.0, X.shape[1])
    l1 = ref.min_l1(X, y)
    assert rel(ref.min_Q(X, y, 1e-8, 2, w0).beta, l1.beta) <= 0.05
    for D in (3, 4):
        c = w0 ** (2.0 - D)
        weighted = ref.min_l1(X / c, y).beta / c  # argmin sum c_i |beta_i|
        shaped = ref.min_Q(X, y, 1e-4, D, w0).beta
        assert rel(shaped, weighted) <= 1e-5
        assert rel(shaped, l1.beta) > 0.05


# --------------------------------------------------------------------------
# robustness
# --------------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 4, 5])
@pytest.mark.parametrize("alpha", [1e-8, 1e-4, 1.0, 1e2, 1e4])
def test_newton_robust(prob_medium, D, alpha):
    X, y = prob_medium
    with strict():
        r = ref.min_Q(X, y, alpha, D)
    assert r.converged, r.status
    assert r.status == "converged"
    assert np.all(np.isfinite(r.beta)) and np.all(np.isfinite(r.nu)) and np.isfinite(r.objective)
    assert r.residual <= 1e-12 * max(1.0, np.linalg.norm(y))
    assert r.residual == pytest.approx(np.linalg.norm(X @ r.beta - y), abs=1e-15)


@pytest.mark.parametrize("D", [2, 3, 5])
@pytest.mark.parametrize("alpha", [1e-8, 1e-2, 1e4])
@pytest.mark.parametrize("case", ["noiseless", "rank_deficient"])
def test_newton_robust_degenerate(D, alpha, case):
    """Noiseless sparse y (min-l1 has fewer than N nonzeros: the dual is flat in
    some directions as alpha -> 0) and a rank-deficient X (repeated rows)."""
    if case == "noiseless":
        X, y = sparse_problem(100, 20, 13, noise=0.0)
    else:
        X, y = sparse_problem(60, 20, 14)
        X[10:] = X[:10]
        y[10:] = y[:10]
    with strict():
        r = ref.min_Q(X, y, alpha, D)
    assert r.converged, r.status
    g = grad_Q(r.beta, alpha, D)
    assert np.linalg.norm(null_projector(X) @ g) <= 1e-10 * np.linalg.norm(g)


def test_newton_d2_tiny_alpha_step_cap(prob_medium):
    """alpha = 1e-14 (beyond the required range): the first Newton step is
    ~1/alpha^2 long; the D = 2 step cap keeps log c + |u| from overflowing."""
    X, y = prob_medium
    with strict():
        r = ref.min_Q(X, y, 1e-14, 2)
    assert r.converged, r.status


def test_newton_ill_conditioned_square_system():
    """cond(X)^2 eps exceeds tol: the dual stalls and refinement in beta finishes."""
    rng = np.random.default_rng(8)
    U, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    V, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    X = U @ np.diag(np.logspace(0, -3, 20)) @ V.T
    y = rng.standard_normal(20)
    exact = np.linalg.solve(X, y)
    for D in (2, 3):
        with strict():
            r = ref.min_Q(X, y, 1.0, D)
        assert r.converged, r.status
        assert rel(r.beta, exact) <= 1e-9


def test_infeasible_system_is_reported():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])  # rank 1
    y = np.array([1.0, 0.0])  # not in the range
    q = ref.min_Q(X, y, 1.0, 3)
    assert not q.converged and q.status.startswith("infeasible") and np.all(np.isnan(q.beta))
    assert not ref.min_l2(X, y).converged
    assert not ref.min_l1(X, y).converged


def test_result_is_frozen(prob_tiny):
    r = ref.min_Q(*prob_tiny, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.beta = np.zeros(6)  # type: ignore[misc]
    assert isinstance(r.wall_time_s, float) and r.wall_time_s >= 0
    assert isinstance(r.iterations, int) and r.iterations >= 1


# --------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------
X_OK = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
Y_OK = np.array([1.0, 2.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.ones(3)}, "X must be"),
        ({"X": np.ones((2, 0))}, "X must be"),
        ({"X": np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 1.0]])}, "X must be finite"),
        ({"y": np.ones((2, 1))}, "y must be a 1-D"),
        ({"y": np.ones(3)}, r"len\(y\)"),
        ({"y": np.array([1.0, np.inf])}, "y must be finite"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"alpha": np.nan}, "alpha"),
        ({"alpha": np.inf}, "alpha"),
        ({"alpha": "big"}, "alpha"),
        ({"D": 1.5}, "D must be"),
        ({"D": np.nan}, "D must be"),
        ({"w0": np.ones(2)}, "w0 must have shape"),
        ({"w0": np.array([1.0, 0.0, 1.0])}, "w0 must be positive"),
        ({"w0": np.array([1.0, -1.0, 1.0])}, "w0 must be positive"),
        ({"w0": np.array([1.0, np.nan, 1.0])}, "w0 must be positive"),
        ({"solver": "gd"}, "unknown solver"),
        ({"solver": "linprog"}, "unknown solver"),
        ({"formulation": "both"}, "unknown formulation"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_min_Q_bad_inputs(kwargs, match):
    args = {"X": X_OK, "y": Y_OK, "alpha": 1.0, "D": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        ref.min_Q(**args)


@pytest.mark.parametrize("fn", [ref.min_l1, ref.min_l2])
@pytest.mark.parametrize(
    "X, y, kwargs, match",
    [
        (np.ones(3), Y_OK, {}, "X must be"),
        (X_OK, np.ones(3), {}, r"len\(y\)"),
        (X_OK, np.array([np.nan, 1.0]), {}, "y must be finite"),
        (X_OK, Y_OK, {"solver": "newton"}, "unknown solver"),
    ],
)
def test_min_l1_l2_bad_inputs(fn, X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(X, y, **kwargs)
