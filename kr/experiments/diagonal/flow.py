"""Training the diagonal networks of Sections 4-5: exact gradient flow and plain GD.

Model (eqs. 3 and 10): ``beta = w+^D - w-^D``, ``f(w, x) = <beta, x>``, loss
``L(w) = sum_n (<beta, x_n> - y_n)^2 = ||X beta - y||^2`` (no 1/2, no 1/N),
initialised at ``w+ = w- = alpha * w0`` (``w0`` defaults to ones).

Derivation (corrected constants).  With ``r = X beta - y`` and
``S(t) = int_0^t r``, the gradient is

    dL/dw+ = 2 D (X^T r) * w+^(D-1),      dL/dw- = -2 D (X^T r) * w-^(D-1).

The paper's eqs. (15), (50), (52), (55) carry ``2`` resp. ``D`` instead of
``4`` resp. ``2D``: they are the gradient of ``L/2``.  Integrating the
gradient flow ``dw/dt = -grad L`` coordinatewise:

* ``D = 2``:  ``w+- = alpha w0 exp(-+4 X^T S)``, hence
  ``beta = 2 alpha^2 w0^2 sinh(-8 X^T S)`` (eq. 17 has ``-4``);
* ``D > 2``:  ``w+-^(2-D) = (alpha w0)^(2-D) +- 2D(D-2) X^T S`` (eqs. 51, 53
  have ``D(D-2)``), hence ``beta = (alpha w0)^D h_D(z)`` with
  ``z = -2D(D-2) (alpha w0)^(D-2) X^T S`` in ``(-1, 1)`` and ``h_D`` of eq. (59)
  (see :func:`kr.theory.h`; ``h_2(z) = 2 sinh z`` covers D = 2 with
  ``z = -8 X^T S``).

The factor only rescales time (the flow of ``L`` at time ``t`` is the
paper's flow of ``L/2`` at time ``2t``), so the limits, and Theorems 1 and
3, are unchanged.  For non-uniform ``w0`` and ``D > 2`` the same argument gives
``Q(beta) = sum_i (alpha w0_i)^2 q_D(beta_i / (alpha w0_i)^D)`` (up to a constant
factor); the paper only states ``w0 = 1`` there.

Gradient flow therefore *is* the N-dimensional ODE
``dS/dt = X beta(X^T S) - y``, the gradient ascent of a concave dual function
(so its limit does not depend on the path); :func:`diagonal_flow` integrates
it with a stiff implicit solver (Radau with the analytic N x N Jacobian
``X diag(d beta / d v) X^T``), at ``O(N d)`` per function evaluation.  Three
numerical devices make this work for alpha in [1e-8, 1e4] and D in 2..5:

* *Charts.*  For ``D > 2`` and small ``alpha`` the solution sits at
  ``1 - |z| ~ (alpha^D / |beta|)^((D-2)/D)`` (``1e-24`` for ``alpha = 1e-8``,
  ``D = 5``), which no float64 ``S`` can resolve.  The integrator stores, per
  coordinate, ``u+- = w+-^(2-D)`` (``log w+-^2`` for D = 2) at an anchor, each
  to full relative precision, integrates only ``S`` minus the anchor's ``S``,
  and re-anchors once some ``w^(D-2)`` grew 1000-fold.  Each chart restarts
  the solver's clock, so steps stay resolvable although flow times reach 1e22.
* *Eigen-frame.*  Each chart integrates in the eigenbasis of the Jacobian at
  its anchor, where ``Q^T X diag(k) X^T Q`` is computed to relative accuracy
  even when the rates ``k`` span more than ``1/eps`` (the solver's Newton
  matrices would otherwise be singular), with a per-eigendirection ``atol``.
* *Honest tolerances.*  ``atol`` never asks for less than the float64 noise of
  ``r`` over a step: in the final algebraic tails (``||r||`` decaying roughly like ``t^(-p/(p+1))``,
  ``p = D/(D-2)``, which gradient flow really has for small alpha) that noise,
  not ``rtol``, bounds the path's accuracy.

:func:`diagonal_gd` is plain gradient descent on the ``2d`` parameters (the
paper's procedure), in torch, batched over many ``alpha`` at once.

Examples
--------
>>> import numpy as np
>>> from kr.experiments.diagonal.flow import diagonal_flow
>>> X = np.array([[1.0, 2.0, -0.5], [0.0, 1.0, 1.0]])
>>> y = np.array([1.0, -0.5])
>>> res = diagonal_flow(X, y, alpha=0.1, D=3, tol=1e-12)
>>> res.converged, bool(np.linalg.norm(X @ res.beta - y) <= 1e-12)
(True, True)
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate

from kr import theory
from kr.validation import check_alpha as _check_alpha
from kr.validation import check_depth as _check_depth
from kr.validation import check_w0 as _check_w0
from kr.validation import check_Xy as _check_data

if TYPE_CHECKING:  # torch is imported lazily: kr.experiments.diagonal.flow must stay numpy-only at import
    import torch

__all__ = [
    "FlowResult",
    "GDResult",
    "diagonal_beta",
    "diagonal_flow",
    "diagonal_gd",
    "gd_learning_rate",
    "loss_gradient",
]

Array = NDArray[np.float64]
_EPS = float(np.finfo(np.float64).eps)

_REBASE_RATIO = 1e-3  # re-anchor once some w^(D-2) (w^2 for D = 2) grew by 1/this
_EXT_RATIO = 1e-6  # beyond growth 1/this, w^D is continued by a quadratic (trial points only)
_CLOCK_RATIO = 1e-7  # restart the chart's clock when the step is below this fraction of it
_RESIDUAL_RATIO = 1e-3  # new chart once ||r|| fell by this factor (keeps rtol |s| << tol / lam)
_R_REL = 1e-3  # local error in r <= this * max(||r||, tol): accurate times to reach tol
_T_CAP = 1e300  # a chart's clock never runs past this (keeps the solver's arithmetic finite)
_NEWTON_TOL = 0.01  # Radau's Newton tolerance (relative to atol + rtol |y|), at least this
_NOISE_FACTOR = 1.0  # atol >= this * h * eps * |terms of r| / _NEWTON_TOL


# --------------------------------------------------------------------------- #
# input checks
# --------------------------------------------------------------------------- #
def _check_tol(tol: Any) -> float:
    t = float(tol)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return t


# --------------------------------------------------------------------------- #
# closed forms
# --------------------------------------------------------------------------- #
def loss_gradient(
    X: ArrayLike, y: ArrayLike, w_plus: ArrayLike, w_minus: ArrayLike, D: float = 2
) -> tuple[Array, Array]:
    """Gradient of ``L = ||X (w+^D - w-^D) - y||^2`` w.r.t. ``(w+, w-)``.

    ``dL/dw+ = 2 D (X^T r) w+^(D-1)`` and ``dL/dw- = -2 D (X^T r) w-^(D-1)``
    (eqs. 15, 50, 52 with the factor 2 of the unhalved loss restored).

    >>> g_plus, g_minus = loss_gradient([[1.0, 2.0]], [1.0], [1.0, 1.0], [1.0, 1.0])
    >>> g_plus.tolist(), g_minus.tolist()  # r = -1, X^T r = (-1, -2)
    ([-4.0, -8.0], [4.0, 8.0])
    """
    X, y = _check_data(X, y)
    D = _check_depth(D)
    wp = np.asarray(w_plus, dtype=np.float64)
    wm = np.asarray(w_minus, dtype=np.float64)
    r = X @ (wp**D - wm**D) - y
    g = 2.0 * D * (X.T @ r)
    return g * wp ** (D - 1), -g * wm ** (D - 1)


def diagonal_beta(
    X: ArrayLike, S: ArrayLike, alpha: float, D: float = 2, w0: ArrayLike | None = None
) -> Array:
    """beta on the gradient-flow path as a function of ``S = int_0^t r``, eqs. (17), (57).

    ``beta = (alpha w0)^D h_D(z)`` with ``z = -8 X^T S`` for ``D = 2`` and
    ``z = -2D(D-2) (alpha w0)^(D-2) X^T S`` for ``D > 2`` (the corrected
    constants, see the module docstring).  ``S`` may carry leading batch axes.
    Raises ``ValueError`` when ``z`` leaves ``(-1, 1)`` (``D > 2``), which the
    flow never does.

    >>> X = np.eye(2)
    >>> diagonal_beta(X, [0.0, 0.0], alpha=1.0).tolist()
    [0.0, 0.0]
    >>> bool(np.isclose(diagonal_beta(X, [-0.1, 0.0], 1.0)[0], 2 * np.sinh(0.8)))
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (N, d), got shape {X.shape}")
    S = np.asarray(S, dtype=np.float64)
    if S.shape[-1:] != (X.shape[0],):
        raise ValueError(f"S must have last axis of length N = {X.shape[0]}, got shape {S.shape}")
    alpha = _check_alpha(alpha)
    D = _check_depth(D)
    a = alpha * _check_w0(w0, X.shape[1])
    v = S @ X
    if D == 2:
        z = -8.0 * v
        # 2 a^2 sinh z without overflowing sinh when a is small
        az = np.abs(z)
        return np.sign(z) * np.exp(2.0 * np.log(a) + az) * -np.expm1(-2.0 * np.minimum(az, 40.0))
    z = -2.0 * D * (D - 2.0) * a ** (D - 2.0) * v
    return a**D * theory.h(z, D)


class _Chart:
    """beta(v) and d beta / dv near an anchor, with ``v = X^T dS`` (dS: S since the anchor).

    Per coordinate the chart stores, at its anchor, ``delta = (c/2)``-scaled
    ``X^T S`` (``beta = -(alpha w0)^D h_D(delta/...)``, used where ``w+ ~ w-``)
    and one size per sign: ``e+- = log w+-^2`` for ``D = 2``
    (``e+- = e+-0 -+ 8 v``) and ``u+- = w+-^(2-D)`` for ``D > 2``
    (``u+- = u+-0 +- c v``, ``c = 2D(D-2)``), each to full relative precision.

    ``D = 2``: ``beta = e^(e+) - e^(e-)``, or ``-2 (alpha w0)^2 sinh(delta)``
    with ``delta = delta0 + 8 v`` where ``|delta| <= 1``.
    ``D > 2``: ``beta = u+^(-p) - u-^(-p)`` (``p = D/(D-2)``), or
    ``u-^(-p) expm1(-p log1p(2 delta / u-))`` with ``delta = delta0 + c v =
    (u+ - u-)/2`` where ``|delta| <= (alpha w0)^(2-D)/2``.

    ``shrink(v)`` is the smallest ``(w/w_anchor)^-(D-2)`` (``^-2`` for D = 2)
    over coordinates and signs; the flow re-anchors below ``_REBASE_RATIO``.
    Below ``_EXT_RATIO`` (a region the exact flow never enters within one
    chart) ``w^D`` is continued by a quadratic in ``v``, which keeps the solver's
    trial points finite without changing the solution.
    """

    def __init__(self, D: float, a: Array) -> None:
        self.D = D
        self.d = a.shape[0]
        self.delta0 = np.zeros(self.d)
        if D == 2:
            self.c = 8.0
            self.e0 = 2.0 * np.log(a)
            self.ep0 = self.e0.copy()
            self.em0 = self.e0.copy()
        else:
            self.c = 2.0 * D * (D - 2.0)
            self.p = D / (D - 2.0)
            self.A = np.exp((2.0 - D) * np.log(a))
            self.up0 = self.A.copy()
            self.um0 = self.A.copy()
        self._set_ext()

    def _set_ext(self) -> None:
        if self.D == 2:
            L = -np.log(_EXT_RATIO)
            self.hi_p = self.ep0 + L
            self.hi_m = self.em0 + L
        else:
            self.lo_p = _EXT_RATIO * self.up0
            self.lo_m = _EXT_RATIO * self.um0

    # ------------------------------------------------------------------ #
    # Continuations are second-order Taylor polynomials: finite everywhere, C^2, and
    # as curved as the true function at the junction, so that the solver's error
    # estimate still rejects steps that overshoot into them (a linear continuation
    # looks benign to it and invites such steps).
    @staticmethod
    def _exp(e: Array, hi: Array) -> tuple[Array, Array]:
        """(exp e, its derivative), continued quadratically above ``hi``."""
        ec = np.minimum(e, hi)
        x = e - ec
        F = np.exp(ec)
        return F * (1.0 + x * (1.0 + 0.5 * x)), F * (1.0 + x)

    def _pow(self, u: Array, lo: Array) -> tuple[Array, Array]:
        """(u^-p, d/du u^-p), continued quadratically below ``lo``."""
        p = self.p
        us = np.maximum(u, lo)
        x = (us - u) / us  # relative depth below lo, 0 inside
        g = np.exp(-p * np.log(us))
        return g * (1.0 + p * x * (1.0 + 0.5 * (p + 1.0) * x)), -p * g / us * (1.0 + (p + 1.0) * x)

    def beta(self, v: Array) -> tuple[Array, Array]:
        """(beta, d beta / d v) at ``v = X^T dS``, elementwise over the d coordinates."""
        with np.errstate(under="ignore"):  # w-^D -> 0 is benign
            return self._beta(v)

    def _beta(self, v: Array) -> tuple[Array, Array]:
        c = self.c
        cv = c * v
        delta = self.delta0 + cv
        if self.D == 2:
            Fp, dFp = self._exp(self.ep0 - cv, self.hi_p)
            Fm, dFm = self._exp(self.em0 + cv, self.hi_m)
            close = np.abs(delta) <= 1.0
            dc = np.where(close, delta, 0.0)
            beta = np.where(close, -2.0 * np.exp(self.e0) * np.sinh(dc), Fp - Fm)
            return beta, -c * (dFp + dFm)
        up = self.up0 + cv
        um = self.um0 - cv
        gp, dgp = self._pow(up, self.lo_p)
        gm, dgm = self._pow(um, self.lo_m)
        # where u+ ~ u- the difference cancels; use the ratio form, exact for tiny delta
        close = np.abs(delta) <= 0.5 * self.A
        ratio = np.where(close, 2.0 * delta / np.where(close, um, 1.0), 0.0)
        beta = np.where(close, gm * np.expm1(-self.p * np.log1p(ratio)), gp - gm)
        return beta, c * (dgp + dgm)

    def shrink(self, v: Array) -> float:
        """min over coordinates and signs of (w / w_anchor)^-(D-2) (^-2 for D = 2)."""
        cv = self.c * v
        if self.D == 2:
            return float(np.exp(-min(float(np.max(np.abs(cv))), 700.0)))
        return float(min(np.min((self.up0 + cv) / self.up0), np.min((self.um0 - cv) / self.um0)))

    def gap(self, v: Array) -> float:
        """Smallest current ``u = w^(2-D)`` (the absolute accuracy scale of ``c v``); 1 for D = 2."""
        if self.D == 2:
            return 1.0
        cv = self.c * v
        return float(min(np.min(self.up0 + cv), np.min(self.um0 - cv)))

    def rebase(self, v: Array) -> None:
        """Move the anchor to ``v`` (only where ``shrink(v) >= _EXT_RATIO``)."""
        cv = self.c * v
        self.delta0 = self.delta0 + cv
        if self.D == 2:
            self.ep0 = self.ep0 - cv
            self.em0 = self.em0 + cv
        else:
            self.up0 = self.up0 + cv
            self.um0 = self.um0 - cv
        self._set_ext()


# --------------------------------------------------------------------------- #
# exact gradient flow
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, eq=False)
class FlowResult:
    """Outcome of :func:`diagonal_flow`.

    ``converged`` is ``residual_norm = ||X beta - y||_2 <= tol`` at the final
    flow time ``t``: the first time with ``||X beta - y|| <= tol`` (located by
    bisection within the last step; after ``max(t_eval)``), or where the run
    stopped.  ``loss = residual_norm^2`` (= L).  ``steps`` counts accepted
    solver steps; ``rebases`` counts new charts by reason (``growth``: some w
    grew 1000-fold, ``residual``: ||r|| fell 1000-fold, ``clock``: steps too
    small for the chart's clock, ``redo``: a step left the chart).  ``S`` is
    ``int_0^t r`` (the dual variable; informational -- for D > 2 and small
    alpha beta cannot be recovered from it in float64, hence the charts).
    ``beta_eval[k]`` is beta at ``t_eval[k]`` when ``t_eval`` was requested.
    """

    beta: Array
    loss: float
    residual_norm: float
    converged: bool
    t: float
    steps: int
    rebases: dict[str, int]
    wall_time_s: float
    message: str
    S: Array
    t_eval: Array | None = None
    beta_eval: Array | None = None


def diagonal_flow(
    X: ArrayLike,
    y: ArrayLike,
    alpha: float,
    D: float = 2,
    w0: ArrayLike | None = None,
    tol: float = 1e-10,
    t_max: float = np.inf,
    rtol: float = 1e-8,
    max_steps: int = 100_000,
    t_eval: ArrayLike | None = None,
    method: str = "Radau",
) -> FlowResult:
    """Exact gradient flow of ``L = ||X beta - y||^2`` from ``w+- = alpha w0``.

    Integrates ``dS/dt = X beta(S) - y`` (eqs. 16-17, 51-57 with corrected
    constants, see the module docstring) with scipy's ``Radau`` (or ``BDF``)
    stepper, analytic Jacobian, relative tolerance ``rtol`` and absolute
    tolerances that keep the local error in ``X beta`` below ``rtol ||y||`` and
    in each ``w`` below ``rtol |w|`` (see ``abs_tol`` in the source for the
    one exception, float64 noise in very long slow phases).  Stops at the first
    time with ``||X beta - y||_2 <= tol`` (after ``max(t_eval)`` if given), at
    ``t_max`` or after ``max_steps`` steps; ``converged`` says which.  There is
    no discretisation error beyond the solver tolerance, and the limit itself
    does not depend on the path (it maximises a concave dual function).
    ``beta_eval`` rows for times not reached stay NaN.

    >>> res = diagonal_flow([[1.0, 1.0]], [2.0], alpha=1.0)
    >>> bool(res.converged), np.round(res.beta, 8).tolist()  # symmetric: beta = (1, 1)
    (True, [1.0, 1.0])
    """
    start = time.perf_counter()
    X, y = _check_data(X, y)
    alpha = _check_alpha(alpha)
    D = _check_depth(D)
    N, d = X.shape
    a = alpha * _check_w0(w0, d)
    tol = _check_tol(tol)
    rtol = float(rtol)
    if not (1e-14 <= rtol < 1):
        raise ValueError(f"rtol must lie in [1e-14, 1), got {rtol!r}")
    t_max = float(t_max)
    if not t_max > 0 or np.isnan(t_max):
        raise ValueError(f"t_max must be positive, got {t_max!r}")
    max_steps = int(max_steps)
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    solver_cls = {"Radau": integrate.Radau, "BDF": integrate.BDF}.get(method)
    if solver_cls is None:
        raise ValueError(f"method must be 'Radau' or 'BDF', got {method!r}")
    te: Array | None = None
    t_need = 0.0
    if t_eval is not None:
        te = np.asarray(t_eval, dtype=np.float64).ravel()
        if te.size and (not np.all(np.isfinite(te)) or np.any(te < 0) or np.any(np.diff(te) < 0)):
            raise ValueError("t_eval must be finite, non-negative and sorted")
        if te.size and te[-1] > t_max:
            raise ValueError(f"max(t_eval) = {te[-1]} exceeds t_max = {t_max}")
        t_need = float(te[-1]) if te.size else 0.0
    beta_eval = None if te is None else np.full((te.size, d), np.nan)

    chart = _Chart(D, a)
    ynorm = max(float(np.linalg.norm(y)), tol, np.finfo(float).tiny)
    x_sq = float(np.linalg.norm(X, 2)) ** 2
    row_abs = np.abs(X)
    y_abs = float(np.max(np.abs(y)))

    # The state of chart k is s in R^N with S = S_k + Q s, Q orthogonal: the
    # eigenvectors of the Jacobian at the anchor, fastest first.  In that frame the
    # Jacobian Q^T X diag(k) X^T Q is computed to full relative accuracy in its slow
    # block even when k spans more than 1/eps (small alpha, D > 2), so the solver's
    # Newton matrices stay non-singular however long the steps.
    frame: dict[str, Any] = {}

    def set_frame(dbeta: Array) -> None:
        _, Q = np.linalg.eigh((X * dbeta) @ X.T)  # ascending: most negative = fastest first
        QX = Q.T @ X
        frame.update(Q=Q, QX=QX, Qy=Q.T @ y, col_l1=float(np.abs(QX).sum(axis=0).max()))

    def residual(s: Array) -> tuple[Array, Array, Array]:
        """(Q^T r, beta, d beta / dv) at state s of the current chart."""
        QX = frame["QX"]
        beta, dbeta = chart.beta(s @ QX)
        return QX @ beta - frame["Qy"], beta, dbeta

    def _rnorm(s: Array) -> float:
        return float(np.linalg.norm(X @ chart.beta(s @ frame["QX"])[0] - y))

    def fun(_t: float, s: Array) -> Array:
        return residual(s)[0]

    def jac(_t: float, s: Array) -> Array:
        QX = frame["QX"]
        _, dbeta = chart.beta(s @ QX)
        return (QX * dbeta) @ QX.T

    def abs_tol(s: Array, beta: Array, dbeta: Array, h: float, rn: float) -> Array:
        """Per-component absolute tolerance in the current frame.

        Component i is (nearly) an eigendirection of J with rate lam_i = -J_ii.  An
        error e_i moves r by lam_i e_i and the chart's u (log w^2 for D = 2) by at most
        c col_l1 e_i: keep both below rtol (relative to ||y|| and to u), and the
        error in r below ``_R_REL max(|r|, tol)`` (so that r converges and the time
        at which it reaches tol is accurate).  But do not ask for less than the rounding
        noise of a step, eps |terms of r| / (lam_i + 1/h), amplified by the Newton
        tolerance: no iteration can resolve it.  That floor binds only in the slow
        final phases (steps up to 1e15 for small alpha and D > 2), where |r| is so
        small that float64 evaluates r itself to worse than rtol.
        """
        QX = frame["QX"]
        lam = (QX * QX) @ np.abs(dbeta)
        with np.errstate(divide="ignore"):
            by_r = min(rtol * ynorm, _R_REL * max(rn, tol)) / lam
        by_u = rtol * chart.gap(s @ QX) / (chart.c * frame["col_l1"])
        F = float(np.max(row_abs @ np.abs(beta))) + y_abs
        noise = _EPS * F / (lam + (1.0 / h if h > 0 else np.inf))
        return np.maximum(np.minimum(by_r, by_u), np.maximum(_NOISE_FACTOR * noise / _NEWTON_TOL, 1e-300))

    S_total = np.zeros(N)
    s_cur = np.zeros(N)
    t_off = 0.0  # global time at the current chart's anchor (its clock starts at 0)
    t_loc = 0.0
    steps = 0
    reasons: dict[str, int] = {}  # why new charts were started
    beta, dbeta = chart.beta(np.zeros(d))
    set_frame(dbeta)
    _, beta, dbeta = residual(s_cur)
    rnorm = r_chart = float(np.linalg.norm(X @ beta - y))
    message = ""
    ok = True
    # first step: a tenth of the fastest time scale at the start, 1 / lambda_max(J)
    lam0 = float(np.max(np.abs(dbeta))) * x_sq
    h_first: float | None = 0.1 / lam0 if lam0 > 0 else None
    ei = 0  # next t_eval index
    if te is not None:
        while ei < te.size and te[ei] <= 0.0:
            beta_eval[ei] = beta
            ei += 1

    h_cap = np.inf  # max_step of the current chart

    def new_solver(h: float | None) -> integrate.OdeSolver:
        span = min(t_max - t_off, _T_CAP)  # finite, so that h * 10 cannot overflow
        first = None if h is None else float(min(h, span))
        if first is not None and not first > 0:
            first = None
        atol = abs_tol(np.zeros(N), beta, dbeta, 0.0 if first is None else first, rnorm)
        solver = solver_cls(
            fun, 0.0, np.zeros(N), t_bound=span, rtol=rtol, atol=atol, jac=jac, first_step=first
        )
        solver.newton_tol = max(solver.newton_tol, _NEWTON_TOL)
        solver.max_step = h_cap
        return solver

    def done() -> bool:
        return rnorm <= tol and t_off + t_loc >= t_need

    solver = None if done() else new_solver(h_first)
    while solver is not None and not done():
        if steps >= max_steps:
            ok = False
            message = f"max_steps = {max_steps} reached"
            break
        if solver.status != "running":
            ok = False
            message = (
                f"t_max = {t_max:g} reached"
                if t_off + t_loc >= t_max
                else f"stalled: ||X beta - y|| = {rnorm:.3g} stays above tol = {tol:g} "
                "(float64 rounding floor?)"
            )
            break
        t_old, s_old = solver.t, solver.y.copy()
        # scipy's min_step is 10 * (nextafter(t) - t), subnormal at t = 0: benign underflow
        with np.errstate(under="ignore"):
            msg = solver.step()
        if solver.status == "failed":
            if t_loc == 0.0:  # already a fresh clock: give up
                ok = False
                message = f"solver failed: {msg}"
                break
            # the step size fell below the clock's resolution: restart the clock here
            reason, s_anchor, t_anchor, h_first = "clock", s_cur, t_loc, None
            h_cap = np.inf
        else:
            steps += 1
            h = solver.t - t_old
            finite = bool(np.all(np.isfinite(solver.y)))
            shrink = chart.shrink(solver.y @ frame["QX"]) if finite else 0.0
            if shrink < _EXT_RATIO:
                # the step ended where the chart is continued, not exact: redo it from
                # its start, in a chart anchored there, with a smaller first step.
                # Radau's error estimate barely sees the continuation, so cap
                # the steps of the new chart below the one that overshot.
                reason, s_anchor, t_anchor, h_first = "redo", s_old, t_old, 0.1 * h
                h_cap = 0.3 * h
            else:
                t_loc, s_cur = solver.t, solver.y
                _, beta, dbeta = residual(s_cur)
                rnorm = float(np.linalg.norm(X @ beta - y))  # in the original frame
                if te is not None and ei < te.size and te[ei] <= t_off + t_loc:
                    sol = solver.dense_output()
                    while ei < te.size and te[ei] <= t_off + t_loc:
                        tl = min(max(te[ei] - t_off, t_old), t_loc)
                        beta_eval[ei] = chart.beta(sol(tl) @ frame["QX"])[0]
                        ei += 1
                if done():
                    # ||r|| decreases along the flow: bisect the step's dense output for
                    # the first time with ||r|| <= tol, so that t is that time.
                    t_first = max(t_old, t_need - t_off)
                    if t_first < t_loc:
                        sol = solver.dense_output()
                        lo_t, hi_t = t_first, t_loc
                        if _rnorm(sol(lo_t)) <= tol:
                            hi_t = lo_t
                        for _ in range(60):
                            mid = 0.5 * (lo_t + hi_t)
                            if not lo_t < mid < hi_t:
                                break
                            if _rnorm(sol(mid)) <= tol:
                                hi_t = mid
                            else:
                                lo_t = mid
                        if hi_t < t_loc:  # else keep the step's own end point
                            t_loc, s_cur = hi_t, sol(hi_t)
                            _, beta, dbeta = residual(s_cur)
                            rnorm = float(np.linalg.norm(X @ beta - y))
                    continue
                if solver.status != "running":
                    continue
                if shrink < _REBASE_RATIO:
                    reason = "growth"
                elif h < _CLOCK_RATIO * t_loc:
                    reason = "clock"
                elif rnorm < _RESIDUAL_RATIO * r_chart:
                    reason = "residual"
                else:
                    solver.atol = abs_tol(s_cur, beta, dbeta, h, rnorm)
                    continue
                s_anchor, t_anchor, h_first = s_cur, t_loc, h
                h_cap = np.inf
        reasons[reason] = reasons.get(reason, 0) + 1
        # re-anchor: new chart, new frame, new clock
        S_total = S_total + frame["Q"] @ s_anchor
        chart.rebase(s_anchor @ frame["QX"])
        t_off += t_anchor
        t_loc = 0.0
        s_cur = np.zeros(N)
        beta, dbeta = chart.beta(np.zeros(d))
        set_frame(dbeta)
        _, beta, dbeta = residual(s_cur)
        rnorm = r_chart = float(np.linalg.norm(X @ beta - y))
        solver = new_solver(h_first)
    S_total = S_total + frame["Q"] @ s_cur
    converged = bool(ok and rnorm <= tol)
    if converged:
        message = f"converged: ||X beta - y|| = {rnorm:.3g} <= tol = {tol:g}"
    elif ok:
        message = message or f"stopped with ||X beta - y|| = {rnorm:.3g} > tol = {tol:g}"
    return FlowResult(
        beta=beta,
        loss=rnorm**2,
        residual_norm=rnorm,
        converged=converged,
        t=t_off + t_loc,
        steps=steps,
        rebases=reasons,
        wall_time_s=time.perf_counter() - start,
        message=message,
        S=S_total,
        t_eval=te,
        beta_eval=beta_eval,
    )


# --------------------------------------------------------------------------- #
# plain gradient descent (torch, batched over alpha)
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, eq=False)
class GDResult:
    """Outcome of :func:`diagonal_gd`, one row per alpha.

    ``converged[k]``: ``||X beta_k - y||_2 <= tol`` was reached (row ``k`` was
    then frozen); ``steps[k]``: updates applied to row ``k``; ``loss[k]`` and
    ``residual_norm[k]`` at the returned ``beta[k]``; ``lr[k]``: step size used.
    """

    alphas: Array
    beta: Array
    loss: Array
    residual_norm: Array
    converged: NDArray[np.bool_]
    steps: NDArray[np.int64]
    lr: Array
    wall_time_s: float
    device: str
    message: str


def gd_learning_rate(
    X: ArrayLike, y: ArrayLike, alphas: ArrayLike, D: float = 2, w0: ArrayLike | None = None
) -> Array:
    """Default GD step per alpha: ``1 / Lambda``, ``Lambda`` a bound on ||Hessian of L||.

    ``H = 2 J^T X^T X J + 2 sum_i (X^T r)_i d^2 beta_i / dw^2`` with
    ``J = [diag(D w+^(D-1)), -diag(D w-^(D-1))]``, so with ``|w| <= W``,
    ``||H|| <= 4 D^2 ||X||_2^2 W^(2D-2) + 2 D (D-1) ||X^T r||_inf W^(D-2)``
    (at init, D = 2, w0 = 1 the first term is the exact ``16 alpha^2 ||X||^2``).
    Along the path ``|w|^D <= (alpha w0)^D + |beta|``; we take
    ``W^D = (alpha max w0)^D + ||X^+ y||_1`` (the l1 norm of the min-l2
    interpolant bounds ``||beta_l1*||_1``) and ``||X^T r||_inf <= max_i ||X_i||
    ||y||`` (the loss decreases).  ``1/Lambda`` is half the ``2/Lambda``
    stability limit: a safety factor 2 for the heuristic ``W``.
    """
    X, y = _check_data(X, y)
    D = _check_depth(D)
    al = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    for v in al:
        _check_alpha(v)
    w0 = _check_w0(w0, X.shape[1])
    B = float(np.abs(np.linalg.pinv(X) @ y).sum())
    W = ((al * w0.max()) ** D + B) ** (1.0 / D)
    x_sq = float(np.linalg.norm(X, 2)) ** 2
    g = float(np.linalg.norm(X, axis=0).max() * np.linalg.norm(y))
    lam = 4.0 * D**2 * x_sq * W ** (2 * D - 2) + 2.0 * D * (D - 1) * g * W ** (D - 2)
    return 1.0 / lam


def diagonal_gd(
    X: ArrayLike,
    y: ArrayLike,
    alphas: ArrayLike,
    D: float = 2,
    lr: float | ArrayLike | None = None,
    max_steps: int = 1_000_000,
    tol: float = 1e-10,
    device: str = "cpu",
    w0: ArrayLike | None = None,
    dtype: torch.dtype | str | None = None,
    progress: bool = False,
    check_every: int = 100,
) -> GDResult:
    """Plain full-batch GD on ``L = ||X (w+^D - w-^D) - y||^2``, batched over ``alphas``.

    The parameters of all alphas form one ``[n_alpha, 2d]`` tensor on
    ``device`` (``w+`` then ``w-``, both ``alpha w0`` at init; deterministic).
    ``lr``: scalar, one per alpha, or ``None`` for :func:`gd_learning_rate`.
    Row ``k`` is frozen (its update masked) from the first step at which its
    ``||X beta - y||_2 <= tol`` (the same criterion as :func:`diagonal_flow`,
    i.e. ``loss <= tol^2``), or once it is NaN (diverged: reported as not
    converged); the loop stops when every row is frozen
    (checked every ``check_every`` steps, the only host syncs) or after
    ``max_steps`` updates.  ``dtype`` defaults to ``torch.float64``.
    """
    import torch  # lazily: numpy-only callers of kr.experiments.diagonal.flow never pay for torch

    start = time.perf_counter()
    X, y = _check_data(X, y)
    D = _check_depth(D)
    al = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if al.ndim != 1 or al.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence, got shape {al.shape}")
    for v in al:
        _check_alpha(v)
    N, d = X.shape
    w0a = _check_w0(w0, d)
    tol = _check_tol(tol)
    max_steps = int(max_steps)
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    check_every = max(1, int(check_every))
    if lr is None:
        lr_np = gd_learning_rate(X, y, al, D, w0a)
    else:
        lr_np = np.broadcast_to(np.asarray(lr, dtype=np.float64), al.shape).astype(np.float64)
        if not np.all(np.isfinite(lr_np)) or np.any(lr_np <= 0):
            raise ValueError("lr must be finite and positive")
    if dtype is None:
        dt = torch.float64
    elif isinstance(dtype, str):
        dt = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
    else:
        dt = dtype
    dev = torch.device(device)

    Xt = torch.as_tensor(X, dtype=dt, device=dev)
    yt = torch.as_tensor(y, dtype=dt, device=dev)
    W = torch.as_tensor(np.concatenate([np.outer(al, w0a)] * 2, axis=1), dtype=dt, device=dev)
    lr_t = torch.as_tensor(lr_np, dtype=dt, device=dev)[:, None]
    tol2 = tol * tol
    Dint = int(D) if float(D).is_integer() else None
    Dm1 = (Dint - 1) if Dint is not None else D - 1.0

    def beta_and_r(W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        wp, wm = W[:, :d], W[:, d:]
        wp1 = wp**Dm1
        wm1 = wm**Dm1
        beta = wp * wp1 - wm * wm1
        r = beta @ Xt.T - yt
        return beta, r, wp1, wm1

    active = torch.ones(al.size, dtype=torch.bool, device=dev)
    steps = torch.zeros(al.size, dtype=torch.int64, device=dev)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=max_steps, file=sys.stderr, desc=f"GD D={D:g}", unit="step")
    k = 0
    try:
        while k < max_steps:
            beta, r, wp1, wm1 = beta_and_r(W)
            active &= (r * r).sum(dim=1) > tol2
            g = (2.0 * D) * (r @ Xt)  # dL/dbeta times D
            grad = torch.cat([wp1 * g, -(wm1 * g)], dim=1)
            W = torch.where(active[:, None], W - lr_t * grad, W)
            steps += active
            k += 1
            if k % check_every == 0 or k == max_steps:
                if bar is not None:
                    bar.update(k - bar.n)
                if not bool(active.any()):
                    break
    finally:
        if bar is not None:
            bar.close()
    beta, r, _, _ = beta_and_r(W)
    res = torch.linalg.vector_norm(r, dim=1)
    beta_np = beta.detach().cpu().numpy().astype(np.float64)
    res_np = res.detach().cpu().numpy().astype(np.float64)
    converged = res_np <= tol
    nconv = int(converged.sum())
    nbad = int(np.sum(~np.isfinite(res_np)))
    note = f"; {nbad} diverged (lr too large?)" if nbad else ""
    return GDResult(
        alphas=al,
        beta=beta_np,
        loss=np.square(res_np, where=np.isfinite(res_np), out=np.full_like(res_np, np.inf)),
        residual_norm=res_np,
        converged=converged,
        steps=steps.cpu().numpy(),
        lr=np.asarray(lr_np, dtype=np.float64),
        wall_time_s=time.perf_counter() - start,
        device=str(dev),
        message=f"{nconv}/{al.size} converged (||X beta - y|| <= {tol:g}) after {k} steps{note}",
    )
