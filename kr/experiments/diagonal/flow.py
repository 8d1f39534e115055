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
(so its limit does not depend on the path: the minimiser of Q on ``X beta = y``,
Theorems 1 and 3, which :func:`kr.reference.min_Q` computes by Newton's method).
:func:`diagonal_flow` integrates that ODE itself, to its tolerances, with a
high-order stiff collocation method written for its structure (the class
``_DiagonalFlow`` in the source).  What makes it hard at small alpha is the
saddle-to-saddle dynamics of Sections 4-5: long plateaus (flow times up to 1e18 for
D = 5, alpha = 1e-6) in which some ``w_i`` slowly approach a finite-time blow-up
(``w^(2-D)`` decreases linearly), each followed by a fast transition in which
coordinate i joins the support and every active coordinate relaxes, with rates
spanning many decades; about one plateau and transition per coordinate of the
limit's support (~100 at d = 1000, N = 100).  The devices:

* *Radau IIA of order 13* (7 stages; Hairer & Wanner, *Solving ODEs II*, IV.5-8),
  an L-stable collocation method: the relaxations and transitions take 4-10 times
  fewer steps than with scipy's Radau (order 5, whose error estimate is O(h^4)),
  which the previous version of this module used.
* *An anchor per step.*  Each accepted step re-anchors the per-coordinate chart
  ``u+- = w+-^(2-D)`` (``log w+-^2`` for D = 2), stored to full relative precision,
  and restarts the local clock: ``w`` stays exact however small alpha
  (``1 - |z|`` reaches 1e-24), steps stay resolvable at flow times 1e18, and,
  the method being one-step, nothing of the solver is lost at a re-anchoring
  (step size, error history, Jacobian and the last collocation polynomial carry
  over; the previous version restarted scipy's solver on every new chart).
* *A diagonal Jacobian in an eigen-frame.*  The state lives in a rotated frame in
  which ``J = Q^T X diag(d beta/dv) X^T Q`` is nearly diagonal; its diagonal, sums of
  same-signed terms, is exact to relative precision even when the rates span more
  than 1/eps.  Newton's iteration uses that diagonal, refreshed every step in
  ``O(N d)``: every step size costs a division, not an LU factorisation; the frame
  is rotated onto the current eigenvectors (``O(N^2 d)``) only when Newton slows.
* *Steps that stop short of the blow-up.*  The linear prediction of ``X^T S``
  bounds each step to 80% of the time at which some ``w`` would blow up: the
  plateaus' approaches take a handful of steps and no Newton failures.
* *Frozen coordinates.*  A coordinate whose ``beta`` provably cannot move
  ``ds/dt`` by more than a thousandth of the tolerance within a step (most of them,
  most of the time, at small ``alpha^D``) is held at its anchor value in the stage
  evaluations, which then cost ``O(N x live)`` instead of ``O(N d)``; accepted
  steps are checked after the fact.
* *Honest tolerances.*  ``atol`` never asks for less than the float64 noise of
  ``r`` over a step: in the final algebraic tails (``||r||`` decaying roughly like
  ``t^(-p/(p+1))``, ``p = D/(D-2)``, which gradient flow really has for small
  alpha) that noise, not ``rtol``, bounds the path's accuracy.

None of this changes the ODE: the result is its solution to the solver's tolerances
(limits agreeing with Newton min-Q to ~5e-9 for the paper preset at ``tol = 1e-9``;
paths with brute-force gradient flow on ``w`` to ~1e-12 at ``rtol = 1e-10``), in
0.02 s (alpha >= 1) to ~13 s (D = 5, alpha = 1e-6) for d = 1000, N = 100 on one core,
8-11 times faster than before at small alpha (``benchmarks/diagonal.py --flows``).

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
import functools
import sys
import time
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

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

_EXT_RATIO = 1e-6  # a chart is exact while every w^(D-2) (w^2 for D = 2) grew by less than 1/this
_R_REL = 1e-3  # local error in r <= this * max(||r||, tol): accurate times to reach tol
_T_CAP = 1e300  # no step is longer (keeps the arithmetic finite)
_H_MIN = 1e-300  # ... or shorter: the solver failed
_NEWTON_TOL = 0.01  # Newton stops at this fraction of the error tolerance (atol + rtol |ds|)
_NOISE_FACTOR = 1.0  # atol >= this * h * eps * |terms of r| / _NEWTON_TOL
_METHODS: dict[str, int] = {"Radau": 7, "Radau13": 7, "Radau9": 5, "Radau5": 3}  # name -> stages (order 2s-1)
_NEWTON_MAXITER = {3: 7, 5: 10, 7: 12}
_MAX_FACTOR = 10.0  # a step is at most this much longer than the last one
_MIN_FACTOR = 0.2  # ... and at least this much of it (accepted steps)
_FRAME_RATE = 0.03  # rotate the frame after a step whose Newton needed > _FRAME_NIT iterations
_FRAME_NIT = 3  # ... and contracted slower than _FRAME_RATE
_GUESS_RATIO = 2.0  # Newton starts from the last collocation polynomial up to this many steps ahead
_RANGE_FRACTION = 0.8  # a step ends at most this far towards the predicted blow-up (edge of the chart)
_RATE_FLOOR = 1e-8  # |x_i^T r| below this * ||x_i|| ||r|| is rounding noise (an active coordinate)
_EXACT_RNORM = 100.0  # ||X beta - y|| in the original frame once below this * tol
_DEAD_TOL = 1e-3  # frozen coordinates move ds/dt by at most this * rtol * ||y|| in a step
_DEAD_MIN = 0.5  # freeze coordinates only where at least this fraction of them is frozen
_SOFT = 1e-3  # a coordinate with h |d beta/dv| ||x||^2 below this is not stiff over the step
_LIN_SAFETY = 2.0  # ... and moves at most this times as fast as it does at the step's start
_LIVE_SLACK = 8.0  # a new set of live coordinates is sized for steps this much longer


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

    :meth:`beta_d` evaluates these with branch-free formulas of the same precision.
    ``shrink(v)`` is the smallest ``(w/w_anchor)^-(D-2)`` (``^-2`` for D = 2)
    over coordinates and signs; the flow re-anchors after every step, and no
    accepted step ends below ``_EXT_RATIO``.  Below it (solver trial points only)
    ``w^D`` is continued by a quadratic in ``v``, which keeps them finite without
    changing the solution.
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
        # the exact range of the chart, also as bounds on v: e+- <= hi, u+- >= lo
        if self.D == 2:
            L = -np.log(_EXT_RATIO)
            self.hi_p = self.ep0 + L
            self.hi_m = self.em0 + L
            self.v_abs = L / self.c
        else:
            self.lo_p = _EXT_RATIO * self.up0
            self.lo_m = _EXT_RATIO * self.um0
            self.v_lo = -(1.0 - _EXT_RATIO) * self.up0 / self.c
            self.v_hi = (1.0 - _EXT_RATIO) * self.um0 / self.c

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

    def beta(self, v: Array) -> Array:
        """beta at ``v = X^T dS`` (any leading batch axes), without its derivative (see :meth:`beta_d`)."""
        return self.beta_d(v, deriv=False)[0]

    def beta_d(self, v: Array, deriv: bool = True) -> tuple[Array, Array]:
        """(beta, d beta / d v) at ``v = X^T dS`` (any leading batch axes), elementwise.

        Branch-free formulas, exact to rounding for every ``v`` in the chart's exact
        range: ``w-^2 expm1(-2 delta)`` with ``w-^2 = e^(e-)`` for D = 2, and for D > 2,
        with ``r = 2 delta / u- = u+/u- - 1`` computed from ``delta`` (no cancellation),
        ``-r (3 + r (3 + r)) / u+^3`` (D = 3, p = 3), ``-r (2 + r) / u+^2`` (D = 4, p = 2),
        ``-t (1 + y + .. + y^4) / u+^(5/3)`` with ``y = (u+/u-)^(1/3)``, ``t = y - 1 =
        r / (1 + y + y^2)`` (D = 5), ``u-^-p expm1(-p log1p(r))`` otherwise (the few
        coordinates with ``u+ < u- / 100`` get ``u+^-p - u-^-p``).  Outside the exact
        range (solver trial points only) ``w^D`` is continued (:meth:`_beta`).
        """
        with np.errstate(under="ignore"):
            if self.D == 2:
                if float(np.max(np.abs(v))) > self.v_abs:
                    return self._beta(v)
                cv = self.c * v
                wm = np.exp(self.em0 + cv)
                out: Array = wm * np.expm1(-2.0 * (self.delta0 + cv))
                if not deriv:
                    return out, out
                return out, -self.c * (out + 2.0 * wm)  # -c (w+^2 + w-^2)
            if np.any(v < self.v_lo) or np.any(v > self.v_hi):
                return self._beta(v)
            cv = self.c * v
            up = self.up0 + cv
            um = self.um0 - cv
            r = 2.0 * (self.delta0 + cv) / um
            p = self.p
            if p == 3.0:
                w = 1.0 / up
                w3 = w * w * w
                out = -r * (3.0 + r * (3.0 + r)) * w3
                if not deriv:
                    return out, out
                z = 1.0 / um
                z2 = z * z
                return out, (-3.0 * self.c) * (w3 * w + z2 * z2)
            if p == 2.0:
                w = 1.0 / up
                w2 = w * w
                out = -r * (2.0 + r) * w2
                if not deriv:
                    return out, out
                z = 1.0 / um
                return out, (-2.0 * self.c) * (w2 * w + z * z * z)
            if p == 5.0 / 3.0:
                gp = np.cbrt(up)
                y = gp / np.cbrt(um)
                y2 = y * y
                t = r / (1.0 + y + y2)
                gpp = 1.0 / (up * gp * gp)  # u+^(-5/3)
                out = -t * (1.0 + y * (1.0 + y * (1.0 + y * (1.0 + y)))) * gpp
                if not deriv:
                    return out, out
                gmm = gpp * (y2 * y2 * y)  # u-^(-5/3)
                return out, (-p * self.c) * (gpp / up + gmm / um)
            gm = np.exp(-p * np.log(um))
            with np.errstate(divide="ignore", invalid="ignore"):  # r <= -1 only where far (below)
                out = gm * np.expm1(-p * np.log1p(r))
            far = r < -0.99
            if np.any(far):
                out[far] = np.exp(-p * np.log(up[far])) - gm[far]
            if not deriv:
                return out, out
            return out, (-p * self.c) * (np.exp(-(p + 1.0) * np.log(up)) + gm / um)

    def _beta(self, v: Array) -> tuple[Array, Array]:
        """:meth:`beta_d` with ``w^D`` continued quadratically outside the exact range."""
        with np.errstate(under="ignore"):  # w-^D -> 0 is benign
            return self._beta_ext(v)

    def time_to_edge(self, v_rate: Array) -> float:
        """Time for ``v`` moving at ``v_rate`` to leave the chart's exact range (linear prediction).

        For D > 2 that is, up to ``_EXT_RATIO``, the time at which some ``w`` would blow
        up were ``X^T r`` frozen: a solver step beyond it crosses the singularity.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.D == 2:
                vmax = float(np.max(np.abs(v_rate)))
                return self.v_abs / vmax if vmax > 0 else np.inf
            t_lo = np.where(v_rate < 0, self.v_lo / v_rate, np.inf)
            t_hi = np.where(v_rate > 0, self.v_hi / v_rate, np.inf)
        return float(min(np.min(t_lo), np.min(t_hi)))

    def variation(self, reach: Array) -> Array:
        """Bound on the relative change of ``w+^D``, ``w-^D`` when ``|c v| <= reach`` (inf: none)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.D == 2:
                out: Array = np.expm1(reach)
                return out
            x = reach / np.minimum(self.up0, self.um0)  # relative change of u, at most
            inside = x < 1.0
            return np.where(inside, np.expm1(-self.p * np.log1p(-np.where(inside, x, 0.0))), np.inf)

    def magnitude(self) -> Array:
        """``w+^D + w-^D`` at the anchor, per coordinate (``beta`` is their difference)."""
        with np.errstate(under="ignore"):
            if self.D == 2:
                out: Array = np.exp(self.ep0) + np.exp(self.em0)
                return out
            return np.exp(-self.p * np.log(self.up0)) + np.exp(-self.p * np.log(self.um0))

    def gap0(self) -> float:
        """Smallest ``u = w^(2-D)`` at the anchor (the absolute accuracy scale of ``c v``); 1 for D = 2."""
        if self.D == 2:
            return 1.0
        return float(min(np.min(self.up0), np.min(self.um0)))

    def shorten(self, shrink: float) -> float:
        """Factor on a step that ended at ``shrink`` (< ``_EXT_RATIO``) to end near 1e-2 instead."""
        if self.D == 2:
            return float(np.log(100.0) / np.log(1.0 / max(shrink, 1e-300)))
        return 0.99 / (1.0 - shrink)

    def _beta_ext(self, v: Array) -> tuple[Array, Array]:
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

    def view(self, idx: NDArray[np.intp]) -> _Chart:
        """The chart restricted to the coordinates ``idx`` (a copy)."""
        out = object.__new__(_Chart)
        out.__dict__.update(
            {k: (v[idx] if isinstance(v, np.ndarray) and v.shape == (self.d,) else v) for k, v in self.__dict__.items()}
        )
        out.d = int(idx.size)
        return out

    def rebase(self, v: Array) -> None:
        """Move the anchor to ``v`` (only where ``shrink(v) >= _EXT_RATIO``): ``v = 0`` there."""
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
    solver steps (each re-anchors the chart); ``rebases`` counts the solver's other
    events by kind: ``frame`` (the eigen-frame rotated onto the current Jacobian),
    ``error`` (a step rejected by the error estimate), ``newton`` (Newton did not
    converge: step halved), ``redo`` (a step ended beyond the chart's exact range),
    ``live`` (a frozen coordinate moved: step redone with all of them).  ``S`` is
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


@functools.lru_cache(maxsize=None)
def _radau_tableau(s: int) -> _Tableau:
    """Radau IIA with ``s`` stages (order ``2s - 1``), prepared for the simplified Newton iteration.

    Nodes: the roots of ``P_s(2x - 1) - P_(s-1)(2x - 1)`` (``c_s = 1``); ``A`` from the
    collocation conditions ``sum_j A_ij c_j^(k-1) = c_i^k / k``.  ``A^-1 = P diag(mu) P^-1``
    (one real eigenvalue ``mu0``, the others in conjugate pairs) diagonalises the
    Newton system.  The error estimate is Hairer's (Hairer & Wanner, *Solving ODEs II*,
    IV.8): the embedded solution of order ``s`` on the nodes ``0, c_1..c_s`` with weight
    ``1/mu0`` at 0, filtered by ``(I - h J / mu0)^-1``; ``E`` are its weights on the
    stage increments in the convention ``err = (mu0/h - J)^-1 (f0 + E Z / h)``.
    ``Pd`` maps the stage increments to the coefficients of the collocation polynomial
    ``Z(x) = sum_k Q_k x^k`` (dense output, ``x`` in units of the step).
    """
    cs = np.zeros(s + 1)
    cs[s], cs[s - 1] = 1.0, -1.0
    c = np.sort(np.real(np.polynomial.legendre.legroots(cs)) + 1.0) / 2.0
    c[-1] = 1.0
    k = np.arange(1, s + 1, dtype=np.float64)
    vander = c[None, :] ** (k[:, None] - 1.0)  # [k, j] = c_j^(k-1)
    A = np.linalg.solve(vander, c[None, :] ** k[:, None] / k[:, None]).T
    mu, P = np.linalg.eig(np.linalg.inv(A))
    order = np.argsort(np.abs(mu.imag), kind="stable")
    mu, P = mu[order], P[:, order]
    mu0 = float(mu[0].real)
    rhs = 1.0 / k
    rhs[0] -= 1.0 / mu0
    b_hat = np.linalg.solve(vander, rhs)
    E = -mu0 * np.linalg.solve(A.T, A[-1] - b_hat)
    Pd = np.asarray(np.linalg.inv(c[:, None] ** k[None, :]), dtype=np.float64)
    return _Tableau(s, c, mu, P, np.linalg.inv(P), mu0, E, Pd)


class _Tableau(NamedTuple):
    """Coefficients of :func:`_radau_tableau`."""

    s: int
    c: Array
    mu: NDArray[np.complex128]
    P: NDArray[np.complex128]
    Pi: NDArray[np.complex128]
    mu0: float
    E: Array
    Pd: Array


class _Trial(NamedTuple):
    """An accepted step of :meth:`_DiagonalFlow.attempt`: its size, stage increments, error norm,
    Newton iterations, step-size safety factor, and ``v``, ``beta``, ``d beta/dv`` at its end."""

    h: float
    Z: Array
    en: float
    nit: int
    safety: float
    v_new: Array
    beta: Array
    dbeta: Array


def _rms(x: Array) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


class _DiagonalFlow:
    """The integrator behind :func:`diagonal_flow`: one instance per call.

    Integrates ``dS/dt = X beta(S) - y``, the gradient flow of Sections 4-5 (see the
    module docstring; its limit is Theorem 1's resp. Theorem 3's min-Q interpolant), by
    collocation: Radau IIA with ``s`` stages, order ``2s - 1`` (``s = 7``, order 13,
    by default; Hairer & Wanner, *Solving ODEs II*, IV.5-8), L-stable and stiffly
    accurate, with Hairer's embedded error estimate and Gustafsson's step control.

    *Anchor per step.*  Every accepted step re-anchors the chart (:class:`_Chart`)
    at its end point and restarts the local clock there, so each step integrates
    ``ds/dt = Q^T (X beta(S_k + Q s) - y)`` from ``s = 0``, ``t = 0``: the chart keeps
    every ``w`` to full relative precision (no cancellation however small alpha)
    and the clock never loses resolution.  The solver is never restarted: step size,
    error history, the frame's Jacobian and the last collocation polynomial (Newton's
    first guess, :meth:`guess`) carry over, as a one-step method needs nothing else.

    *Eigen-frame, diagonal Jacobian.*  The state lives in the frame ``Q`` of the
    Jacobian's eigenvectors, where ``J = Q^T X diag(k) X^T Q`` is nearly diagonal and
    its diagonal ``lam = -(Q^T X)^2 |k|`` is a sum of same-signed terms, exact to
    relative precision even when the rates ``k`` span more than ``1/eps``.  The
    simplified Newton iteration (:meth:`newton`) uses ``diag(lam)``, refreshed after
    every step at ``O(N d)``: any step size costs one elementwise division, no
    factorisation.  When the dynamics turn the eigenvectors (a coordinate joins the
    support) Newton slows down, and the frame is rotated onto the eigenvectors of the
    current ``J`` (:meth:`refresh_frame`, ``O(N^2 d)``).

    *Blow-up ahead.*  In a plateau some ``w^(2-D)`` decrease linearly towards 0: no
    step goes beyond ``_RANGE_FRACTION`` of the predicted blow-up (:meth:`time_to_edge`),
    so Newton never meets the singularity; 13 decades of plateau take a few steps.

    *Frozen coordinates* (:meth:`live_for`): at small ``alpha^D`` most stage
    evaluations only touch the coordinates whose ``beta`` can move.

    *Honest tolerances* (:meth:`abs_tol`).

    Attributes: ``chart``, ``Q``, ``QX = Q^T X`` (``QXT`` its transpose), ``QX2 =
    QX^2``, ``Qy``, ``col_l1s`` (column l1 norms of ``QX``), ``col_l1`` (their max):
    the frame; ``S_total`` (``S`` at the current point, original frame), ``t`` (flow
    time there), ``beta``, ``dbeta``, ``rnorm``, ``f`` (``ds/dt`` there), ``lam``,
    ``atol``, ``v_rate`` (``X^T r``), ``h_range`` (the blow-up bound on the next step);
    solver state ``h`` (next step), ``h_old``/``err_old`` (controller history),
    ``poly`` (the last step's collocation polynomial), ``rate`` (last Newton
    contraction), ``fresh_frame``; the live set (``live``, ``live_h``, ...);
    counters ``steps``, ``reasons``, ``ei``; ``ok`` / ``message`` once stopped.
    """

    Q: Array
    QX: Array
    QXT: Array
    QX2: Array
    Qy: Array
    col_l1: float
    beta: Array
    dbeta: Array
    rnorm: float
    f: Array
    lam: Array

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
        stages: int,
    ) -> None:
        N, d = X.shape
        self.X, self.y, self.N, self.d = X, y, N, d
        self.tol, self.t_max, self.rtol, self.max_steps = tol, t_max, rtol, max_steps
        self.tab = _radau_tableau(stages)
        self.maxit = _NEWTON_MAXITER[stages]
        self.newton_tol = _NEWTON_TOL
        self.te = te
        self.t_need = float(te[-1]) if te is not None and te.size else 0.0
        self.beta_eval: Array | None = None if te is None else np.full((te.size, d), np.nan)

        self.chart = _Chart(D, a)
        self.ynorm = max(float(np.linalg.norm(y)), tol, np.finfo(float).tiny)
        self.x_sq = float(np.linalg.norm(X, 2)) ** 2
        self.row_abs = np.abs(X)
        self.col_norm = np.linalg.norm(X, axis=0)
        self.y_abs = float(np.max(np.abs(y)))

        self.S_total = np.zeros(N)
        self.t = 0.0
        self.steps = 0
        self.reasons: dict[str, int] = {}
        self.message = ""
        self.ok = True
        self.live: NDArray[np.intp] | None = None
        self.at_point()
        self.set_frame(np.linalg.eigh((X * self.dbeta) @ X.T)[1])
        self.h = self.first_step()
        self.h_range = _RANGE_FRACTION * self.time_to_edge()
        self.set_live()
        self.h_old: float | None = None
        self.err_old: float | None = None
        self.poly: Array | None = None  # last step's collocation polynomial (rows: coefficients)
        self.rate: float | None = None
        self.fresh_frame = True
        self.ei = 0
        if te is not None and self.beta_eval is not None:
            while self.ei < te.size and te[self.ei] <= 0.0:
                self.beta_eval[self.ei] = self.beta
                self.ei += 1

    def count(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    # ------------------------------------------------------------------ #
    # frame and current point
    # ------------------------------------------------------------------ #
    def set_frame(self, V: Array, rotate: Array | None = None) -> None:
        """Frame ``Q V`` (``Q = I`` initially); ``rotate``: the current ``Q^T X`` to rotate."""
        if rotate is None:
            self.Q = V
            self.QX = V.T @ self.X
            self.Qy = V.T @ self.y
        else:
            self.Q = self.Q @ V
            self.QX = V.T @ rotate
            self.Qy = V.T @ self.Qy
        self.QXT = np.ascontiguousarray(self.QX.T)
        self.live_mask: NDArray[np.bool_] | None = None  # the live set of the cached QX_live
        self.QX2 = self.QX * self.QX
        self.col_l1s = np.abs(self.QX).sum(axis=0)
        self.col_l1 = float(self.col_l1s.max())
        self.f = self.QX @ self.beta - self.Qy
        self.lam = -(self.QX2 @ np.abs(self.dbeta))
        self.atol = self.abs_tol(0.0)

    def refresh_frame(self) -> None:
        """Rotate the frame onto the eigenvectors of the current Jacobian."""
        J = (self.QX * self.dbeta) @ self.QX.T
        _, V = np.linalg.eigh(J)
        if self.poly is not None:
            self.poly = self.poly @ V
        self.set_frame(V, rotate=self.QX)
        self.set_live()
        self.fresh_frame = True
        self.count("frame")

    def residual_norm(self, beta: Array, f: Array) -> float:
        """``||X beta - y||``: as ``||Q^T (X beta - y)|| = ||f||`` unless near ``tol``, then exactly."""
        rn = float(np.linalg.norm(f))
        if rn <= _EXACT_RNORM * self.tol:
            rn = float(np.linalg.norm(self.X @ beta - self.y))  # in the original frame
        return rn

    def at_point(self) -> None:
        """``beta``, ``dbeta``, ``rnorm`` at the chart's anchor (the current point)."""
        self.beta, self.dbeta = self.chart.beta_d(np.zeros(self.d))
        self.rnorm = float(np.linalg.norm(self.X @ self.beta - self.y))  # in the original frame

    def abs_tol(self, h: float) -> Array:
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
        lam = -self.lam
        with np.errstate(divide="ignore"):
            by_r = min(self.rtol * self.ynorm, _R_REL * max(self.rnorm, self.tol)) / lam
        by_u = self.rtol * self.chart.gap0() / (self.chart.c * self.col_l1)
        F = float(np.max(self.row_abs @ np.abs(self.beta))) + self.y_abs
        self.noise_F = F
        noise = _EPS * F / (lam + (1.0 / h if h > 0 else np.inf))
        return np.maximum(np.minimum(by_r, by_u), np.maximum(_NOISE_FACTOR * noise / _NEWTON_TOL, 1e-300))

    def time_to_edge(self) -> float:
        """When the linear prediction of ``v`` leaves the chart's exact range (a singularity for D > 2).

        Only coordinates whose ``X^T r`` is not rounding noise count (an active
        coordinate sits at ``x_i^T r ~ 0``; its noise would predict nothing).
        """
        v_rate = self.v_rate = self.f @ self.QX  # d v / dt = X^T r
        moving = np.abs(v_rate) > _RATE_FLOOR * self.col_norm * max(self.rnorm, self.tol)
        if not np.any(moving):
            return np.inf
        return self.chart.time_to_edge(np.where(moving, v_rate, 0.0))

    def first_step(self) -> float:
        """A tenth of the fastest time scale at the start, 1 / lambda_max(J)."""
        lam0 = float(np.max(np.abs(self.dbeta))) * self.x_sq
        return min(0.1 / lam0 if lam0 > 0 else 1.0, self.t_max)

    # ------------------------------------------------------------------ #
    # one step
    # ------------------------------------------------------------------ #
    def stages(self, Z: Array) -> Array:
        """``ds/dt`` at the stage increments ``Z`` (rows), in the current frame.

        Only the live coordinates (:meth:`live_for`) are evaluated; the others'
        terms are frozen at the anchor (their change is a sliver of the tolerance).
        """
        if self.live is None:
            return self.chart.beta(Z @ self.QX) @ self.QXT - self.Qy
        if self.live.size == 0:
            return np.broadcast_to(self.f, Z.shape).copy()
        return self.f + (self.live_chart.beta(Z @ self.QX_live) - self.beta_live) @ self.QXT_live

    def set_live(self) -> None:
        """Per anchor: the scale ``(w+^D + w-^D) ||Q^T x_i||_1`` of each coordinate's term in ``ds/dt``."""
        self.mag_l1 = self.chart.magnitude() * self.col_l1s
        self.live = None
        self.live_h = -1.0  # the live set is valid for steps up to this long
        self.live_view = False

    def live_for(self, h: float) -> None:
        """The coordinates whose ``beta`` may change by more than a sliver of the tolerance in a step of ``h``.

        Along the exact flow ``||r||`` does not increase, so ``|x_i^T dS| <= ||x_i|| h ||r||``
        over the step; a coordinate that is not stiff over the step (``h |d beta/dv|
        ||x_i||^2 < _SOFT``) moves as driven by ``r``, which is bounded tighter by
        ``_LIN_SAFETY`` times its present rate.  So ``u = w^(2-D)`` (``log w^2`` for
        D = 2) moves by at most ``c h speed``, which bounds the change of ``w+^D`` and
        ``w-^D`` (:meth:`_Chart.variation`).  Where that change times ``||Q^T x_i||_1``
        is below ``1/d`` of :meth:`dead_threshold`, the coordinate is dead: its term is
        frozen at the anchor in the stage values (:meth:`stages`), a change of ``ds/dt``
        far below the tolerance (and below its rounding at small ``alpha^D``, where most
        coordinates are dead in most steps).  :meth:`dead_moved` checks each step after
        the fact.  The set is made for ``_LIVE_SLACK h`` and reused for shorter tries.
        """
        if h <= self.live_h:
            return
        h_set = _LIVE_SLACK * h
        self.live_h = h_set
        speed = max(self.rnorm, self.tol) * self.col_norm
        soft = h_set * np.abs(self.dbeta) * self.col_norm**2 < _SOFT
        speed = np.where(soft, np.minimum(speed, _LIN_SAFETY * np.abs(self.v_rate)), speed)
        bound = self.mag_l1 * self.chart.variation((self.chart.c * h_set) * speed)
        live = bound > self.dead_threshold() / self.d
        n_live = int(np.count_nonzero(live))
        if n_live > (1.0 - _DEAD_MIN) * self.d:
            self.live = None
            return
        if self.live_mask is None or self.live_mask.shape != live.shape or np.any(live != self.live_mask):
            self.live_mask = live
            self.live_idx = np.flatnonzero(live)
            self.QX_live = np.ascontiguousarray(self.QX[:, self.live_idx])
            self.QXT_live = np.ascontiguousarray(self.QXT[self.live_idx])
            self.live_view = False
        if not self.live_view:
            self.live_chart = self.chart.view(self.live_idx)
            self.beta_live = self.beta[self.live_idx]
            self.live_view = True
        self.live = self.live_idx

    def dead_threshold(self) -> float:
        """Total change of the frozen terms of ``ds/dt`` allowed in a step (see :meth:`live_for`)."""
        return max(_EPS * self.noise_F, _DEAD_TOL * self.rtol * self.ynorm)

    def dead_moved(self, beta_new: Array) -> bool:
        """Did the frozen terms of ``ds/dt`` change by more than :meth:`dead_threshold` over the step?"""
        if self.live is None:
            return False
        change = np.abs(beta_new - self.beta) * self.col_l1s
        change[self.live] = 0.0
        return bool(np.sum(change) > self.dead_threshold())

    def newton(self, h: float, Z: Array, scale: Array) -> tuple[bool, int, Array]:
        """Simplified Newton on the collocation equations with ``J ~ diag(lam)``."""
        tab = self.tab
        self.live_for(h)
        mu_h = tab.mu / h
        denom = mu_h[:, None] - self.lam[None, :]
        W = tab.Pi @ Z
        norm_old = None
        # Hairer's trick: the last contraction estimate, relaxed towards 1 on every reuse,
        # may declare convergence after the first iteration
        rate = None if self.rate is None else max(self.rate, _EPS) ** 0.8
        for k in range(self.maxit):
            with np.errstate(over="ignore", invalid="ignore"):
                F = self.stages(Z)
            if not np.all(np.isfinite(F)):
                return False, k + 1, Z
            dW = (tab.Pi @ F - mu_h[:, None] * W) / denom
            dZ = np.real(tab.P @ dW)
            norm = _rms(dZ / scale)
            if norm_old is not None:
                rate = norm / norm_old
                if rate >= 1.0 or rate ** (self.maxit - k) / (1.0 - rate) * norm > self.newton_tol:
                    return False, k + 1, Z
            W = W + dW
            Z = np.real(tab.P @ W)
            if norm == 0.0 or (rate is not None and rate < 1.0 and rate / (1.0 - rate) * norm < self.newton_tol):
                self.rate = rate
                return True, k + 1, Z
            norm_old = norm
        return False, self.maxit, Z

    def guess(self, h: float) -> Array:
        """Newton's first guess: the last collocation polynomial, continued."""
        tab = self.tab
        if self.poly is None or self.h_old is None or h > _GUESS_RATIO * self.h_old:
            # far extrapolation of a degree-s polynomial amplifies its rounding; instead the
            # exact solution of the linearised flow z' = f + diag(lam) z (exponential Euler)
            ch = (tab.c * h)[:, None]
            z = ch * self.lam[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                phi = np.where(z < -1e-8, np.expm1(z) / z, 1.0 + 0.5 * z)
            out: Array = ch * phi * self.f[None, :]
            return out
        x = 1.0 + tab.c * (h / self.h_old)
        k = np.arange(1, tab.s + 1)
        return (x[:, None] ** k[None, :] - 1.0) @ self.poly

    def predict(self, h: float, err: float) -> float:
        """Step factor from the error norm (Gustafsson's predictive controller)."""
        expo = 1.0 / (self.tab.s + 1)
        mult = 1.0
        if self.h_old is not None and self.err_old is not None and err > 0:
            mult = min(1.0, h / self.h_old * (self.err_old / err) ** expo)
        with np.errstate(divide="ignore"):
            return mult * err**-expo

    def attempt(self, h: float, rejected: bool) -> _Trial | tuple[str, float]:
        """Try a step of ``h``: the accepted :class:`_Trial`, or (why not, the next ``h`` to try).

        Reasons: ``newton`` (no convergence), ``error`` (error estimate > 1), ``redo``
        (ended outside the chart's exact range), ``live`` (a frozen coordinate moved).
        """
        tab = self.tab
        Z0 = self.guess(h)
        conv, nit, Z = self.newton(h, Z0, self.atol + self.rtol * np.abs(Z0[-1]))
        if not conv:
            return "newton", 0.5 * h
        # Hairer's error estimate, filtered through (mu0/h - J)^-1
        ZE = (tab.E @ Z) / h
        den0 = tab.mu0 / h - self.lam
        err = (self.f + ZE) / den0
        scale = self.atol + self.rtol * np.abs(Z[-1])
        en = _rms(err / scale)
        if rejected and en > 1.0:
            with np.errstate(over="ignore", invalid="ignore"):
                err = (self.stages(err[None])[0] + ZE) / den0
            en = _rms(err / scale)
            if not np.isfinite(en):
                en = 1e10
        safety = 0.9 * (2 * self.maxit + 1) / (2 * self.maxit + nit)
        if en > 1.0:
            return "error", h * max(_MIN_FACTOR, safety * self.predict(h, en))
        v_new = Z[-1] @ self.QX
        shrink = self.chart.shrink(v_new)
        if shrink < _EXT_RATIO:  # the step ended where the chart is continued, not exact
            return "redo", h * min(0.9, self.chart.shorten(shrink))
        beta, dbeta = self.chart.beta_d(v_new)
        if self.dead_moved(beta):
            return "live", h
        return _Trial(h, Z, en, nit, safety, v_new, beta, dbeta)

    def step(self) -> bool:
        """One accepted step (True), or False with ``ok``/``message`` set when the solver failed."""
        h = min(self.h, self.t_max - self.t, _T_CAP, self.h_range)
        rejected = False
        tried_frame = False
        while True:
            if not h > _H_MIN:
                self.ok = False
                self.message = f"solver failed: step size {h:.3g} too small"
                return False
            trial = self.attempt(h, rejected)
            if isinstance(trial, _Trial):
                break
            reason, h_next = trial
            if reason == "newton" and not self.fresh_frame and not tried_frame:
                self.refresh_frame()  # the frame was stale: retry with the current eigenvectors
                tried_frame = True
                continue
            self.count(reason)
            if reason == "newton":
                self.rate = None
            elif reason == "live":  # redo the step with every coordinate live
                self.mag_l1 = np.full(self.d, np.inf)
                self.live_h = -1.0
            else:
                rejected = True
            h = h_next
        self.accept(trial)
        return True

    def accept(self, trial: _Trial) -> None:
        """Outputs inside the accepted step (at its anchor), then re-anchor at its end."""
        h, Z = trial.h, trial.Z
        v_new, beta, dbeta = trial.v_new, trial.beta, trial.dbeta
        self.poly = self.tab.Pd @ Z
        t_old = self.t
        self.steps += 1
        self.record_t_eval(t_old, h)
        f_new = self.QX @ beta - self.Qy
        rnorm = self.residual_norm(beta, f_new)
        ds = Z[-1]
        x_end = 1.0
        if rnorm <= self.tol and t_old + h >= self.t_need:
            x_end = self.locate_tol(t_old, h)
            if x_end < 1.0:
                ds_x = self.dense(x_end)[0]
                v_x = ds_x @ self.QX
                beta_x, dbeta_x = self.chart.beta_d(v_x)
                rnorm_x = float(np.linalg.norm(self.X @ beta_x - self.y))
                if rnorm_x <= self.tol:
                    ds, v_new, beta, dbeta, rnorm = ds_x, v_x, beta_x, dbeta_x, rnorm_x
                    f_new = self.QX @ beta - self.Qy
                else:
                    x_end = 1.0
        self.S_total = self.S_total + self.Q @ ds
        self.chart.rebase(v_new)
        self.t = t_old + h if x_end == 1.0 else t_old + x_end * h
        self.beta, self.dbeta, self.rnorm, self.f = beta, dbeta, rnorm, f_new
        if self.done():
            return
        self.lam = -(self.QX2 @ np.abs(self.dbeta))
        self.atol = self.abs_tol(h)
        self.h_range = _RANGE_FRACTION * self.time_to_edge()
        self.set_live()
        fac = min(_MAX_FACTOR, max(_MIN_FACTOR, trial.safety * self.predict(h, trial.en)))
        self.h_old, self.err_old = h, trial.en
        self.h = h * fac
        self.fresh_frame = False
        if trial.nit > _FRAME_NIT and self.rate is not None and self.rate > _FRAME_RATE:
            self.refresh_frame()

    # ------------------------------------------------------------------ #
    # outputs within a step
    # ------------------------------------------------------------------ #
    def dense(self, x: float | Array) -> Array:
        """Increment of the last step at fraction ``x`` of it (collocation polynomial)."""
        assert self.poly is not None
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        k = np.arange(1, self.tab.s + 1)
        return (xs[:, None] ** k[None, :]) @ self.poly

    def record_t_eval(self, t_old: float, h: float) -> None:
        """beta at the requested times within the step just taken (before re-anchoring)."""
        te, beta_eval = self.te, self.beta_eval
        if te is None or beta_eval is None:
            return
        while self.ei < te.size and te[self.ei] <= t_old + h:
            x = min(max((te[self.ei] - t_old) / h, 0.0), 1.0)
            beta_eval[self.ei] = self.chart.beta(self.dense(x) @ self.QX)[0]
            self.ei += 1

    def locate_tol(self, t_old: float, h: float) -> float:
        """The first fraction of the last step with ``||r|| <= tol`` (the terminal event).

        ||r|| decreases along the flow: bisect the step's dense output for the first
        time with ||r|| <= tol (not before ``max(t_eval)``); 1.0 keeps the step's end.
        """
        x_first = max(0.0, (self.t_need - t_old) / h)
        if not x_first < 1.0:
            return 1.0

        def rn(x: float) -> float:
            v = self.dense(x) @ self.QX
            return float(np.linalg.norm(self.X @ self.chart.beta_d(v[0])[0] - self.y))

        lo, hi = x_first, 1.0
        if rn(lo) <= self.tol:
            hi = lo
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
            if rn(mid) <= self.tol:
                hi = mid
            else:
                lo = mid
        return hi

    # ------------------------------------------------------------------ #
    # driver
    # ------------------------------------------------------------------ #
    def done(self) -> bool:
        """``||r|| <= tol`` at a time past ``max(t_eval)``."""
        return self.rnorm <= self.tol and self.t >= self.t_need

    def run(self, start: float) -> FlowResult:
        """Step until :meth:`done` or a cap; ``start``: the caller's clock."""
        while not self.done():
            if self.steps >= self.max_steps:
                self.ok = False
                self.message = f"max_steps = {self.max_steps} reached"
                break
            if self.t >= self.t_max:
                self.ok = False
                self.message = f"t_max = {self.t_max:g} reached"
                break
            if self.t >= _T_CAP:
                self.ok = False
                self.message = (
                    f"stalled: ||X beta - y|| = {self.rnorm:.3g} stays above tol = {self.tol:g} "
                    "(float64 rounding floor?)"
                )
                break
            if not self.step():
                break
        return self.result(start)

    def result(self, start: float) -> FlowResult:
        """The :class:`FlowResult` at the current point (``wall_time_s`` since ``start``)."""
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
            t=self.t,
            steps=self.steps,
            rebases=self.reasons,
            wall_time_s=time.perf_counter() - start,
            message=message,
            S=self.S_total.copy(),
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
    constants, see the module docstring) with Radau IIA collocation (``method``:
    ``"Radau"`` = ``"Radau13"``, 7 stages, order 13; ``"Radau9"``, ``"Radau5"``: 5, 3
    stages; the source's ``_DiagonalFlow`` explains the method), relative tolerance
    ``rtol`` and absolute tolerances that keep the local error in ``X beta`` below
    ``rtol ||y||`` and in each ``w`` below ``rtol |w|`` (see ``_DiagonalFlow.abs_tol``
    in the source for the one exception, float64 noise in very long slow phases).
    Limits (Theorems 1 and 3) agree with :func:`kr.reference.min_Q` to about
    ``tol`` times the problem's conditioning.  Stops at the first
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
    stages = _METHODS[_check_method(method, tuple(_METHODS))]
    te = _check_t_eval(t_eval, t_max)
    return _DiagonalFlow(X, y, a, D, tol, t_max, rtol, max_steps, te, stages).run(start)


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
