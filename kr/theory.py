"""Closed-form implicit-bias functions of Sections 4-5 (and Appendices C-E).

Everything here is vectorised numpy in float64 and stays finite, without
warnings, for alpha in [1e-8, 1e4], D in {2, ..., 5} and |z| up to 1e12 (and
well beyond: the root-finder works in log space).

Notation. For the D-homogeneous diagonal network (eq. 10), gradient flow from
``w+(0) = w-(0) = alpha * 1`` ends, when it interpolates, at
``beta = alpha^D h_D(X^T nu)`` (eq. 58), so its implicit bias is
``Q^D_alpha(beta) = alpha^D sum_i q_D(beta_i / alpha^D)`` with
``q_D = int h_D^{-1}`` (eq. 60).  For D = 2 the same construction gives
``beta = 2 alpha^2 sinh(X^T nu)`` (eq. 17-18), so we use the convention
``h_2(z) = 2 sinh z`` and ``q_2 = q`` of eq. (4).

Numerical approach. Substituting ``z = tanh s`` turns every D > 2 quantity
into hyperbolic functions of ``s`` (with ``p = D/(D-2)``, ``a = 2/(D-2)``)::

    h_D(tanh s)  = 2 cosh(s)^p sinh(p s)
    H_D(tanh s)  = (D-2) (cosh(s)^a cosh(a s) - 1)      (H_D = int_0^z h_D)
    q_D(t)       = t z - H_D(z),  z = h_D^{-1}(t)        (Legendre transform)

``log h_D(tanh e^u)`` is convex and increasing in ``u = log s``, so Newton's
method in ``u`` converges globally and quadratically: one vectorised solve for
all points, no per-point Python loop.

Examples
--------
>>> import numpy as np
>>> from kr import theory
>>> float(theory.q(0.0))
0.0
>>> bool(np.isclose(theory.q_D(3.0, 2), theory.q(3.0)))
True
>>> t = np.array([-1e12, -1.0, 0.0, 1e-9, 5.0])
>>> bool(np.allclose(theory.h(theory.h_inv(t, 3), 3), t, rtol=1e-12))
True
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kr.validation import check_depth

__all__ = [
    "q",
    "Q",
    "h",
    "h_inv",
    "q_D",
    "Q_D",
    "r",
    "R",
    "alpha_l1_sufficient",
    "log_alpha_l1_sufficient",
    "alpha_l2_sufficient",
    "alpha_lemma1",
    "alpha_lemma3",
    "norm_ratio",
    "alpha_for_norm_ratio",
    "quartic_r",
    "RootResult",
    "solve_hyperbolic",
    "logcosh",
]

Array = NDArray[np.float64]
_LOG2 = np.log(2.0)


# --------------------------------------------------------------------------- #
# small stable helpers
# --------------------------------------------------------------------------- #
def _f64(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def logcosh(x: ArrayLike) -> Array:
    """log(cosh x) without overflow and without cancellation near 0."""
    x = _f64(x)
    ax = np.abs(x)
    small = ax < 1.0
    xs = np.where(small, ax, 0.0)
    xl = np.where(small, 1.0, ax)
    return np.where(
        small,
        np.log1p(2.0 * np.sinh(0.5 * xs) ** 2),
        xl + np.log1p(np.exp(-2.0 * xl)) - _LOG2,
    )


def _logsinh(x: Array) -> Array:
    """log(sinh x) for x > 0, without overflow."""
    return x + np.log(-np.expm1(-2.0 * x)) - _LOG2


def _coth(x: Array) -> Array:
    """coth x for x > 0, accurate for tiny x."""
    return 1.0 / np.tanh(x)


# --------------------------------------------------------------------------- #
# Depth 2: q and Q (Theorem 1, eqs. 4-5)
# --------------------------------------------------------------------------- #
def q(z: ArrayLike) -> Array:
    """Coordinate function of the D = 2 implicit bias, eq. (4).

    ``q(z) = int_0^z arcsinh(u/2) du = 2 - sqrt(4 + z^2) + z arcsinh(z/2)``,
    evaluated as ``z arcsinh(z/2) - z^2 / (2 + sqrt(4 + z^2))`` so that small
    ``z`` keeps full relative precision (``q(z) = z^2/4 + O(z^4)``).

    >>> bool(np.isclose(q(2.0), 2 - np.sqrt(8) + 2 * np.arcsinh(1), rtol=1e-15))
    True
    >>> float(q(1e-9))  # the naive formula returns 0 here
    2.5e-19
    """
    z = _f64(z)
    az = np.abs(z)
    root = np.hypot(2.0, az)
    # az^2 / (2 + root) written as az * (az / (2 + root)) avoids overflow.
    return az * np.arcsinh(0.5 * az) - az * (az / (2.0 + root))


def Q(beta: ArrayLike, alpha: float | ArrayLike, w0: ArrayLike | None = None) -> Array:
    """Implicit bias Q_{alpha,w0} of Theorem 1 (general case), eq. (5).

    ``Q(beta) = sum_i alpha^2 w0_i^2 q(beta_i / (alpha^2 w0_i^2))``; ``w0``
    defaults to all ones.  Sums over the last axis of ``beta``; ``alpha`` may
    be an array broadcasting against ``beta[..., 0]``.

    >>> import numpy as np
    >>> b = np.array([0.3, -1.0])
    >>> bool(np.isclose(4 * 1e4**2 * Q(b, 1e4), b @ b, rtol=1e-10))  # eq. (6)
    True
    """
    beta = _f64(beta)
    alpha = _f64(alpha)[..., None]
    scale = alpha**2 if w0 is None else alpha**2 * _f64(w0) ** 2
    return np.sum(scale * q(beta / scale), axis=-1)


# --------------------------------------------------------------------------- #
# Depth D: h_D, its inverse, q_D and Q_D (Theorem 3, eqs. 57-60)
# --------------------------------------------------------------------------- #
class RootResult(NamedTuple):
    """Solution ``s >= 0`` of ``2 cosh(s)^p sinh(p s) = t`` (see module doc)."""

    s: Array
    converged: NDArray[np.bool_]  # elementwise
    iterations: int


def solve_hyperbolic(t: ArrayLike, p: float, *, max_iter: int = 100) -> RootResult:
    """Solve ``2 cosh(s)^p sinh(p s) = |t|`` for ``s >= 0`` (vectorised).

    This is ``h_D(tanh s) = |t|`` with ``p = D/(D-2)``.  Newton's method on
    ``psi(u) = log(2 cosh(e^u)^p sinh(p e^u))`` in ``u = log s``: ``psi`` is
    convex and increasing with ``psi' >= 1``, so the iteration converges from
    any start.  ``t = 0`` gives ``s = 0``.
    """
    t = np.abs(_f64(t))
    p = float(p)
    if not p > 0:
        raise ValueError(f"p must be positive, got {p}")
    pos = t > 0
    tt = np.where(pos, t, 1.0)
    logt = np.log(tt)
    # start from the small-s (2ps = t) or the large-s (2^-p e^{2ps} = t) asymptote
    s0 = np.where(tt < 2.0 * p, tt / (2.0 * p), (logt + p * _LOG2) / (2.0 * p))
    u = np.log(s0)
    done = ~pos
    it = 0
    for it in range(1, max_iter + 1):
        s = np.exp(u)
        psi = _LOG2 + p * logcosh(s) + _logsinh(p * s)
        dpsi = s * p * (np.tanh(s) + _coth(p * s))
        step = (psi - logt) / dpsi
        u = np.where(done, u, u - step)
        done = done | (np.abs(step) <= 4e-16 * np.maximum(1.0, np.abs(u)))
        if done.all():
            break
    s = np.where(pos, np.exp(u), 0.0)
    return RootResult(s=s, converged=done, iterations=it)


def _p(D: float) -> float:
    return D / (D - 2.0)


def h(z: ArrayLike, D: float) -> Array:
    """h_D(z) = (1-z)^(-D/(D-2)) - (1+z)^(-D/(D-2)) on (-1, 1), eq. (59).

    Computed as ``(1+z)^(-p) expm1(2 p atanh z)``, exact near 0 where the
    difference cancels.  For ``D = 2`` we use ``h_2(z) = 2 sinh z`` (eq. 17).
    """
    D = check_depth(D)
    z = _f64(z)
    if D == 2:
        return 2.0 * np.sinh(z)
    if np.any(np.abs(z) >= 1):
        raise ValueError("h_D is defined on the open interval (-1, 1) for D > 2")
    p = _p(D)
    az = np.abs(z)
    val = np.exp(-p * np.log1p(az)) * np.expm1(2.0 * p * np.arctanh(az))
    return np.sign(z) * val


def h_inv(t: ArrayLike, D: float) -> Array:
    """Inverse of ``h_D`` on all of R, with values in (-1, 1) for D > 2.

    ``h_inv(t, 2) = arcsinh(t/2)``.  Derivative of ``q_D`` (eq. 60).
    """
    D = check_depth(D)
    t = _f64(t)
    if D == 2:
        return np.arcsinh(0.5 * t)
    res = solve_hyperbolic(t, _p(D))
    return np.sign(t) * np.tanh(res.s)


def q_D(z: ArrayLike, D: float) -> Array:
    """q_D = int_0^z h_D^{-1}(t) dt, the coordinate function of Theorem 3.

    Closed form via the Legendre transform: with ``x = h_D^{-1}(z)``,
    ``q_D(z) = z x - H_D(x)`` and ``H_D(x) = (D-2)/2 [(1-x)^(-2/(D-2)) +
    (1+x)^(-2/(D-2)) - 2]``, evaluated in the hyperbolic variable so that
    neither small nor huge ``|z|`` loses precision.  ``q_D(z, 2) = q(z)``.
    Small ``z``: ``q_D(z) ~ (D-2)/(4D) z^2`` (eq. 65).
    """
    D = check_depth(D)
    if D == 2:
        return q(z)
    z = np.abs(_f64(z))
    a = 2.0 / (D - 2.0)
    s = solve_hyperbolic(z, _p(D)).s
    H = (D - 2.0) * np.expm1(a * logcosh(s) + logcosh(a * s))
    return z * np.tanh(s) - H


def Q_D(beta: ArrayLike, alpha: float | ArrayLike, D: float) -> Array:
    """Q^D_alpha(beta) = alpha^D sum_i q_D(beta_i / alpha^D), Theorem 3.

    ``Q_D(beta, alpha, 2) == Q(beta, alpha)``.  Sums over the last axis.
    """
    D = check_depth(D)
    beta = _f64(beta)
    scale = _f64(alpha)[..., None] ** D
    return np.sum(scale * q_D(beta / scale, D), axis=-1)


# --------------------------------------------------------------------------- #
# Parameter-space distance R (eqs. 8-9) and the paper's quartic
# --------------------------------------------------------------------------- #
def r(z: ArrayLike) -> Array:
    """r(z) = min (a-1)^2 + (b-1)^2 s.t. a^2 - b^2 = z (Section 4, alpha = 1).

    Stationarity gives ``a = cosh(th) e^th``, ``b = cosh(th) e^-th`` with
    ``2 cosh(th)^2 sinh(2 th) = |z|`` (the p = 2 case of
    :func:`solve_hyperbolic`), hence ``r = 2 sinh(th)^2 cosh(2 th)``.
    Small ``z``: ``r ~ z^2/8``; large ``z``: ``r ~ |z|``.

    The paper calls ``r(z)`` "the unique real root" of the quartic
    ``p_z(u)`` (:func:`quartic_r`).  For ``z != 0`` that quartic has *two*
    real roots; ``r(z)`` is the smaller one (tested in ``tests``).
    """
    z = _f64(z)
    th = solve_hyperbolic(z, 2.0).s
    return 2.0 * np.sinh(th) ** 2 * np.cosh(2.0 * th)


def R(beta: ArrayLike, alpha: float | ArrayLike) -> Array:
    """R_{alpha,1}(beta) = min ||w - alpha 1||^2 s.t. w+^2 - w-^2 = beta, eq. (9).

    Rescaling ``w = alpha w'`` gives ``R_alpha(beta) = alpha^2 sum_i
    r(beta_i / alpha^2)``; the paper's ``sum_i r(beta_i/alpha^2)`` omits the
    factor ``alpha^2``.
    """
    beta = _f64(beta)
    a2 = _f64(alpha)[..., None] ** 2
    return np.sum(a2 * r(beta / a2), axis=-1)


def quartic_r(z: float) -> Array:
    """Coefficients (highest degree first) of the paper's quartic p_z(u), Section 4."""
    z2 = float(z) ** 2
    return np.array([1.0, -6.0, 12.0 - 2.0 * z2, -(8.0 + 10.0 * z2), z2 + z2**2])


# --------------------------------------------------------------------------- #
# Theorem 2 and Lemmas 1, 3 (Appendix D)
# --------------------------------------------------------------------------- #
def log_alpha_l1_sufficient(eps: float, l1_norm: float, d: int) -> float:
    """Natural log of :func:`alpha_l1_sufficient` (finite where the value underflows)."""
    return float(min(
        -(2.0 + eps) / (2.0 * eps) * np.log(2.0 * (1.0 + eps) * l1_norm),
        -d / (eps * l1_norm),
    ))


def alpha_l1_sufficient(eps: float, l1_norm: float, d: int) -> float:
    """Theorem 2: alpha below this gives ||beta_alpha||_1 <= (1+eps)||beta_l1*||_1.

    ``min{(2(1+eps)||b||_1)^(-(2+eps)/(2 eps)), exp(-d/(eps ||b||_1))}``,
    computed in log space (the value may underflow to 0 for large d/eps;
    :func:`log_alpha_l1_sufficient` keeps it).
    """
    return float(np.exp(log_alpha_l1_sufficient(eps, l1_norm, d)))


def alpha_l2_sufficient(eps: float, l2_norm: float) -> float:
    """Theorem 2: alpha above this gives ||beta_alpha||_2^2 <= (1+eps)||beta_l2*||_2^2.

    ``sqrt(2 (1+eps) (1 + 2/eps) ||b||_2)``.
    """
    return float(np.sqrt(2.0 * (1.0 + eps) * (1.0 + 2.0 / eps) * l2_norm))


def alpha_lemma1(eps: float, l1_norm: float, d: int) -> float:
    """Lemma 1 threshold alpha_1(eps, ||b||_1, d) (Appendix D).

    ``min{1, sqrt(||b||_1), (2||b||_1)^(-1/(2 eps)), exp(-d/(2 eps ||b||_1))}``.
    """
    log_a = min(
        0.0,
        0.5 * np.log(l1_norm),
        -np.log(2.0 * l1_norm) / (2.0 * eps),
        -d / (2.0 * eps * l1_norm),
    )
    return float(np.exp(log_a))


def alpha_lemma3(eps: float, l2_norm: float) -> float:
    """Lemma 3 threshold alpha_2(eps, ||b||_2) = sqrt(||b||_2)(1 + eps^(-1/4))."""
    return float(np.sqrt(l2_norm) * (1.0 + eps ** (-0.25)))


# --------------------------------------------------------------------------- #
# Figure 3(b)
# --------------------------------------------------------------------------- #
def norm_ratio(alpha: ArrayLike, D: float, d: int) -> Array:
    """Q^D_alpha(e_1) / Q^D_alpha(1_d / sqrt(d)), Figure 3(b) (and eq. 33).

    Equals ``q_D(u) / (d q_D(u / sqrt d))`` with ``u = alpha^-D``; tends to 1
    (l2-like) as alpha -> inf and to 1/sqrt(d) (l1-like) as alpha -> 0.
    """
    D = check_depth(D)
    alpha = _f64(alpha)
    u = np.exp(-D * np.log(alpha))
    return q_D(u, D) / (d * q_D(u / np.sqrt(d), D))


def alpha_for_norm_ratio(
    target: ArrayLike,
    D: float,
    d: int,
    *,
    log10_bounds: tuple[float, float] = (-60.0, 20.0),
    iterations: int = 200,
) -> Array:
    """The alpha at which :func:`norm_ratio` equals ``target`` (vectorised).

    Bisection in log alpha, valid because the ratio is nondecreasing in alpha
    (eq. 37).  Targets outside the ratio's range on ``log10_bounds`` return
    NaN.
    """
    target = _f64(target)
    lo = np.full(target.shape, log10_bounds[0] * np.log(10.0))
    hi = np.full(target.shape, log10_bounds[1] * np.log(10.0))
    ok = (norm_ratio(np.exp(lo), D, d) <= target) & (norm_ratio(np.exp(hi), D, d) >= target)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = norm_ratio(np.exp(mid), D, d) >= target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        if np.all(hi - lo <= 1e-14 * np.maximum(1.0, np.abs(hi))):
            break
    return np.where(ok, np.exp(0.5 * (lo + hi)), np.nan)
