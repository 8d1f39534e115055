"""Reference solutions: min-l1, min-l2 and min-Q^D_{alpha,w0} interpolators.

These are the "ground truth" predictors the gradient-flow experiments are
compared with (Section 4, Theorems 1 and 3):

* :func:`min_l1` -- ``argmin ||beta||_1 s.t. X beta = y`` (the rich limit),
  an LP solved by HiGHS (or by cvxpy);
* :func:`min_l2` -- ``argmin ||beta||_2 s.t. X beta = y`` (the kernel limit),
  closed form ``X^+ y``;
* :func:`min_Q` -- ``argmin Q^D_{alpha,w0}(beta) s.t. X beta = y``, the
  implicit bias of gradient flow from ``w+(0) = w-(0) = alpha w0``.

The regulariser. For depth D and initial shape ``w0 > 0`` write
``c_i = (alpha w0_i)^D``. Gradient flow on the D-homogeneous model (eq. 10)
gives ``w+-(t)^(2-D) = (alpha w0)^(2-D) +- D(D-2) X^T S(t)`` with
``S = int r`` (eqs. 51, 53), hence ``beta = c * h_D(w0^(D-2) * X^T nu)`` with
``nu = -alpha^(D-2) D(D-2) S(inf)`` (eq. 58 with a shape).  The KKT argument of
Section 4 (``grad Q = b^{-1}``) integrates to::

    Q^D_{alpha,w0}(beta) = alpha^D sum_i w0_i^2 q_D(beta_i / (alpha w0_i)^D)
    dQ/dbeta_i          = w0_i^(2-D) h_D^{-1}(beta_i / (alpha w0_i)^D)

which is eq. (5) for D = 2 (``h_2 = 2 sinh``, ``q_2 = q``) and Theorem 3 for
``w0 = 1``.  Its convex conjugate, coordinate by coordinate, is
``phi_i*(u) = a_i H_D(g_i u)`` with ``a_i = alpha^D w0_i^2``,
``g_i = w0_i^(D-2)`` and ``H_D = int h_D`` (``H_2(u) = 2 (cosh u - 1)``,
``H_D(u) = (D-2)/2 [(1-u)^(-2/(D-2)) + (1+u)^(-2/(D-2))] - (D-2)`` on
``|u| < 1``), so the dual of ``min Q s.t. X beta = y`` is::

    max_nu  y^T nu - sum_i a_i H_D(g_i (X^T nu)_i),   beta(nu) = c * h_D(g * X^T nu)

an unconstrained (D = 2) or box-constrained (D >= 3, ``|g X^T nu| < 1``)
smooth concave problem in only N (number of samples) variables.

Numerics of the Newton solver. ``solver="newton"`` runs damped Newton on that
dual with an Armijo backtracking line search and, for D >= 3, a
fraction-to-boundary rule.  Every coordinate quantity is evaluated through the
hyperbolic variable ``sigma = atanh(g X^T nu)`` of :mod:`kr.theory`
(``h_D(tanh s) = 2 cosh(s)^p sinh(p s)``) in log space.  For tiny alpha and
D >= 3 the active coordinates have ``1 - |g X^T nu|`` far below machine
epsilon (``~ alpha^(D-2)``: 1e-24 for D = 5, alpha = 1e-8), which ``nu``
itself cannot resolve; as in interior-point methods the solver therefore
carries the slack ``1 - |z_i|`` of every coordinate near the boundary as its
own variable and updates it by ``-sign(z_i) * dz_i``, which keeps its
relative accuracy.  A ridge of ``N eps max diag`` on the N x N Newton matrix
``X diag(w) X^T`` keeps it solvable when fewer than N coordinates carry
curvature (noiseless sparse y, rank-deficient X).  Starting from ``nu = 0``
no continuation in alpha is needed: at most ~70 iterations for alpha in
[1e-8, 1e4], D <= 5, d <= 1000.  The residual of ``beta(nu)`` bottoms out
near ``eps cond(X)^2 ||y||``; when that is above the target, a few steps of
iterative refinement in beta finish the job (see :func:`min_Q`).

For D > 2 the dual box is ``|X^T nu|_i <= w0_i^(2-D)``, so with a
non-uniform shape the alpha -> 0 limit is the *weighted* min-l1 solution
``argmin sum_i w0_i^(2-D) |beta_i|``, not min-l1: the paper's remark that the
shape does not affect the rich limit (eq. 7) is a D = 2 statement (tested).

Accuracy
--------
Measured by ``python benchmarks/reference_accuracy.py``: Section 4's
sparse regression with d = 200, N = 40, Gaussian X, 5-sparse beta*, noise
0.1; worst case over seeds 0-3; cvxpy 1.9 with CLARABEL at the tolerances of
``_conic_options`` (1e-12).  "newton KKT" is ``||P grad Q(beta)|| / ||grad
Q(beta)||`` with ``P`` the projector onto null(X) and ``grad Q`` from
:mod:`kr.theory`; the cvxpy columns are ``||beta_cvx - beta_newton|| /
||beta_newton||`` ("inf": the solver failed on some seed); "auto" is what
``formulation="auto"`` picks.

=  =====  ===========  ==========  ==  ==========  ============  ======
D  alpha  newton res/  newton KKT  it  cvxpy dual  cvxpy primal  auto
          ||y||
=  =====  ===========  ==========  ==  ==========  ============  ======
2  1e-6   6e-13        6e-16       17  1e-10       inf           dual
2  1e-5   2e-13        6e-16       15  9e-10       inf           dual
2  1e-4   4e-13        6e-16       13  3e-06       8e-02         dual
2  1e-3   9e-14        6e-16       11  1e-11       1e-01         dual
2  1e-2   2e-14        6e-16        9  9e-12       2e-05         dual
2  1e-1   2e-13        6e-16        8  1e-06       9e-10         primal
2  1e+0   3e-16        6e-16        3  4e-05       6e-08         primal
2  1e+1   3e-16        7e-16        2  4e-04       5e-06         primal
2  1e+2   3e-16        7e-16        2  4e-02       3e-04         primal
2  1e+3   1e-14        7e-16        1  3e+02       6e-02         primal
3  1e-6   1e-13        8e-16       34  1e+00       4e-11         primal
3  1e-5   3e-15        7e-16       33  1e+00       9e-11         primal
3  1e-4   2e-13        6e-16       29  1e+00       6e-10         primal
3  1e-3   2e-13        6e-16       25  6e-01       8e-09         primal
3  1e-2   5e-14        6e-16       21  6e-02       1e-09         primal
3  1e-1   1e-15        6e-16        9  2e-07       6e-09         primal
3  1e+0   3e-16        7e-16        3  5e-06       4e-04         dual
3  1e+1   3e-16        1e-15        2  6e-03       7e-03         dual
3  1e+2   1e-14        3e-15        1  7e-01       1e+03         dual
3  1e+3   1e-14        2e-15        1  9e+03       inf           dual
=  =====  ===========  ==========  ==  ==========  ============  ======

Findings.  Newton reaches the 1e-12 residual target and a KKT residual at
rounding level everywhere (and, in the tests, for alpha in [1e-8, 1e4],
D in {2, ..., 5}); on a d = 6 problem it agrees with BFGS on the primal
to 1e-8 (BFGS's accuracy) and with the integrated gradient flow of the
model to 2e-12.  The conic routes are much less accurate:

* large alpha: both formulations lose digits as the regulariser becomes a
  tiny-scale quadratic (the dual's ``exp``/``power`` must be resolved to
  ``O(u^2)`` around ``u ~ 1/alpha^D``; the primal's ``v+ - v-`` cancels two
  numbers of size ``alpha^D``): at best 5e-6 at alpha = 10 (D = 2), 5e-6 at
  alpha = 1 and 6e-3 at alpha = 10 (D = 3), unusable from alpha ~ 100 on;
* small alpha, D = 2: the dual stays at 1e-10 (with an occasional 1e-6
  outlier), the primal entropy split is off by 1e-2 to 1e-1 or fails;
* small alpha, D > 2: the dual is useless (``1 - |g X^T nu|`` is far below
  the solver's tolerance, so ``beta`` recovered from ``nu`` is garbage: rel.
  error 1), the primal power-cone split is good to 1e-8;
* CLARABEL returns "optimal_inaccurate" for most power-cone (D > 2) solves at
  these tolerances, even when beta agrees with Newton to 1e-9, so ``converged``
  is False there; and it can say "optimal" for a 2 % error (the D = 2
  primal at alpha = 1e-6).  Trust the cvxpy routes only as a cross-check
  within the range above; use ``solver="newton"`` as the reference.

Examples
--------
>>> import numpy as np
>>> from kr import reference
>>> X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
>>> y = np.array([2.0, 1.0])
>>> l1 = reference.min_l1(X, y)
>>> np.round(l1.beta, 12).tolist(), l1.method
([0.0, 1.0, 0.0], 'linprog:highs')
>>> l2 = reference.min_l2(X, y)
>>> big = reference.min_Q(X, y, alpha=1e3)  # kernel regime: min-l2
>>> bool(big.converged and np.allclose(big.beta, l2.beta, atol=1e-9))
True
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.optimize
from numpy.typing import ArrayLike, NDArray

from kr import theory
from kr.validation import check_alpha as _check_alpha
from kr.validation import check_depth as _check_D
from kr.validation import check_w0 as _check_w0
from kr.validation import check_Xy as _check_Xy

__all__ = [
    "ReferenceResult",
    "min_l1",
    "min_l2",
    "min_Q",
    "regulariser",
    "regulariser_grad",
    "conic_solver",
]

Array = NDArray[np.float64]
_LOG2 = float(np.log(2.0))
_EPS = float(np.finfo(np.float64).eps)
_LOG_BIG = 700.0  # exp(700) ~ 1e304: beyond this a trial point counts as infinite


@dataclass(frozen=True)
class ReferenceResult:
    """A reference interpolator and how it was obtained.

    ``objective`` is the regulariser at ``beta`` (``||beta||_1``,
    ``||beta||_2`` or ``Q^D_{alpha,w0}``); ``residual`` is ``||X beta - y||_2``;
    ``nu`` is the dual variable (``grad = X^T nu`` at the optimum) or None.
    """

    beta: Array
    nu: Array | None
    objective: float
    converged: bool
    residual: float
    iterations: int
    wall_time_s: float
    method: str
    status: str


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
def _check_solver(solver: str, allowed: tuple[str, ...]) -> str:
    if solver not in allowed:
        raise ValueError(f"unknown solver {solver!r}; expected one of {allowed}")
    return solver


def conic_solver() -> str:
    """The conic solver used by the ``solver="cvxpy"`` routes.

    CLARABEL if installed, else SCS, else ECOS (cvxpy's exponential and power
    cones need one of them).
    """
    import cvxpy as cp

    installed = cp.installed_solvers()
    for name in ("CLARABEL", "SCS", "ECOS"):
        if name in installed:
            return name
    raise RuntimeError(f"no exponential/power-cone solver among {installed}")


def _conic_options(name: str) -> dict[str, float | int]:
    """Tight tolerances: the defaults (~1e-8 on the objective) lose half the digits of beta."""
    if name == "CLARABEL":
        tight = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}
        return {**tight, "tol_ktratio": 1e-10, "max_iter": 500}
    if name == "SCS":
        return {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 200_000}
    return {"abstol": 1e-10, "reltol": 1e-10, "feastol": 1e-10, "max_iters": 500}  # ECOS


def _solve_conic(prob: object, name: str) -> str:
    import cvxpy as cp

    try:
        with warnings.catch_warnings():  # "may be inaccurate": the status says so
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(solver=name, **_conic_options(name))  # type: ignore[attr-defined]
    except cp.error.SolverError as exc:
        return f"solver error: {exc}"
    return str(prob.status)  # type: ignore[attr-defined]


def _residual(X: Array, beta: Array, y: Array) -> float:
    return float(np.linalg.norm(X @ beta - y))


# --------------------------------------------------------------------------- #
# min-l1 (the rich limit) and min-l2 (the kernel limit)
# --------------------------------------------------------------------------- #
def _norm(beta: Array, kind: str) -> float:
    return float(np.abs(beta).sum()) if kind == "l1" else float(np.linalg.norm(beta))


def _min_norm_cvxpy(X: Array, y: Array, kind: str, t0: float) -> ReferenceResult:
    """``min ||beta||_1`` or ``min ||beta||_2^2`` s.t. ``X beta = y`` through cvxpy."""
    import cvxpy as cp

    name = conic_solver()
    b = cp.Variable(X.shape[1])
    cons = [X @ b == y]
    prob = cp.Problem(cp.Minimize(cp.norm1(b) if kind == "l1" else cp.sum_squares(b)), cons)
    status = _solve_conic(prob, name)
    beta = np.full(X.shape[1], np.nan)
    if b.value is not None:
        beta = np.asarray(b.value, dtype=np.float64)
    nu = None
    if cons[0].dual_value is not None:  # cvxpy's multiplier is -nu (l1), -2 nu (squared l2)
        nu = -np.asarray(cons[0].dual_value, dtype=np.float64) / (1.0 if kind == "l1" else 2.0)
    stats = getattr(prob, "solver_stats", None)
    return ReferenceResult(
        beta=beta,
        nu=nu,
        objective=_norm(beta, kind),
        converged=status == cp.OPTIMAL,
        residual=_residual(X, beta, y),
        iterations=int(getattr(stats, "num_iters", 0) or 0),
        wall_time_s=time.perf_counter() - t0,
        method=f"cvxpy:{name}",
        status=status,
    )


def min_l1(
    X: ArrayLike, y: ArrayLike, *, solver: Literal["linprog", "cvxpy"] = "linprog"
) -> ReferenceResult:
    """``argmin ||beta||_1 s.t. X beta = y``, the alpha -> 0 limit (Section 4).

    ``solver="linprog"``: the LP ``min 1^T (u + v) s.t. X (u - v) = y,
    u, v >= 0`` by HiGHS (a basic solution: at most N nonzeros, exact to
    rounding).  ``nu`` is the LP dual (``|X^T nu| <= 1``, ``y^T nu =
    ||beta||_1``).  ``solver="cvxpy"``: the same problem through
    :func:`conic_solver`.
    """
    X, y = _check_Xy(X, y)
    _check_solver(solver, ("linprog", "cvxpy"))
    t0 = time.perf_counter()
    if solver == "cvxpy":
        return _min_norm_cvxpy(X, y, "l1", t0)
    d = X.shape[1]
    res = scipy.optimize.linprog(
        c=np.ones(2 * d),
        A_eq=np.hstack([X, -X]),
        b_eq=y,
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    ok = res.status == 0 and res.x is not None
    beta = res.x[:d] - res.x[d:] if ok else np.full(d, np.nan)
    return ReferenceResult(
        beta=beta,
        nu=np.asarray(res.eqlin.marginals, dtype=np.float64) if ok else None,
        objective=_norm(beta, "l1"),
        converged=bool(ok),
        residual=_residual(X, beta, y),
        iterations=int(res.nit),
        wall_time_s=time.perf_counter() - t0,
        method="linprog:highs",
        status=str(res.message),
    )


def min_l2(
    X: ArrayLike, y: ArrayLike, *, solver: Literal["lstsq", "cvxpy"] = "lstsq"
) -> ReferenceResult:
    """``argmin ||beta||_2 s.t. X beta = y``, i.e. ``X^+ y``: the alpha -> inf limit.

    ``solver="lstsq"`` is exact (a direct SVD-based solve, no iteration or
    tolerance): ``beta = X^+ y`` and ``nu = (X^T)^+ beta``, so that
    ``beta = X^T nu``.  ``solver="cvxpy"`` solves ``min ||beta||_2^2``
    through :func:`conic_solver`.  If ``y`` is not in the range of ``X``,
    ``beta`` is the least-squares solution and ``converged`` is False.
    """
    X, y = _check_Xy(X, y)
    _check_solver(solver, ("lstsq", "cvxpy"))
    t0 = time.perf_counter()
    if solver == "cvxpy":
        return _min_norm_cvxpy(X, y, "l2", t0)
    beta = np.asarray(np.linalg.lstsq(X, y, rcond=None)[0], dtype=np.float64)
    nu = np.asarray(np.linalg.lstsq(X.T, beta, rcond=None)[0], dtype=np.float64)
    resid = _residual(X, beta, y)
    feasible = resid <= 1e-9 * max(1.0, float(np.linalg.norm(y)))
    return ReferenceResult(
        beta=beta,
        nu=nu,
        objective=_norm(beta, "l2"),
        converged=bool(feasible),
        residual=resid,
        iterations=0,
        wall_time_s=time.perf_counter() - t0,
        method="lstsq",
        status="exact" if feasible else "infeasible: y is not in the range of X",
    )


# --------------------------------------------------------------------------- #
# the regulariser Q^D_{alpha,w0} (eqs. 5, 60)
# --------------------------------------------------------------------------- #
def _log_c(alpha: float, D: float, w0: Array) -> Array:
    """``log c_i = D log(alpha w0_i)``; ``c = (alpha w0)^D`` is the scale of beta."""
    return D * (np.log(alpha) + np.log(w0))


def regulariser(
    beta: ArrayLike, alpha: float, D: float = 2, w0: ArrayLike | None = None
) -> float:
    """``Q^D_{alpha,w0}(beta) = alpha^D sum_i w0_i^2 q_D(beta_i / (alpha w0_i)^D)``.

    Eq. (5) for D = 2, Theorem 3 (eq. 60) for ``w0 = 1``; the general-shape
    D >= 3 form is derived in the module docstring.

    >>> b = np.array([0.5, -2.0])
    >>> bool(np.isclose(regulariser(b, 0.1, 3), theory.Q_D(b, 0.1, 3)))
    True
    """
    beta = np.asarray(beta, dtype=np.float64)
    alpha = _check_alpha(alpha)
    D = _check_D(D)
    w0 = _check_w0(w0, beta.shape[-1])
    if D == 2:
        return float(theory.Q(beta, alpha, w0))
    c = np.exp(_log_c(alpha, D, w0))
    return float(np.exp(D * np.log(alpha)) * np.sum(w0**2 * theory.q_D(beta / c, D)))


def regulariser_grad(
    beta: ArrayLike, alpha: float, D: float = 2, w0: ArrayLike | None = None
) -> Array:
    """``grad Q^D_{alpha,w0}(beta)_i = w0_i^(2-D) h_D^{-1}(beta_i / (alpha w0_i)^D)`` (eq. 19)."""
    beta = np.asarray(beta, dtype=np.float64)
    alpha = _check_alpha(alpha)
    D = _check_D(D)
    w0 = _check_w0(w0, beta.shape[-1])
    c = np.exp(_log_c(alpha, D, w0))
    return w0 ** (2.0 - D) * theory.h_inv(beta / c, D)


# --------------------------------------------------------------------------- #
# the dual, coordinate by coordinate, in the hyperbolic variable sigma
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Scales:
    """Per-coordinate constants of the dual (see the module docstring)."""

    D: float
    log_c: Array  # log (alpha w0)^D
    log_a: Array  # log alpha^D w0^2
    g: Array  # w0^(D-2)
    p: float  # D/(D-2); 1 for D = 2 (unused)
    ae: float  # 2/(D-2); unused for D = 2

    @classmethod
    def make(cls, alpha: float, D: float, w0: Array) -> _Scales:
        log_c = _log_c(alpha, D, w0)
        log_a = D * np.log(alpha) + 2.0 * np.log(w0)
        if D == 2:
            return cls(D, log_c, log_a, np.ones_like(w0), 1.0, 0.0)
        return cls(D, log_c, log_a, w0 ** (D - 2.0), D / (D - 2.0), 2.0 / (D - 2.0))


class _Coords:
    """beta, Hessian weights and conjugate values at ``sigma`` (None if overflow).

    D = 2: ``beta = 2 c sinh(s)``, ``w = 2 c cosh(s)``, ``a H = 2 c (cosh s - 1)``.
    D > 2: ``beta = 2 c cosh(s)^p sinh(p s)``, ``w = 2 p c g cosh(s)^(p+1)
    cosh((p+1) s)`` (``= c g h_D'(tanh s)``), ``a H = a (D-2) (cosh(s)^ae
    cosh(ae s) - 1)``.
    """

    __slots__ = ("beta", "w", "aH")

    def __init__(self, beta: Array, w: Array, aH: Array) -> None:
        self.beta, self.w, self.aH = beta, w, aH

    @staticmethod
    def at(sigma: Array, sc: _Scales) -> _Coords | None:
        s = np.abs(sigma)
        sgn = np.sign(sigma)
        if sc.D == 2:
            L = sc.log_c + s
            if L.max(initial=-np.inf) > _LOG_BIG:
                return None
            e = np.exp(L)
            e2 = np.exp(-2.0 * s)
            beta = sgn * e * (-np.expm1(-2.0 * s))
            w = e * (1.0 + e2)
            small = s < 1.0
            ss = np.where(small, sigma, 0.0)
            c = np.exp(sc.log_c)
            aH = np.where(small, 4.0 * c * np.sinh(0.5 * ss) ** 2, w - 2.0 * c)
            return _Coords(beta, w, aH)
        p, ae = sc.p, sc.ae
        lc = theory.logcosh(s)
        Lw = sc.log_c + np.log(sc.g) + np.log(2.0 * p) + (p + 1.0) * lc + theory.logcosh((p + 1.0) * s)
        if Lw.max(initial=-np.inf) > _LOG_BIG:
            return None
        beta = sgn * np.exp(sc.log_c + p * lc + p * s) * (-np.expm1(-2.0 * p * s))
        w = np.exp(Lw)
        E = ae * lc + theory.logcosh(ae * s)
        small = E < 1.0
        Es = np.where(small, E, 0.0)
        El = np.where(small, 0.0, E)
        scale = sc.D - 2.0
        aH = np.where(
            small,
            scale * np.exp(sc.log_a) * np.expm1(Es),
            np.exp(sc.log_a + np.log(scale) + El) - scale * np.exp(sc.log_a),
        )
        return _Coords(beta, w, aH)


@dataclass(frozen=True)
class _Point:
    """A dual iterate: ``nu``, ``u = X^T nu`` and, for D > 2, boundary slacks.

    ``near`` marks coordinates with ``1 - |z_i| < 1/2`` (``z = g u``); for them
    ``slack = 1 - |z_i|`` and ``sgn = sign(z_i)`` are carried across
    iterations instead of being recomputed from ``u``.
    """

    nu: Array
    u: Array
    near: NDArray[np.bool_]
    sgn: Array
    slack: Array
    sigma: Array
    co: _Coords
    F: float  # dual objective, minimised: -y^T nu + sum a H(g u)
    r: Array  # gradient of F: X beta(nu) - y


class _Dual:
    """The dual of ``min Q s.t. X beta = y`` as a function of ``nu``."""

    def __init__(self, X: Array, y: Array, sc: _Scales) -> None:
        self.X, self.y, self.sc = X, y, sc

    def point(self, nu: Array, u: Array, near: NDArray[np.bool_], sgn: Array, slack: Array) -> _Point | None:
        sc = self.sc
        if sc.D == 2:
            sigma = u
        else:
            z = sc.g * u
            inner = np.where(near, 0.0, z)
            if np.any(np.abs(inner) >= 1.0) or np.any(slack[near] <= 0.0):
                return None
            sl = np.where(near, slack, 1.0)
            sigma = np.where(near, sgn * 0.5 * (np.log(2.0 - sl) - np.log(sl)), np.arctanh(inner))
        co = _Coords.at(sigma, sc)
        if co is None:
            return None
        F = float(-self.y @ nu + co.aH.sum())
        return _Point(nu, u, near, sgn, slack, sigma, co, F, self.X @ co.beta - self.y)

    def start(self) -> _Point:
        N, d = self.X.shape
        zero = np.zeros(d)
        pt = self.point(np.zeros(N), zero, np.zeros(d, dtype=bool), zero, np.ones(d))
        assert pt is not None
        return pt

    def advance(self, prev: _Point, dnu: Array, du: Array, t: float) -> _Point | None:
        """The point ``prev.nu + t dnu``; slacks of near coordinates updated by ``t dz``."""
        nu = prev.nu + t * dnu
        u = self.X.T @ nu
        if self.sc.D == 2:
            return self.point(nu, u, prev.near, prev.sgn, prev.slack)
        z = self.sc.g * u
        moved = prev.slack - prev.sgn * (t * self.sc.g * du)
        keep = prev.near & (moved < 0.5)
        fresh = 1.0 - np.abs(z)
        near = keep | (fresh < 0.5)
        slack = np.where(keep, moved, fresh)
        sgn = np.where(keep, prev.sgn, np.sign(z))
        return self.point(nu, u, near, sgn, slack)

    def max_step(self, pt: _Point, du: Array) -> float:
        """Largest ``t`` keeping ``|g X^T (nu + t dnu)| < 1`` (D > 2), or, for
        D = 2, keeping ``log c + |u|`` at most halfway to overflow."""
        if self.sc.D == 2:
            room = _LOG_BIG - float(np.max(self.sc.log_c + np.abs(pt.u)))
            step = float(np.max(np.abs(du)))
            return np.inf if step == 0 else max(0.5 * room, 1.0) / step
        dz = self.sc.g * du
        z = self.sc.g * pt.u
        toward_pos = dz > 0
        # distance to the boundary the coordinate moves towards
        dist_int = np.where(toward_pos, 1.0 - z, 1.0 + z)
        same = np.sign(dz) == pt.sgn
        dist_near = np.where(same, pt.slack, 2.0 - pt.slack)
        dist = np.where(pt.near, dist_near, dist_int)
        moving = np.abs(dz) > 0
        if not moving.any():
            return np.inf
        return float(np.min(dist[moving] / np.abs(dz[moving])))


def _newton_direction(X: Array, pt: _Point) -> tuple[Array, float]:
    """Newton step ``dnu = -(X diag(w) X^T)^{-1} r`` and decrement ``r^T H^{-1} r``.

    A ridge of ``N eps max diag(H)`` keeps the solve well-posed when fewer
    than N coordinates carry curvature (then the dual is flat, up to
    rounding, in the remaining directions and ``r`` has no component there).
    """
    H = (X * pt.co.w) @ X.T
    N = H.shape[0]
    mu = N * _EPS * float(np.max(np.diag(H)))
    H[np.diag_indices(N)] += mu
    try:
        dnu = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, lower=True), pt.r)
    except np.linalg.LinAlgError:
        lam, V = np.linalg.eigh(H)
        lam = np.maximum(lam, mu if mu > 0 else _EPS)
        dnu = -V @ ((V.T @ pt.r) / lam)
    return dnu, float(max(-pt.r @ dnu, 0.0))


def _solve_newton(
    X: Array, y: Array, sc: _Scales, *, tol: float, max_iter: int
) -> tuple[_Point, bool, int, str]:
    """Damped Newton on the dual; returns (point, converged, iterations, status).

    Converged: ``||r|| <= tol max(1, ||y||)`` and ``lambda^2 / 2 <= tol |F|``
    (``lambda^2 = r^T H^{-1} r``, the predicted dual gain).  If neither the
    residual nor ``lambda^2`` has halved in 10 iterations, the iteration is at
    its rounding floor (the residual floor is ``~ eps cond(X)^2 ||y||``: the
    dual acts through ``X diag(w) X^T``) and we stop with status "stalled".
    """
    dual = _Dual(X, y, sc)
    pt = dual.start()
    rtol = tol * max(1.0, float(np.linalg.norm(y)))
    status = f"max_iter ({max_iter}) reached"
    converged = False
    best_res = best_lam2 = np.inf
    last_progress = 0
    it = 0
    for it in range(max_iter + 1):
        dnu, lam2 = _newton_direction(X, pt)
        res = float(np.linalg.norm(pt.r))
        if res <= rtol and 0.5 * lam2 <= tol * abs(pt.F):
            converged, status = True, "converged"
            break
        if res < 0.5 * best_res or lam2 < 0.5 * best_lam2:
            last_progress = it
        best_res, best_lam2 = min(best_res, res), min(best_lam2, lam2)
        if it - last_progress >= 10:
            status = f"stalled: residual {res:.1e} at its rounding floor (target {rtol:.1e})"
            break
        if it == max_iter:
            break
        du = X.T @ dnu
        t = min(1.0, 0.99 * dual.max_step(pt, du))
        noise = 64.0 * _EPS * (abs(float(y @ pt.nu)) + float(np.abs(pt.co.aH).sum()))
        for _ in range(80):
            trial = dual.advance(pt, dnu, du, t)
            if trial is not None and (
                trial.F <= pt.F - 1e-4 * t * lam2
                or (trial.F <= pt.F + noise and np.linalg.norm(trial.r) <= res)
            ):
                pt = trial
                break
            t *= 0.5
        else:
            status = f"line search failed at residual {res:.1e} (target {rtol:.1e})"
            break
    return pt, converged, it, status


def _refine(
    X: Array, y: Array, pt: _Point, rtol: float, steps: int = 3
) -> tuple[Array, Array, bool]:
    """Iterative refinement of a Newton solution stalled near the optimum.

    Only called when the residual is already ``<= 1e-6 max(1, ||y||)``.

    ``beta(nu)`` is evaluated through ``X^T nu``, whose rounding limits
    ``||X beta - y||`` to ``~ eps cond(X)^2 ||y||``.  The linearised Newton
    correction ``beta -= W X^T dnu``, ``dnu = (X W X^T)^{-1} r``, is small,
    so its rounding is too: each step gains ~``1/(eps cond^2)`` digits and
    keeps ``grad Q(beta) - X^T nu`` second order in the correction.
    Returns (beta, nu, whether the residual reached ``rtol``).
    """
    beta, nu, w = pt.co.beta.copy(), pt.nu.copy(), pt.co.w
    res = float(np.linalg.norm(X @ beta - y))
    for _ in range(steps):
        H = (X * w) @ X.T
        H[np.diag_indices_from(H)] += H.shape[0] * _EPS * float(np.max(np.diag(H)))
        try:
            dnu = scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, lower=True), X @ beta - y)
        except np.linalg.LinAlgError:
            break
        cand = beta - w * (X.T @ dnu)
        cres = float(np.linalg.norm(X @ cand - y))
        if not cres < res:
            break
        beta, nu, res = cand, nu - dnu, cres
        if res <= rtol:
            return beta, nu, True
    return beta, nu, res <= rtol


def min_Q(
    X: ArrayLike,
    y: ArrayLike,
    alpha: float,
    D: float = 2,
    w0: ArrayLike | None = None,
    *,
    solver: Literal["newton", "cvxpy"] = "newton",
    tol: float = 1e-12,
    max_iter: int = 200,
    formulation: Literal["auto", "dual", "primal"] = "auto",
) -> ReferenceResult:
    """``argmin Q^D_{alpha,w0}(beta) s.t. X beta = y`` (Theorems 1 and 3, eq. 5).

    ``solver="newton"`` (default): damped Newton on the N-dimensional dual
    (module docstring).  Converged means ``||X beta - y|| <= tol max(1,
    ||y||)`` and half the Newton decrement (the predicted dual gain)
    ``<= tol |dual objective|``.  If rounding stalls the iteration first
    (residual floor ``~ eps cond(X)^2 ||y||``), up to three steps of iterative
    refinement in beta follow and the status says so.  ``tol`` and
    ``max_iter`` apply to this solver only.

    ``solver="cvxpy"``: a conic program through :func:`conic_solver` at tight
    tolerances.  ``formulation="dual"``: the dual above (exponential cone for
    D = 2, power cone for D > 2), beta recovered from ``nu``;
    ``"primal"``: ``beta = v+ - v-`` with an entropy (D = 2) or power
    (D > 2) objective; ``"auto"`` picks the more accurate one (Accuracy, in
    the module docstring): for D = 2 the dual below alpha = 0.1, for D > 2
    the primal below alpha = 1, the other one above.  Converged means status "optimal"
    and ``||X beta - y|| <= 1e-6 max(1, ||y||)``: the solver's word, not a
    verified accuracy (see Accuracy).

    If ``y`` is not in the range of ``X`` nothing is solved: ``beta`` is NaN
    and the status starts with "infeasible".

    >>> X = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]); y = np.array([1.0, 1.0])
    >>> res = min_Q(X, y, alpha=1e-3, D=3)  # rich regime: close to min-l1 = e_2
    >>> res.converged, np.round(res.beta, 6).tolist()
    (True, [0.0, 1.0, 0.0])
    """
    X, y = _check_Xy(X, y)
    alpha = _check_alpha(alpha)
    D = _check_D(D)
    w0 = _check_w0(w0, X.shape[1])
    _check_solver(solver, ("newton", "cvxpy"))
    if formulation not in ("auto", "dual", "primal"):
        raise ValueError(
            f"unknown formulation {formulation!r}; expected 'auto', 'dual' or 'primal'"
        )
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    t0 = time.perf_counter()
    sc = _Scales.make(alpha, D, w0)
    ls = np.asarray(np.linalg.lstsq(X, y, rcond=None)[0], dtype=np.float64)
    ls_res = _residual(X, ls, y)
    if ls_res > 1e-9 * max(1.0, float(np.linalg.norm(y))):
        return ReferenceResult(
            beta=np.full(X.shape[1], np.nan),
            nu=None,
            objective=np.nan,
            converged=False,
            residual=ls_res,
            iterations=0,
            wall_time_s=time.perf_counter() - t0,
            method=solver,
            status=f"infeasible: y is not in the range of X (least-squares residual {ls_res:.1e})",
        )
    if solver == "cvxpy":
        if formulation == "auto":
            formulation = _auto_formulation(alpha, D)
        return _min_Q_cvxpy(X, y, alpha, D, w0, sc, t0, formulation)
    pt, converged, it, status = _solve_newton(X, y, sc, tol=tol, max_iter=int(max_iter))
    beta, nu = pt.co.beta, pt.nu
    rtol = tol * max(1.0, float(np.linalg.norm(y)))
    near = float(np.linalg.norm(X @ beta - y)) <= 1e-6 * max(1.0, float(np.linalg.norm(y)))
    if not converged and near and status.startswith(("stalled", "line search")):
        beta, nu, refined = _refine(X, y, pt, rtol)
        if refined:
            converged, status = True, f"converged after primal refinement ({status})"
    return ReferenceResult(
        beta=beta,
        nu=nu,
        objective=regulariser(beta, alpha, D, w0),
        converged=converged,
        residual=_residual(X, beta, y),
        iterations=it,
        wall_time_s=time.perf_counter() - t0,
        method="newton",
        status=status,
    )


def _min_Q_cvxpy(
    X: Array,
    y: Array,
    alpha: float,
    D: float,
    w0: Array,
    sc: _Scales,
    t0: float,
    formulation: str,
) -> ReferenceResult:
    """The conic route: the dual in ``nu`` or the primal split ``beta = v+ - v-``.

    Dual: ``max y^T nu - sum phi_i*(X^T nu)`` with ``cp.exp`` (D = 2) or
    ``cp.power(1 -+ g u, -2/(D-2))`` (D > 2); ``beta`` is recovered as
    ``c h_D(g X^T nu)``.  Primal: ``phi* = psi(u) + psi(-u)`` with
    ``psi(u) = a e^u`` (D = 2) or ``(D-2)/2 a (1 - g u)^(-2/(D-2))``, so
    ``Q(beta) = min_{v+ - v- = beta} psi*(v+) + psi*(v-) + const`` with
    ``psi*(v) = v log(v/a) - v`` (entropy, D = 2) or ``v/g - K v^(2/D)``,
    ``K = (D/2) (a g)^((D-2)/D) / g`` (D > 2); ``X (v+ - v-) = y`` is a
    constraint and ``nu`` its multiplier.
    """
    import cvxpy as cp

    name = conic_solver()
    N, d = X.shape
    a = np.exp(sc.log_a)
    nu_val: Array | None = None
    beta = np.full(d, np.nan)
    if formulation == "dual":
        nu = cp.Variable(N)
        u = X.T @ nu
        if D == 2:  # a (e^u + e^-u) - 2a, constant dropped
            conj = cp.sum(cp.exp(u + sc.log_a) + cp.exp(-u + sc.log_a))
        else:
            z = cp.multiply(sc.g, u)
            pw = cp.power(1 - z, -sc.ae) + cp.power(1 + z, -sc.ae)
            conj = cp.sum(cp.multiply(0.5 * (D - 2.0) * a, pw))
        prob = cp.Problem(cp.Maximize(y @ nu - conj))
        status = _solve_conic(prob, name)
        if nu.value is not None:
            nu_val = np.asarray(nu.value, dtype=np.float64)
            uu = X.T @ nu_val
            inside = D == 2 or bool(np.all(np.abs(sc.g * uu) < 1.0))
            co = _Coords.at(uu if D == 2 else np.arctanh(sc.g * uu), sc) if inside else None
            if co is not None:
                beta = co.beta
    else:
        vp = cp.Variable(d, nonneg=True)
        vm = cp.Variable(d, nonneg=True)
        if D == 2:
            obj = cp.sum(cp.rel_entr(vp, a) + cp.rel_entr(vm, a) - vp - vm)
        else:
            K = 0.5 * D * (a * sc.g) ** ((D - 2.0) / D) / sc.g
            pw = cp.power(vp, 2.0 / D) + cp.power(vm, 2.0 / D)
            obj = cp.sum(cp.multiply(1.0 / sc.g, vp + vm) - cp.multiply(K, pw))
        cons = [X @ (vp - vm) == y]
        prob = cp.Problem(cp.Minimize(obj), cons)
        status = _solve_conic(prob, name)
        if vp.value is not None and vm.value is not None:
            beta = np.asarray(vp.value - vm.value, dtype=np.float64)
        if cons[0].dual_value is not None:
            nu_val = -np.asarray(cons[0].dual_value, dtype=np.float64)
    finite = bool(np.all(np.isfinite(beta)))
    resid = _residual(X, beta, y) if finite else np.nan
    feasible = finite and resid <= 1e-6 * max(1.0, float(np.linalg.norm(y)))
    stats = getattr(prob, "solver_stats", None)
    return ReferenceResult(
        beta=beta,
        nu=nu_val,
        objective=regulariser(beta, alpha, D, w0) if finite else np.nan,
        converged=bool(status == cp.OPTIMAL and feasible),
        residual=resid,
        iterations=int(getattr(stats, "num_iters", 0) or 0),
        wall_time_s=time.perf_counter() - t0,
        method=f"cvxpy:{name}:{formulation}",
        status=status if feasible or not finite else f"{status}; recovered beta infeasible",
    )


def _auto_formulation(alpha: float, D: float) -> Literal["dual", "primal"]:
    """The more accurate conic formulation (Accuracy table): D = 2 dual below
    alpha = 0.1, D > 2 primal below alpha = 1; the other one above."""
    if D == 2:
        return "dual" if alpha < 0.1 else "primal"
    return "primal" if alpha < 1.0 else "dual"
