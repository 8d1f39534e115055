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
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate

from kr import theory
from kr.validation import check_alpha as _check_alpha
from kr.validation import check_depth as _check_depth
from kr.validation import check_max_steps as _check_max_steps
from kr.validation import check_method as _check_method
from kr.validation import check_rtol as _check_rtol
from kr.validation import check_t_eval as _check_t_eval
from kr.validation import check_t_max as _check_t_max
from kr.validation import check_tol as _check_tol
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
_SOLVERS: dict[str, type[integrate.OdeSolver]] = {"Radau": integrate.Radau, "BDF": integrate.BDF}


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


class _Anchor(NamedTuple):
    """Where, and why, :meth:`_DiagonalFlow.rebase` starts the next chart."""

    reason: str  # a key of FlowResult.rebases
    s: Array  # the new anchor, as a state of the current chart (current frame)
    t: float  # its time on the current chart's clock
    h_first: float | None  # the new solver's first step (None: scipy chooses)
    h_cap: float  # the new chart's max_step


class _DiagonalFlow:
    """The integrator behind :func:`diagonal_flow`: one instance per call.

    Integrates ``dS/dt = X beta(S) - y`` (the gradient flow, see the module
    docstring) chart by chart.  The state of chart k is ``s`` in ``R^N`` with
    ``S = S_k + Q s``, ``Q`` orthogonal: the eigenvectors of the Jacobian at the
    anchor, fastest first.  In that frame the Jacobian ``Q^T X diag(k) X^T Q`` is
    computed to full relative accuracy in its slow block even when ``k`` spans
    more than ``1/eps`` (small alpha, D > 2), so the solver's Newton matrices stay
    non-singular however long the steps.  Each chart (:class:`_Chart`) has its own
    clock, started at global time ``t_off``; ``t_loc`` is the time on it.

    Attributes: ``chart`` (beta near the anchor), ``Q``, ``QX = Q^T X``,
    ``Qy = Q^T y``, ``col_l1`` (largest column l1 norm of ``QX``) for the frame;
    ``s_cur``, ``t_loc``, ``beta``, ``dbeta``, ``rnorm = ||X beta - y||`` at the
    current point, ``r_chart`` (``rnorm`` at the chart's anchor), ``S_total``
    (``S`` at the anchor), ``t_off``; counters ``steps``, ``reasons`` (new charts by
    reason) and ``ei`` (next ``t_eval`` index); ``ok`` / ``message`` once stopped.
    """

    Q: Array
    QX: Array
    Qy: Array
    col_l1: float
    beta: Array
    dbeta: Array
    rnorm: float
    r_chart: float

    def __init__(
        self,
        X: Array,
        y: Array,
        a: Array,
        D: float,
        tol: float,
        t_max: float,
        rtol: float,
        max_steps: int,
        te: Array | None,
        solver_cls: type[integrate.OdeSolver],
    ) -> None:
        N, d = X.shape
        self.X, self.y, self.N, self.d = X, y, N, d
        self.tol, self.t_max, self.rtol, self.max_steps = tol, t_max, rtol, max_steps
        self.solver_cls = solver_cls
        self.te = te
        self.t_need = float(te[-1]) if te is not None and te.size else 0.0
        self.beta_eval: Array | None = None if te is None else np.full((te.size, d), np.nan)

        self.chart = _Chart(D, a)
        self.ynorm = max(float(np.linalg.norm(y)), tol, np.finfo(float).tiny)
        self.x_sq = float(np.linalg.norm(X, 2)) ** 2
        self.row_abs = np.abs(X)
        self.y_abs = float(np.max(np.abs(y)))

        self.S_total = np.zeros(N)
        self.t_off = 0.0  # global time at the current chart's anchor (its clock starts at 0)
        self.steps = 0
        self.reasons: dict[str, int] = {}  # why new charts were started
        self.message = ""
        self.ok = True
        self.h_cap = np.inf  # max_step of the current chart
        self.open_chart()
        self.ei = 0  # next t_eval index
        if te is not None and self.beta_eval is not None:
            while self.ei < te.size and te[self.ei] <= 0.0:
                self.beta_eval[self.ei] = self.beta
                self.ei += 1

    # ------------------------------------------------------------------ #
    # charts and frames
    # ------------------------------------------------------------------ #
    def set_frame(self, dbeta: Array) -> None:
        """Frame of the chart: the eigenvectors ``Q`` of ``J = X diag(dbeta) X^T``."""
        _, Q = np.linalg.eigh((self.X * dbeta) @ self.X.T)  # ascending: most negative = fastest first
        self.Q = Q
        self.QX = Q.T @ self.X
        self.Qy = Q.T @ self.y
        self.col_l1 = float(np.abs(self.QX).sum(axis=0).max())

    def open_chart(self) -> None:
        """Start the current chart at its anchor: clock 0, state 0, frame from d beta / dv there."""
        self.t_loc = 0.0
        self.s_cur = np.zeros(self.N)
        _, dbeta = self.chart.beta(np.zeros(self.d))
        self.set_frame(dbeta)
        self.move_to(0.0, self.s_cur)
        self.r_chart = self.rnorm

    def rebase(self, anchor: _Anchor) -> None:
        """Re-anchor at ``anchor``: new chart, new frame, new clock."""
        self.reasons[anchor.reason] = self.reasons.get(anchor.reason, 0) + 1
        self.h_cap = anchor.h_cap
        self.S_total = self.S_total + self.Q @ anchor.s
        self.chart.rebase(anchor.s @ self.QX)
        self.t_off += anchor.t
        self.open_chart()

    # ------------------------------------------------------------------ #
    # the ODE in the current chart and frame
    # ------------------------------------------------------------------ #
    def residual(self, s: Array) -> tuple[Array, Array, Array]:
        """(Q^T r, beta, d beta / dv) at state s of the current chart."""
        beta, dbeta = self.chart.beta(s @ self.QX)
        return self.QX @ beta - self.Qy, beta, dbeta

    def rnorm_at(self, s: Array) -> float:
        """``||X beta - y||`` at state s of the current chart (in the original frame)."""
        return float(np.linalg.norm(self.X @ self.chart.beta(s @ self.QX)[0] - self.y))

    def move_to(self, t_loc: float, s: Array) -> None:
        """Make (``t_loc``, ``s``) the current point: ``beta``, ``dbeta``, ``rnorm`` there."""
        self.t_loc, self.s_cur = t_loc, s
        _, self.beta, self.dbeta = self.residual(s)
        self.rnorm = float(np.linalg.norm(self.X @ self.beta - self.y))  # in the original frame

    def fun(self, _t: float, s: Array) -> Array:
        """Right-hand side ``ds/dt = Q^T (X beta - y)``."""
        return self.residual(s)[0]

    def jac(self, _t: float, s: Array) -> Array:
        """Its Jacobian ``Q^T X diag(d beta / dv) X^T Q``."""
        QX = self.QX
        _, dbeta = self.chart.beta(s @ QX)
        return (QX * dbeta) @ QX.T

    def abs_tol(self, s: Array, beta: Array, dbeta: Array, h: float, rn: float) -> Array:
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
        QX = self.QX
        lam = (QX * QX) @ np.abs(dbeta)
        with np.errstate(divide="ignore"):
            by_r = min(self.rtol * self.ynorm, _R_REL * max(rn, self.tol)) / lam
        by_u = self.rtol * self.chart.gap(s @ QX) / (self.chart.c * self.col_l1)
        F = float(np.max(self.row_abs @ np.abs(beta))) + self.y_abs
        noise = _EPS * F / (lam + (1.0 / h if h > 0 else np.inf))
        return np.maximum(np.minimum(by_r, by_u), np.maximum(_NOISE_FACTOR * noise / _NEWTON_TOL, 1e-300))

    def first_step(self) -> float | None:
        """A tenth of the fastest time scale at the start, 1 / lambda_max(J)."""
        lam0 = float(np.max(np.abs(self.dbeta))) * self.x_sq
        return 0.1 / lam0 if lam0 > 0 else None

    def new_solver(self, h: float | None) -> integrate.OdeSolver:
        """A solver on the current chart's clock, from 0, with first step ``h`` if usable."""
        span = min(self.t_max - self.t_off, _T_CAP)  # finite, so that h * 10 cannot overflow
        first = None if h is None else float(min(h, span))
        if first is not None and not first > 0:
            first = None
        h0 = 0.0 if first is None else first
        atol = self.abs_tol(np.zeros(self.N), self.beta, self.dbeta, h0, self.rnorm)
        solver = self.solver_cls(
            self.fun, 0.0, np.zeros(self.N), t_bound=span, rtol=self.rtol, atol=atol,
            jac=self.jac, first_step=first,
        )
        solver.newton_tol = max(solver.newton_tol, _NEWTON_TOL)
        solver.max_step = self.h_cap
        return solver

    # ------------------------------------------------------------------ #
    # stopping and events
    # ------------------------------------------------------------------ #
    def done(self) -> bool:
        """``||r|| <= tol`` at a time past ``max(t_eval)``."""
        return self.rnorm <= self.tol and self.t_off + self.t_loc >= self.t_need

    def may_step(self, solver: integrate.OdeSolver) -> bool:
        """False (with ``ok``, ``message`` set) when ``max_steps`` or the solver's end was reached."""
        if self.steps >= self.max_steps:
            self.ok = False
            self.message = f"max_steps = {self.max_steps} reached"
            return False
        if solver.status != "running":
            self.ok = False
            self.message = (
                f"t_max = {self.t_max:g} reached"
                if self.t_off + self.t_loc >= self.t_max
                else f"stalled: ||X beta - y|| = {self.rnorm:.3g} stays above tol = {self.tol:g} "
                "(float64 rounding floor?)"
            )
            return False
        return True

    def record_t_eval(self, solver: integrate.OdeSolver, t_old: float) -> None:
        """beta at the requested times within the step just taken (from ``t_old``), by dense output."""
        te, beta_eval = self.te, self.beta_eval
        if te is None or beta_eval is None:
            return
        if self.ei < te.size and te[self.ei] <= self.t_off + self.t_loc:
            sol = solver.dense_output()
            while self.ei < te.size and te[self.ei] <= self.t_off + self.t_loc:
                tl = min(max(te[self.ei] - self.t_off, t_old), self.t_loc)
                beta_eval[self.ei] = self.chart.beta(sol(tl) @ self.QX)[0]
                self.ei += 1

    def locate_tol(self, solver: integrate.OdeSolver, t_old: float) -> None:
        """Move back to the first time of the last step with ``||r|| <= tol`` (the terminal event).

        ||r|| decreases along the flow: bisect the step's dense output for the first
        time with ||r|| <= tol (not before ``max(t_eval)``), so that t is that time.
        """
        t_first = max(t_old, self.t_need - self.t_off)
        if not t_first < self.t_loc:
            return
        sol = solver.dense_output()
        lo_t, hi_t = t_first, self.t_loc
        if self.rnorm_at(sol(lo_t)) <= self.tol:
            hi_t = lo_t
        for _ in range(60):
            mid = 0.5 * (lo_t + hi_t)
            if not lo_t < mid < hi_t:
                break
            if self.rnorm_at(sol(mid)) <= self.tol:
                hi_t = mid
            else:
                lo_t = mid
        if hi_t < self.t_loc:  # else keep the step's own end point
            self.move_to(hi_t, sol(hi_t))

    def chart_event(self, shrink: float, h: float) -> str | None:
        """Why the chart should end after an accepted step of size h (None: it need not)."""
        if shrink < _REBASE_RATIO:
            return "growth"
        if h < _CLOCK_RATIO * self.t_loc:
            return "clock"
        if self.rnorm < _RESIDUAL_RATIO * self.r_chart:
            return "residual"
        return None

    # ------------------------------------------------------------------ #
    # integration
    # ------------------------------------------------------------------ #
    def step(self, solver: integrate.OdeSolver) -> _Anchor | None:
        """One solver step; the anchor of the next chart if one is needed, else None.

        Clears ``ok`` when the solver failed on a fresh clock.
        """
        t_old, s_old = solver.t, solver.y.copy()
        # scipy's min_step is 10 * (nextafter(t) - t), subnormal at t = 0: benign underflow
        with np.errstate(under="ignore"):
            msg = solver.step()
        if solver.status == "failed":
            if self.t_loc == 0.0:  # already a fresh clock: give up
                self.ok = False
                self.message = f"solver failed: {msg}"
                return None
            # the step size fell below the clock's resolution: restart the clock here
            return _Anchor("clock", self.s_cur, self.t_loc, None, np.inf)
        self.steps += 1
        h = solver.t - t_old
        finite = bool(np.all(np.isfinite(solver.y)))
        shrink = self.chart.shrink(solver.y @ self.QX) if finite else 0.0
        if shrink < _EXT_RATIO:
            # the step ended where the chart is continued, not exact: redo it from
            # its start, in a chart anchored there, with a smaller first step.
            # Radau's error estimate barely sees the continuation, so cap
            # the steps of the new chart below the one that overshot.
            return _Anchor("redo", s_old, t_old, 0.1 * h, 0.3 * h)
        self.move_to(solver.t, solver.y)
        self.record_t_eval(solver, t_old)
        if self.done():
            self.locate_tol(solver, t_old)
            return None
        if solver.status != "running":
            return None
        reason = self.chart_event(shrink, h)
        if reason is None:
            solver.atol = self.abs_tol(self.s_cur, self.beta, self.dbeta, h, self.rnorm)
            return None
        return _Anchor(reason, self.s_cur, self.t_loc, h, np.inf)

    def run(self, start: float) -> FlowResult:
        """Integrate chart after chart until :meth:`done` or a cap; ``start``: the caller's clock."""
        solver = None if self.done() else self.new_solver(self.first_step())
        while solver is not None and not self.done():
            if not self.may_step(solver):
                break
            anchor = self.step(solver)
            if not self.ok:
                break
            if anchor is not None:
                self.rebase(anchor)
                solver = self.new_solver(anchor.h_first)
        return self.result(start)

    def result(self, start: float) -> FlowResult:
        """The :class:`FlowResult` at the current point (``wall_time_s`` since ``start``)."""
        S_total = self.S_total + self.Q @ self.s_cur
        rnorm, tol = self.rnorm, self.tol
        converged = bool(self.ok and rnorm <= tol)
        message = self.message
        if converged:
            message = f"converged: ||X beta - y|| = {rnorm:.3g} <= tol = {tol:g}"
        elif self.ok:
            message = message or f"stopped with ||X beta - y|| = {rnorm:.3g} > tol = {tol:g}"
        return FlowResult(
            beta=self.beta,
            loss=rnorm**2,
            residual_norm=rnorm,
            converged=converged,
            t=self.t_off + self.t_loc,
            steps=self.steps,
            rebases=self.reasons,
            wall_time_s=time.perf_counter() - start,
            message=message,
            S=S_total,
            t_eval=self.te,
            beta_eval=self.beta_eval,
        )


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
    in each ``w`` below ``rtol |w|`` (see ``_DiagonalFlow.abs_tol`` in the source for the
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
    a = alpha * _check_w0(w0, X.shape[1])
    tol = _check_tol(tol)
    rtol = _check_rtol(rtol)
    t_max = _check_t_max(t_max)
    max_steps = _check_max_steps(max_steps)
    solver_cls = _SOLVERS[_check_method(method, tuple(_SOLVERS))]
    te = _check_t_eval(t_eval, t_max)
    return _DiagonalFlow(X, y, a, D, tol, t_max, rtol, max_steps, te, solver_cls).run(start)


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
    max_steps = _check_max_steps(max_steps)
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
        named = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(named, torch.dtype) or not named.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
        dt = named
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
