"""Tests for :mod:`kr.theory` (Woodworth et al. 2020, Sections 4-5, Appendices C-E).

Every quantity is checked against a computation that does not share code with
the implementation:

* mpmath evaluations of the closed forms at 40-250 significant digits
  (the working precision grows with ``-log10|z|`` so that the catastrophic
  cancellations of the naive formulas are resolved);
* our own high-precision bisection for ``h_D^{-1}`` and for the Lagrange
  multiplier of the ``r`` problem;
* quadrature (``scipy.integrate.quad`` / ``mpmath.quad``);
* direct constrained minimisation (``scipy.optimize``);
* finite differences and proven inequalities / asymptotic expansions.

Tolerances are fixed from the specification (1e-10 relative) or derived from
the mathematics (truncation terms, floating-point conditioning); they are
stated next to each assertion.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize

from kr import theory as th

EPS = np.finfo(np.float64).eps  # 2.22e-16
RTOL = 1e-10  # accuracy required by the specification
DS = (2, 3, 4, 5)
DS_GT2 = (3, 4, 5)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@contextlib.contextmanager
def strict():
    """Turn every warning and every float overflow/invalid/divide into an error.

    (Underflow is benign -- e.g. z**4 for z=1e-100 -- and is left alone.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def call(fn, *args):
    """Call ``fn`` with warnings as errors; return a float64 ndarray, asserting finiteness."""
    with strict():
        out = fn(*args)
    arr = np.asarray(out)
    assert arr.dtype == np.float64, f"{fn.__name__} returned dtype {arr.dtype}"
    assert np.all(np.isfinite(arr)), f"{fn.__name__} returned non-finite values: {arr}"
    return arr


def assert_rel(actual, expected, rtol, what=""):
    """|actual - expected| <= rtol * |expected| elementwise (exact match where expected == 0)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    err = np.abs(actual - expected)
    bad = err > rtol * np.abs(expected)
    if np.any(bad):
        idx = np.flatnonzero(bad)[:8]
        lines = [
            f"  expected={expected.flat[i]!r} actual={actual.flat[i]!r} "
            f"rel={err.flat[i] / abs(expected.flat[i]) if expected.flat[i] else np.inf:.3e}"
            for i in idx
        ]
        pytest.fail(f"{what}: {bad.sum()} value(s) off by more than rtol={rtol:g}\n" + "\n".join(lines))


def symmetric(values):
    """values -> sorted array of (-values, 0, values)."""
    v = np.asarray(values, dtype=np.float64)
    return np.concatenate([-v[::-1], [0.0], v])


def fd6(f, z, step):
    """Sixth-order central finite difference of a vectorised ``f`` at ``z``."""
    c = {1: 45.0, 2: -9.0, 3: 1.0}
    acc = 0.0
    for k, ck in c.items():
        acc = acc + ck * (f(z + k * step) - f(z - k * step))
    return acc / (60.0 * step)


# --------------------------------------------------------------------------
# independent high-precision references (mpmath)
# --------------------------------------------------------------------------
def _dps(x, base=40):
    """Working precision: enough extra digits to resolve O(x^2) cancellations for tiny x."""
    x = abs(float(x))
    extra = 0 if (x == 0.0 or x >= 1.0) else int(2 * -math.log10(x)) + 10
    return base + extra


def _bisect(f, a, b, iters=240):
    """Plain bisection (f(a), f(b) of opposite signs); 240 halvings ~ 1e-72 of the bracket."""
    fa = f(a)
    for _ in range(iters):
        m = (a + b) / 2
        fm = f(m)
        if fm == 0:
            return m
        if (fm > 0) == (fa > 0):
            a, fa = m, fm
        else:
            b = m
    return (a + b) / 2


@functools.lru_cache(maxsize=None)
def mp_q(z):
    """q(z) = 2 - sqrt(4+z^2) + z asinh(z/2), eq. (4), in high precision."""
    with mpmath.workdps(_dps(z)):
        Z = mpmath.mpf(z)
        return float(2 - mpmath.sqrt(4 + Z * Z) + Z * mpmath.asinh(Z / 2))


@functools.lru_cache(maxsize=None)
def mp_h(z, D):
    """h_D(z), eq. (59); h_2(z) = 2 sinh z (Appendix C)."""
    with mpmath.workdps(_dps(z) + 20):
        Z = mpmath.mpf(z)
        if D == 2:
            return float(2 * mpmath.sinh(Z))
        p = mpmath.mpf(D) / (D - 2)
        return float((1 - Z) ** (-p) - (1 + Z) ** (-p))


def _mp_u_s(t, D):
    """u = h_D^{-1}(|t|) and s = 1-u as mp numbers (D > 2), by bisection.

    For |t| <= 1 we bracket u in [0, t/(2p)] (h(u) >= 2pu since h' >= 2p by convexity
    of x^{-p-1}); for |t| > 1 we bracket s in [(t+1)^{-1/p}, t^{-1/p}] which keeps full
    relative precision in s = 1-u even when u is within 1e-24 of 1.
    """
    T = abs(mpmath.mpf(t))
    p = mpmath.mpf(D) / (D - 2)
    if T <= 1:
        u = _bisect(lambda u: (1 - u) ** (-p) - (1 + u) ** (-p) - T, mpmath.mpf(0), T / (2 * p))
        return u, 1 - u
    s = _bisect(lambda s: T - s ** (-p) + (2 - s) ** (-p), (T + 1) ** (-1 / p), T ** (-1 / p))
    return 1 - s, s


@functools.lru_cache(maxsize=None)
def mp_h_inv(t, D):
    """h_D^{-1}(t) (h_2^{-1}(t) = asinh(t/2))."""
    if t == 0:
        return 0.0
    with mpmath.workdps(_dps(t)):
        if D == 2:
            return float(mpmath.asinh(mpmath.mpf(t) / 2))
        u, _ = _mp_u_s(t, D)
        return math.copysign(float(u), t)


@functools.lru_cache(maxsize=None)
def mp_qD(z, D):
    """q_D(z) = int_0^z h_D^{-1} via the Legendre identity  z u - H(u),  u = h^{-1}(z),
    H(u) = int_0^u h = (D-2)/2 [(1-u)^{-2/(D-2)} + (1+u)^{-2/(D-2)} - 2]."""
    if D == 2:
        return mp_q(z)
    if z == 0:
        return 0.0
    with mpmath.workdps(_dps(z)):
        u, s = _mp_u_s(z, D)
        k = mpmath.mpf(2) / (D - 2)
        H = (mpmath.mpf(D) - 2) / 2 * (s ** (-k) + (1 + u) ** (-k) - 2)
        return float(abs(mpmath.mpf(z)) * u - H)


def mp_qD_quad(z, D):
    """q_D(|z|) = int_0^{|z|} h^{-1}(t) dt = int_0^{u*} u h'(u) du  (substitution t = h(u)),
    by tanh-sinh quadrature with breakpoints accumulating geometrically at u* = h^{-1}(z)."""
    with mpmath.workdps(30):
        u_star, s_star = _mp_u_s(abs(z), D)
        p = mpmath.mpf(D) / (D - 2)

        def integrand(v):
            return v * p * ((1 - v) ** (-p - 1) + (1 + v) ** (-p - 1))

        pts = [mpmath.mpf(0)]
        if s_star < 0.5:
            pts.append(mpmath.mpf("0.5"))
            k = 1
            while mpmath.mpf(10) ** (-k) > 10 * s_star:
                pts.append(1 - mpmath.mpf(10) ** (-k))
                k += 1
        pts.append(u_star)
        return float(mpmath.quad(integrand, pts))


@functools.lru_cache(maxsize=None)
def mp_r(z):
    """r(z) via the Lagrange conditions of  min (a-1)^2+(b-1)^2  s.t.  a^2-b^2 = z:
    a = 1/(1-lam), b = 1/(1+lam), 4 lam = |z| (1-lam^2)^2 with lam in (0,1),
    giving r = |z| lam (1+lam^2)/2."""
    z = abs(z)
    if z == 0:
        return 0.0
    with mpmath.workdps(_dps(z) + 20):
        Z = mpmath.mpf(z)
        lam = _bisect(lambda l: 4 * l - Z * (1 - l * l) ** 2, mpmath.mpf(0), mpmath.mpf(1), 300)
        return float(Z * lam * (1 + lam * lam) / 2)


def mp_norm_ratio(alpha, D, d):
    """Q^D_alpha(e_1) / Q^D_alpha(1_d/sqrt d) = q_D(alpha^-D) / (d q_D(alpha^-D / sqrt d))."""
    with mpmath.workdps(50):
        z1 = float(mpmath.mpf(alpha) ** (-D))
        z2 = float(mpmath.mpf(alpha) ** (-D) / mpmath.sqrt(d))
    return mp_qD(z1, D) / (d * mp_qD(z2, D))


def mp_Q(beta, alpha, w0):
    """Q_{alpha,w0}(beta), eq. (5): sum of alpha^2 w0_i^2 q(beta_i/(alpha^2 w0_i^2))."""
    total = mpmath.mpf(0)
    with mpmath.workdps(60):
        for b, w in zip(beta, w0):
            c = mpmath.mpf(alpha) ** 2 * mpmath.mpf(w) ** 2
            total += c * mpmath.mpf(mp_q(float(mpmath.mpf(b) / c)))
        return float(total)


def mp_QD(beta, alpha, D):
    """Q^D_alpha(beta) = alpha^D sum q_D(beta_i / alpha^D)  (Theorem 3)."""
    with mpmath.workdps(60):
        aD = mpmath.mpf(alpha) ** D
        return float(sum(aD * mpmath.mpf(mp_qD(float(mpmath.mpf(b) / aD), D)) for b in beta))


def random_beta(seed, d, zero=False):
    rng = np.random.default_rng(seed)
    beta = rng.standard_normal(d) * np.exp(rng.uniform(-1.0, 1.0, d))
    if zero:
        beta[rng.integers(d)] = 0.0
    return beta


# z grids (up to 1e12 as required; q_D grid goes to 1e42 because Q^D evaluates
# q_D at beta/alpha^D, i.e. up to ~1e40 for alpha=1e-8, D=5)
Z_Q = symmetric([1e-100, 1e-20, 1e-12, 1e-8, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 1.0, 2.0, 3.7,
                 10.0, 1e2, 1e3, 1e4, 1e6, 1e9, 1e12])
Z_QD = symmetric([1e-30, 1e-10, 1e-6, 1e-3, 0.1, 0.5, 1.0, 3.0, 10.0, 1e3, 1e6, 1e12,
                  1e20, 1e30, 1e42])
T_HINV = symmetric([1e-30, 1e-12, 1e-6, 1e-3, 0.1, 1.0, 2.0, 10.0, 1e3, 1e6, 1e9, 1e12])
ALPHAS = (1e-8, 1e-4, 1e-2, 0.3, 1.0, 3.0, 1e2, 1e4)


# ==========================================================================
# q  (eq. 4 / eq. 21)
# ==========================================================================
class TestQScalar:
    """Coordinate function q(z) = int_0^z arcsinh(t/2) dt = 2 - sqrt(4+z^2) + z arcsinh(z/2)."""

    def test_matches_mpmath_closed_form(self):
        """eq. (4) at 40-250 digits; includes tiny z where the naive formula cancels."""
        got = call(th.q, Z_Q)
        assert got.shape == Z_Q.shape
        assert_rel(got, [mp_q(float(z)) for z in Z_Q], RTOL, "q vs mpmath")

    @pytest.mark.parametrize("z", [1e-3, 0.2, 1.0, 2.5, 7.0, 40.0, 1e3])
    def test_matches_scipy_quad(self, z):
        """eq. (21): q(z) = int_0^z arcsinh(t/2) dt (scipy quad, epsrel 1e-13)."""
        ref, err = integrate.quad(lambda t: math.asinh(t / 2), 0.0, z, epsabs=0.0, epsrel=1e-13, limit=200)
        assert err <= 1e-12 * abs(ref)
        assert_rel(call(th.q, np.array([z, -z])), [ref, ref], RTOL, "q vs quad")

    @pytest.mark.parametrize("z", [1e6, 1e12])
    def test_matches_mpmath_quad_large(self, z):
        """eq. (21) for large z, mpmath quadrature split on a geometric grid."""
        with mpmath.workdps(30):
            pts = [0] + [mpmath.mpf(10) ** k for k in range(0, int(round(math.log10(z))) + 1)]
            ref = float(mpmath.quad(lambda t: mpmath.asinh(t / 2), pts))
        assert_rel(call(th.q, np.array([z])), [ref], RTOL, "q vs mpmath.quad")

    def test_scalar_input_gives_scalar(self):
        assert np.ndim(call(th.q, 0.5)) == 0

    def test_even_nonnegative_convex(self):
        """q is even, q >= 0 = q(0), and convex (q'' = 1/sqrt(4+z^2) > 0)."""
        z = np.linspace(0.0, 30.0, 3001)
        qp, qm = call(th.q, z), call(th.q, -z)
        assert_rel(qm, qp, 4 * EPS, "q(-z) = q(z)")
        assert qp[0] == 0.0
        assert np.all(qp[1:] > 0.0)
        # second differences ~ h^2 q'' >= 1e-4 / sqrt(4+900) >> rounding (1e-16 * 100)
        assert np.all(np.diff(qp, 2) > 0.0)

    @pytest.mark.parametrize("z", [1e-1, 1e-2, 1e-3, 1e-5, 1e-8])
    def test_small_z_expansion(self, z):
        """q(z) = z^2/4 - z^4/192 + z^6/2560 - ...  (so q = z^2/4 + O(z^4), Section 4)."""
        ratio = call(th.q, np.array([z, -z])) / (z * z / 4)
        assert np.all(np.abs(ratio - (1 - z * z / 48)) <= z**4 / 600 + 16 * EPS)

    @pytest.mark.parametrize("z", [1e2, 1e4, 1e6, 1e9, 1e12])
    def test_large_z_q_over_zlogz_tends_to_one(self, z):
        """Section 4: q(z) = Theta(|z| log|z|); precisely q/(|z| log|z|) = 1 - 1/log|z| + O(1/log|z| /|z|)."""
        for s in (z, -z):
            ratio = float(call(th.q, s)) / (z * math.log(z))
            assert 1 - 1 / math.log(z) <= ratio + 1e-12
            assert ratio <= 1 - 1 / math.log(z) + 2 / (z * math.log(z)) + 1e-12

    @pytest.mark.parametrize("z", [10.0, 100.0, 1000.0])
    def test_large_z_expansion(self, z):
        """q(z) = z log z - z + 2 - 1/z + O(1/z^3)  (the paper's "|z|log|z| + O(1/|z|)" corrected).

        From z asinh(z/2) = z log z + 1/z - ... and sqrt(4+z^2) = z + 2/z - ...;
        the remainder satisfies 0 <= z (q - (z log z - z + 2)) + 1 <= 1/z^2."""
        for s in (z, -z):
            val = z * (float(call(th.q, s)) - (z * math.log(z) - z + 2)) + 1
            assert -1e-8 <= val <= 1 / z**2 + 1e-8

    @pytest.mark.parametrize("z", [1e-4, 0.05, 0.7, 3.0, 50.0, 1e3, 1e6, 1e12])
    def test_derivative_is_arcsinh(self, z):
        """d q / dz = arcsinh(z/2)  (eq. 19/21), 6th-order central differences, step 1e-2|z|.

        Truncation ~ 1e-12; amplification of an allowed 1e-10 error in q is ~2e-8."""
        zz = np.array([z, -z])
        with strict():
            got = fd6(th.q, zz, 1e-2 * z)
        assert_rel(got, np.arcsinh(zz / 2), 1e-7, "q' vs arcsinh")


# ==========================================================================
# Q_{alpha, w0}  (eqs. 5-7)
# ==========================================================================
class TestQ:
    """Q_{alpha,w0}(beta) = sum_i alpha^2 w0_i^2 q(beta_i / (alpha^2 w0_i^2))."""

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_matches_mpmath(self, seed, alpha):
        """eq. (5) with a non-uniform w0 (including negative entries: Q depends on w0^2)."""
        rng = np.random.default_rng(100 + seed)
        beta = random_beta(seed, 4, zero=(seed == 2))
        w0 = rng.uniform(0.5, 2.0, 4) * rng.choice([-1.0, 1.0], 4)
        got = call(th.Q, beta, alpha, w0)
        assert np.ndim(got) == 0
        assert_rel(got, mp_Q(beta, alpha, w0), RTOL, "Q vs mpmath")

    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_default_w0_is_ones(self, alpha):
        beta = random_beta(7, 5)
        got = call(th.Q, beta, alpha)
        assert_rel(got, call(th.Q, beta, alpha, np.ones(5)), 1e-14, "w0 default")
        assert_rel(got, mp_Q(beta, alpha, np.ones(5)), RTOL, "Q(w0=1) vs mpmath")

    def test_sum_over_last_axis(self):
        """A (n, d) batch gives n values, each equal to Q of the row."""
        B = np.stack([random_beta(s, 3) for s in range(6)])
        got = call(th.Q, B, 0.7)
        assert got.shape == (6,)
        assert_rel(got, [float(call(th.Q, b, 0.7)) for b in B], 1e-14, "batched Q")

    @pytest.mark.parametrize("alpha", [10.0, 30.0, 100.0, 300.0, 1e3, 1e4])
    def test_kernel_limit_eq6(self, alpha):
        """eq. (6): Q = sum beta_i^2/(4 alpha^2 w0_i^2) (1 - z_i^2/48 + ...),  z_i = beta_i/(alpha^2 w0_i^2).

        q(z) <= z^2/4 exactly (q'' <= 1/2), and the relative defect is the weighted mean of
        z^2/48 up to O(z^4): we check it against that leading term to 1 %."""
        rng = np.random.default_rng(5)
        beta = random_beta(5, 6)
        w0 = rng.uniform(0.5, 2.0, 6)
        c = alpha**2 * w0**2
        z = beta / c
        quad = np.sum(beta**2 / (4 * c))
        defect = 1.0 - float(call(th.Q, beta, alpha, w0)) / quad
        lead = np.sum(c * z**4 / 192) / np.sum(c * z**2 / 4)
        assert -16 * EPS <= defect <= np.max(z**2) / 48 + 16 * EPS
        assert abs(defect - lead) <= 1e-2 * lead + 1e-14

    @pytest.mark.parametrize("alpha", [1e-2, 1e-3, 1e-4, 1e-6, 1e-8])
    def test_rich_limit_eq7(self, alpha):
        """eq. (7): Q/log(1/alpha^2) = ||beta||_1 + O(1/log(1/alpha^2)) for any w0.

        Sharper, from q(z) = z log z - z + 2 - 1/z + O(z^-3):
        Q = L ||beta||_1 + sum |b_i| (log(|b_i|/w0_i^2) - 1) + 2 alpha^2 sum w0_i^2 + rem,
        |rem| <= sum alpha^4 w0_i^4/|b_i|, L = log(1/alpha^2)."""
        rng = np.random.default_rng(11)
        beta = random_beta(11, 5)
        w0 = rng.uniform(0.5, 2.0, 5)
        L = math.log(1 / alpha**2)
        a = np.abs(beta)
        assert np.all(a / (alpha**2 * w0**2) >= 10)  # expansion regime
        Qv = float(call(th.Q, beta, alpha, w0))
        pred = L * a.sum() + np.sum(a * (np.log(a / w0**2) - 1)) + 2 * alpha**2 * np.sum(w0**2)
        tol = np.sum(alpha**4 * w0**4 / a) + 1e-14 * (abs(Qv) + L * a.sum())
        assert abs(Qv - pred) <= tol
        # the paper's statement: |Q/L - ||beta||_1| * L stays bounded (independently of w0)
        bound = np.sum(a * np.abs(np.log(a / w0**2) - 1)) + 1.0
        assert abs(Qv / L - a.sum()) * L <= bound


# ==========================================================================
# thresholds: Theorem 2, Lemma 1, Lemma 3 (Appendix D)
# ==========================================================================
class TestThresholds:
    """alpha thresholds of Theorem 2 and Lemmas 1 and 3."""

    @pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 2.5, 10.0])
    @pytest.mark.parametrize("l1", [0.05, 0.3, 1.0, 7.0])
    @pytest.mark.parametrize("d", [1, 5, 100])
    def test_alpha_l1_sufficient_formula(self, eps, l1, d):
        """Theorem 2: min{(2(1+eps) l1)^(-(2+eps)/(2 eps)), exp(-d/(eps l1))}."""
        ref = min((2 * (1 + eps) * l1) ** (-(2 + eps) / (2 * eps)), math.exp(-d / (eps * l1)))
        assert_rel(call(th.alpha_l1_sufficient, eps, l1, d), ref, 1e-13, "alpha_l1_sufficient")

    @pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 2.5])
    @pytest.mark.parametrize("l2", [0.05, 1.0, 7.0])
    def test_alpha_l2_sufficient_formula(self, eps, l2):
        """Theorem 2: sqrt(2 (1+eps)(1+2/eps) l2)."""
        ref = math.sqrt(2 * (1 + eps) * (1 + 2 / eps) * l2)
        assert_rel(call(th.alpha_l2_sufficient, eps, l2), ref, 1e-13, "alpha_l2_sufficient")

    @pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 2.5, 10.0])
    @pytest.mark.parametrize("l1", [0.05, 0.3, 1.0, 7.0])
    @pytest.mark.parametrize("d", [1, 5, 100])
    def test_alpha_lemma1_formula(self, eps, l1, d):
        """Lemma 1: min{1, sqrt(l1), (2 l1)^(-1/(2 eps)), exp(-d/(2 eps l1))}."""
        ref = min(1.0, math.sqrt(l1), (2 * l1) ** (-1 / (2 * eps)), math.exp(-d / (2 * eps * l1)))
        assert_rel(call(th.alpha_lemma1, eps, l1, d), ref, 1e-13, "alpha_lemma1")

    def test_threshold_grids_exercise_every_branch(self):
        """Guard for the formula tests above: each term of each min() is the active one
        for at least one grid point (otherwise a dropped term would go unnoticed)."""
        active_l1, active_lem = set(), set()
        for eps in (0.1, 0.5, 1.0, 2.5, 10.0):
            for l1 in (0.05, 0.3, 1.0, 7.0):
                for d in (1, 5, 100):
                    t = [(2 * (1 + eps) * l1) ** (-(2 + eps) / (2 * eps)), math.exp(-d / (eps * l1))]
                    active_l1.add(int(np.argmin(t)))
                    t = [math.sqrt(l1), (2 * l1) ** (-1 / (2 * eps)), math.exp(-d / (2 * eps * l1))]
                    active_lem.add(int(np.argmin(t)))
        assert active_l1 == {0, 1} and active_lem == {0, 1, 2}

    @pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 2.5])
    @pytest.mark.parametrize("l2", [0.05, 1.0, 7.0])
    def test_alpha_lemma3_formula(self, eps, l2):
        """Lemma 3: sqrt(l2) (1 + eps^(-1/4))."""
        ref = math.sqrt(l2) * (1 + eps ** (-0.25))
        assert_rel(call(th.alpha_lemma3, eps, l2), ref, 1e-13, "alpha_lemma3")

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("d", [2, 5])
    @pytest.mark.parametrize("eps", [0.3, 0.5, 1.0])
    @pytest.mark.parametrize("scale", [1.5, 4.0])
    def test_lemma1_holds(self, seed, d, eps, scale):
        """Lemma 1: alpha <= alpha_1(eps, ||b||_1, d) implies
        (1-eps)||b||_1 <= Q_alpha(b)/ln(1/alpha^2) <= (1+eps)||b||_1.

        ||b||_1 = scale * d/(2 eps ln 1e8) keeps exp(-d/(2 eps l1)) = 1e-8^(1/scale) >= 1e-8."""
        rng = np.random.default_rng(seed)
        direction = rng.standard_normal(d)
        l1 = scale * d / (2 * eps * math.log(1e8))
        beta = l1 * direction / np.abs(direction).sum()
        thr = float(call(th.alpha_lemma1, eps, l1, d))
        assert 1e-8 <= thr < 1.0
        for alpha in np.geomspace(thr, 1e-8, 40):
            val = float(call(th.Q, beta, alpha)) / math.log(1 / alpha**2)
            assert (1 - eps) * l1 <= val <= (1 + eps) * l1, (alpha, val, l1)

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("d", [2, 5])
    @pytest.mark.parametrize("eps", [0.01, 0.3, 0.5, 1.0])
    def test_lemma3_holds(self, seed, d, eps):
        """Lemma 3: alpha >= sqrt(||b||_2)(1 + eps^(-1/4)) implies
        (1-eps)||b||^2 <= 4 alpha^2 Q_alpha(b) <= (1+eps)||b||^2;
        moreover 4 alpha^2 Q <= ||b||^2 for every alpha since q(z) <= z^2/4."""
        beta = random_beta(seed, d) * 3.0
        l2 = float(np.linalg.norm(beta))
        n2 = l2**2
        thr = float(call(th.alpha_lemma3, eps, l2))
        for alpha in np.geomspace(thr, 1e4, 40):
            val = 4 * alpha**2 * float(call(th.Q, beta, alpha))
            assert (1 - eps) * n2 <= val <= (1 + eps) * n2
        for alpha in np.geomspace(1e-3, 1e4, 30):
            assert 4 * alpha**2 * float(call(th.Q, beta, alpha)) <= n2 * (1 + 16 * EPS)


# ==========================================================================
# h_D and its inverse (eq. 59, Appendix C for D = 2)
# ==========================================================================
H_Z_GT2 = symmetric([1e-30, 1e-12, 1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-6, 1 - 1e-12, 1 - 2**-52])
H_Z_D2 = symmetric([1e-30, 1e-12, 1e-6, 0.1, 0.5, 1.0, 5.0, 50.0, 300.0, 700.0])


def _h_grid(D):
    return H_Z_D2 if D == 2 else H_Z_GT2


def _c1(D):
    """h_D'(0) = 2D/(D-2) (eq. 65); 2 for D = 2 (h = 2 sinh)."""
    return 2.0 if D == 2 else 2.0 * D / (D - 2)


class TestH:
    """h_D(z) = (1-z)^(-D/(D-2)) - (1+z)^(-D/(D-2)) on (-1,1); h_2(z) = 2 sinh z."""

    @pytest.mark.parametrize("D", DS)
    def test_matches_mpmath(self, D):
        """Including z=1e-12 (naive difference cancels) and z within 1 ulp of +-1."""
        z = _h_grid(D)
        assert_rel(call(th.h, z, D), [mp_h(float(x), D) for x in z], RTOL, f"h_{D} vs mpmath")

    @pytest.mark.parametrize("D", DS)
    def test_odd_and_increasing(self, D):
        z = np.linspace(-0.999, 0.999, 2001) if D > 2 else np.linspace(-20, 20, 2001)
        hz = call(th.h, z, D)
        assert_rel(call(th.h, -z, D), -hz, 4 * EPS, "h odd")
        assert np.all(np.diff(hz) > 0)

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("z", [1e-2, 1e-4, 1e-6, 1e-8])
    def test_small_z_slope_eq65(self, D, z):
        """eq. (65): h_D(z) = 2D/(D-2) z + c3 z^3 + c5 z^5 + ...;
        with p = D/(D-2): h/(2pz) = 1 + (p+1)(p+2) z^2/6 + (p+1)(p+2)(p+3)(p+4) z^4/120 + ..."""
        if D == 2:
            a2, a4 = 1 / 6, 1 / 120
        else:
            p = D / (D - 2)
            a2, a4 = (p + 1) * (p + 2) / 6, (p + 1) * (p + 2) * (p + 3) * (p + 4) / 120
        ratio = call(th.h, np.array([z, -z]), D) / (_c1(D) * np.array([z, -z]))
        assert np.all(np.abs(ratio - (1 + a2 * z * z)) <= 2 * a4 * z**4 + 16 * EPS)


class TestHInv:
    """h_D^{-1}: R -> (-1, 1) for D > 2;  h_2^{-1}(t) = arcsinh(t/2)."""

    @pytest.mark.parametrize("D", DS)
    def test_matches_mpmath(self, D):
        """Reference: 240-step bisection at 40+ digits (bracketing in 1-u for |t| > 1)."""
        got = call(th.h_inv, T_HINV, D)
        assert got.shape == T_HINV.shape
        assert_rel(got, [mp_h_inv(float(t), D) for t in T_HINV], RTOL, f"h_inv_{D} vs mpmath")

    @pytest.mark.parametrize("D", DS_GT2)
    def test_range(self, D):
        """|h^{-1}| < 1 (strictly, in float) for |t| <= 1e12, <= 1 up to 1e42; nondecreasing."""
        t = symmetric(np.geomspace(1e-12, 1e12, 400))
        u = call(th.h_inv, t, D)
        assert np.all(np.abs(u) < 1.0)
        assert np.all(np.diff(u) >= 0)
        big = symmetric(np.geomspace(1e12, 1e42, 60))
        ub = call(th.h_inv, big, D)
        assert np.all(np.abs(ub) <= 1.0) and np.all(np.diff(ub) >= 0)

    @pytest.mark.parametrize("D", DS)
    def test_odd(self, D):
        t = np.geomspace(1e-12, 1e12, 97)
        assert_rel(call(th.h_inv, -t, D), -call(th.h_inv, t, D), 4 * EPS, "h_inv odd")
        assert float(call(th.h_inv, np.array([0.0]), D)[0]) == 0.0

    @pytest.mark.parametrize("D", DS)
    def test_h_of_h_inv(self, D):
        """h(h^{-1}(t)) = t for t in +-[1e-12, 1e12] and t = 0.

        Tolerance 1e-10 plus the unavoidable conditioning of h at the rounded u:
        kappa(u) eps with kappa = |u h'(u)/h(u)| (for D=5, t=1e12: 1-u ~ 6e-8 and
        kappa*eps ~ 3e-9, so 1e-10 alone is unattainable by any float64 u)."""
        t = symmetric(np.geomspace(1e-12, 1e12, 121))
        u = call(th.h_inv, t, D)
        back = call(th.h, u, D)
        if D == 2:
            kappa = np.where(u == 0, 1.0, np.abs(u) / np.abs(np.tanh(u) + (u == 0)))
        else:
            p = D / (D - 2)
            au = np.abs(u)
            hp = p * ((1 - au) ** (-p - 1) + (1 + au) ** (-p - 1))
            hv = np.where(au == 0, 1.0, (1 - au) ** (-p) - (1 + au) ** (-p))
            kappa = np.where(au == 0, 1.0, au * hp / hv)
        tol = RTOL + 4 * kappa * EPS
        err = np.abs(back - t)
        assert np.all(err <= tol * np.abs(t)), np.max(err / np.where(t == 0, 1, np.abs(t)) / tol)

    @pytest.mark.parametrize("D", DS)
    def test_h_inv_of_h(self, D):
        """h^{-1}(h(z)) = z, z on the whole domain (up to 1 ulp from +-1 for D > 2)."""
        z = _h_grid(D)
        assert_rel(call(th.h_inv, call(th.h, z, D), D), z, RTOL, "h_inv(h(z))")


# ==========================================================================
# q_D = int h_D^{-1} (eq. 60)
# ==========================================================================
class TestQD:
    """q_D(z) = int_0^z h_D^{-1}(t) dt, q_D(0) = 0, q_2 = q."""

    @pytest.mark.parametrize("D", DS)
    def test_matches_mpmath(self, D):
        """Legendre form z u - H(u) at 40-100 digits; z up to 1e42 (alpha=1e-8, D=5 regime)."""
        got = call(th.q_D, Z_QD, D)
        assert got.shape == Z_QD.shape
        assert_rel(got, [mp_qD(float(z), D) for z in Z_QD], RTOL, f"q_{D} vs mpmath")

    @pytest.mark.parametrize("D", DS_GT2)
    @pytest.mark.parametrize("z", [1e-10, 1e-3, 0.5, 3.0, 50.0, 1e6, 1e12])
    def test_matches_quadrature(self, D, z):
        """mpmath.quad of int_0^{u*} u h'(u) du (= int_0^z h^{-1}, substitution t = h(u))."""
        ref = mp_qD_quad(z, D)
        assert_rel(call(th.q_D, np.array([z, -z]), D), [ref, ref], RTOL, f"q_{D} vs quad")

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("z", [1e-6, 1e-3, 0.1, 0.7, 2.0, 30.0, 1e3, 1e6, 1e9, 1e12])
    def test_derivative_is_h_inv(self, D, z):
        """q_D' = h_D^{-1}: 6th-order central differences (step 1e-2|z|); truncation ~1e-12,
        amplification of an allowed 1e-10 error in q_D ~2e-8, hence rtol 1e-7."""
        zz = np.array([z, -z])
        with strict():
            got = fd6(lambda x: th.q_D(x, D), zz, 1e-2 * z)
        ref = [mp_h_inv(float(x), D) for x in zz]
        assert_rel(got, ref, 1e-7, f"q_{D}' vs h_inv")

    def test_D2_equals_q(self):
        z = symmetric(np.geomspace(1e-12, 1e16, 57))
        assert_rel(call(th.q_D, z, 2), call(th.q, z), 1e-13, "q_2 = q")

    @pytest.mark.parametrize("D", DS)
    def test_even_nonnegative(self, D):
        z = np.geomspace(1e-12, 1e42, 109)
        qz = call(th.q_D, z, D)
        assert_rel(call(th.q_D, -z, D), qz, 4 * EPS, "q_D even")
        assert np.all(qz > 0) and float(call(th.q_D, np.array([0.0]), D)[0]) == 0.0
        assert np.all(np.diff(qz) > 0)

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("z", [1e-3, 1e-4, 1e-6, 1e-8, 1e-10])
    def test_small_z_eq65(self, D, z):
        """From h(u) = c1 u + c3 u^3 + ... (eq. 65):  q_D(z) = z^2/(2 c1) - c3 z^4/(4 c1^4) + O(z^6),
        i.e. q_D(z) ~ (D-2)/(4D) z^2 (and z^2/4 for D=2)."""
        c1 = _c1(D)
        c3 = 1 / 3 if D == 2 else c1 * (D / (D - 2) + 1) * (D / (D - 2) + 2) / 6
        ratio = call(th.q_D, np.array([z, -z]), D) / (z * z / (2 * c1))
        assert np.all(np.abs(ratio - (1 - c3 * z * z / (2 * c1**3))) <= 100 * z**4 + 16 * EPS)

    @pytest.mark.parametrize("D", DS_GT2)
    def test_proven_bounds(self, D):
        """For D > 2 and z > 0 (h' >= 2D/(D-2) and 1-h^{-1}(t) <= t^{-(D-2)/D}):
        0 <= q_D(z) <= (D-2) z^2/(4D)   and   0 <= z - q_D(z) <= (D/2) z^{2/D}."""
        z = np.geomspace(1e-8, 1e16, 200)
        qz = call(th.q_D, z, D)
        assert np.all(qz <= (D - 2) * z**2 / (4 * D) * (1 + 16 * EPS))
        assert np.all(qz <= z * (1 + 16 * EPS))
        assert np.all(z - qz <= (D / 2) * z ** (2 / D) + 16 * EPS * z)

    def test_vectorised_10000_points(self):
        """One call on 10,000 points, 2-d input: shape preserved, finite, equal to 1-d calls."""
        rng = np.random.default_rng(3)
        t = (np.geomspace(1e-12, 1e12, 10_000) * rng.choice([-1.0, 1.0], 10_000)).reshape(100, 100)
        for D in DS:
            for fn in (th.h_inv, th.q_D):
                out = call(fn, t, D)
                assert out.shape == (100, 100)
                flat = call(fn, t.ravel(), D)
                assert_rel(out.ravel(), flat, 1e-15, "2-d vs 1-d")
            assert np.ndim(call(th.q_D, 0.3, D)) == 0
            assert np.ndim(call(th.h_inv, 0.3, D)) == 0


# ==========================================================================
# Q^D_alpha (Theorem 3)
# ==========================================================================
class TestQD_Regulariser:
    """Q^D_alpha(beta) = alpha^D sum_i q_D(beta_i / alpha^D)."""

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_matches_mpmath(self, D, alpha):
        beta = random_beta(21, 4, zero=True)
        got = call(th.Q_D, beta, alpha, D)
        assert np.ndim(got) == 0
        assert_rel(got, mp_QD(beta, alpha, D), RTOL, f"Q^{D} vs mpmath")

    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_D2_equals_Q(self, alpha):
        beta = random_beta(22, 6)
        assert_rel(call(th.Q_D, beta, alpha, 2), call(th.Q, beta, alpha), 1e-13, "Q^2 = Q")

    @pytest.mark.parametrize("D", DS_GT2)
    def test_limits_theorem3(self, D):
        """Rich limit (Section 5: polynomial, not exponential, in alpha for D > 2):
        0 <= ||b||_1 - Q^D <= (D/2) alpha^(D-2) sum |b_i|^{2/D}, asymptotically tight
        (from 0 <= z - q_D(z) <= (D/2) z^{2/D});
        kernel limit: 0 <= 1 - 4D alpha^D Q^D/((D-2)||b||^2) -> 0."""
        beta = random_beta(23, 5)
        l1, n2 = np.abs(beta).sum(), np.sum(beta**2)
        corr = (D / 2) * np.sum(np.abs(beta) ** (2 / D))
        for alpha in np.geomspace(1e-8, 1e4, 49):
            Qv = float(call(th.Q_D, beta, alpha, D))
            assert l1 - Qv <= corr * alpha ** (D - 2) + 16 * EPS * l1
            assert Qv <= l1 * (1 + 16 * EPS)
            assert 4 * D * alpha**D * Qv / ((D - 2) * n2) <= 1 + 16 * EPS
        Qv = float(call(th.Q_D, beta, 1e-4, D))
        assert (l1 - Qv) / (corr * 1e-4 ** (D - 2)) >= 0.99  # tightness of the rich-limit correction
        kern = 4 * D * 1e4**D * float(call(th.Q_D, beta, 1e4, D)) / ((D - 2) * n2)
        assert abs(kern - 1) <= 1e-10


# ==========================================================================
# r and R (eq. 9, end of Section 4)
# ==========================================================================
Z_R = symmetric([1e-8, 1e-4, 1e-2, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1e4, 1e8, 1e12])


def r_by_minimize_scalar(z):
    """min_b (sqrt(|z|+b^2)-1)^2 + (b-1)^2 (a = sqrt(|z|+b^2) >= 0 eliminated); the minimiser
    b = 1/(1+lam) lies in (1/2, 1], the objective is unimodal on [0, 1.5]."""
    z = abs(z)

    def phi(b):
        return (math.sqrt(z + b * b) - 1.0) ** 2 + (b - 1.0) ** 2

    res = optimize.minimize_scalar(phi, bounds=(0.0, 1.5), method="bounded", options={"xatol": 1e-13})
    assert res.success
    return res.fun


def R_by_slsqp(beta, alpha):
    """min_w ||w - alpha 1||^2  s.t.  w_+^2 - w_-^2 = beta  in R^{2d} (eq. 9, w0 = 1)."""
    d = beta.size
    a0 = np.sqrt(np.maximum(beta, 0) + alpha**2)
    b0 = np.sqrt(np.maximum(-beta, 0) + alpha**2)
    best = np.inf
    for w_init in (np.concatenate([a0, b0]), np.full(2 * d, alpha) + 0.1):
        res = optimize.minimize(
            lambda w: np.sum((w - alpha) ** 2),
            w_init,
            jac=lambda w: 2 * (w - alpha),
            constraints=[{"type": "eq", "fun": lambda w: w[:d] ** 2 - w[d:] ** 2 - beta,
                          "jac": lambda w: np.hstack([np.diag(2 * w[:d]), np.diag(-2 * w[d:])])}],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        # any feasible point bounds the minimum from above; SLSQP converges to it to ~1e-13
        if np.max(np.abs(res.x[:d] ** 2 - res.x[d:] ** 2 - beta)) < 1e-10:
            best = min(best, res.fun)
    assert np.isfinite(best)
    return best


def p_quartic(z):
    """Coefficients of p_z(u) = u^4 - 6u^3 + (12-2z^2)u^2 - (8+10z^2)u + z^2 + z^4."""
    return [1.0, -6.0, 12.0 - 2 * z * z, -(8.0 + 10 * z * z), z * z + z**4]


class TestR:
    """r(z) = min (a-1)^2 + (b-1)^2 s.t. a^2 - b^2 = z;  R_alpha(beta) = alpha^2 sum r(beta_i/alpha^2)."""

    def test_r_matches_lagrange_reference(self):
        got = call(th.r, Z_R)
        assert got.shape == Z_R.shape
        assert_rel(got, [mp_r(float(z)) for z in Z_R], RTOL, "r vs mpmath Lagrange")

    @pytest.mark.parametrize("z", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0])
    def test_r_matches_direct_minimisation(self, z):
        ref = r_by_minimize_scalar(z)
        assert_rel(call(th.r, np.array([z, -z])), [ref, ref], 1e-8, "r vs minimize_scalar")

    @pytest.mark.parametrize("z", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0])
    def test_quartic_claim(self, z):
        """The paper says r(z) is *the unique* real root of p_z. What is true: r(z) is a root,
        it is the smallest real root, and p_z has exactly two real roots (for z != 0)."""
        rz = float(call(th.r, z))
        roots = np.roots(p_quartic(z))
        real = np.sort(roots[np.abs(roots.imag) <= 1e-7 * np.maximum(1.0, np.abs(roots))].real)
        assert real.size == 2, roots
        assert abs(real[0] - rz) <= 1e-7 * rz
        assert real[1] > rz * (1 + 1e-3)
        # residual of p_z at r relative to the size of its terms
        c = p_quartic(z)
        terms = np.abs([c[k] * rz ** (4 - k) for k in range(5)])
        assert abs(np.polyval(c, rz)) <= 1e-9 * terms.sum()  # r itself is only required to 1e-10

    def test_r_even_and_bounds(self):
        """r is even, r(0) = 0, and max(0, |z| - 2 sqrt|z|) <= r(z) <= |z|
        (take b = 1 for the upper bound; a >= sqrt|z| for the lower)."""
        z = np.geomspace(1e-6, 1e12, 91)
        rz = call(th.r, z)
        assert_rel(call(th.r, -z), rz, 4 * EPS, "r even")
        assert float(call(th.r, np.array([0.0]))[0]) == 0.0
        assert np.all(rz <= z * (1 + 16 * EPS))
        assert np.all(rz >= (z - 2 * np.sqrt(z)) * (1 - 16 * EPS))
        assert np.all(rz > 0)

    @pytest.mark.parametrize("alpha", [0.1, 1.0, 3.0])
    @pytest.mark.parametrize("seed", [0, 1])
    def test_R_matches_slsqp(self, alpha, seed):
        """eq. (9) by SLSQP over w in R^6; note the alpha^2 factor missing in the paper."""
        beta = random_beta(40 + seed, 3) * 2.0
        got = call(th.R, beta, alpha)
        assert np.ndim(got) == 0
        assert_rel(got, R_by_slsqp(beta, alpha), 1e-6, "R vs SLSQP")
        assert_rel(got, alpha**2 * sum(mp_r(float(b / alpha**2)) for b in beta), RTOL, "R vs mp")

    @pytest.mark.parametrize("alpha", [1e-8, 1e-4, 0.1, 1.0, 3.0, 1e2, 1e4])
    def test_R_is_alpha2_sum_r(self, alpha):
        beta = random_beta(50, 4, zero=True)
        assert_rel(call(th.R, beta, alpha), alpha**2 * np.sum(call(th.r, beta / alpha**2)), 1e-13, "R scaling")

    def test_R_limits(self):
        """Rich: ||b||_1 - 2 alpha sum sqrt|b_i| <= R <= ||b||_1  (polynomial approach to l1,
        unlike Q); kernel: R = ||b||^2/(8 alpha^2) (1 + O(alpha^-4))."""
        beta = random_beta(51, 5)
        l1, n2 = np.abs(beta).sum(), np.sum(beta**2)
        s = np.sum(np.sqrt(np.abs(beta)))
        for alpha in np.geomspace(1e-8, 1e4, 49):
            Rv = float(call(th.R, beta, alpha))
            assert l1 - 2 * alpha * s - 16 * EPS * l1 <= Rv <= l1 * (1 + 16 * EPS)
        Rk = float(call(th.R, beta, 1e3))
        assert abs(8 * 1e6 * Rk / n2 - 1) <= 1e-9
        Rr = float(call(th.R, beta, 1e-4))
        assert abs((l1 - Rr) / (2e-4 * s) - 1) <= 1e-3


# ==========================================================================
# norm ratio (Figure 3(b), eq. 33/37) and its inverse
# ==========================================================================
class TestNormRatio:
    """Q^D_alpha(e_1) / Q^D_alpha(1_d/sqrt d)."""

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("d", [2, 10, 100])
    def test_matches_mpmath(self, D, d):
        alphas = np.array([1e-8, 1e-5, 1e-3, 0.03, 0.3, 1.0, 3.0, 30.0, 1e3, 1e4])
        got = call(th.norm_ratio, alphas, D, d)
        assert got.shape == alphas.shape
        assert_rel(got, [mp_norm_ratio(float(a), D, d) for a in alphas], RTOL, "norm_ratio vs mpmath")

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("d", [3, 50])
    def test_matches_explicit_Q_D(self, D, d):
        e1 = np.zeros(d)
        e1[0] = 1.0
        u = np.ones(d) / math.sqrt(d)
        for alpha in (1e-8, 1e-3, 0.5, 2.0, 1e4):
            ref = float(call(th.Q_D, e1, alpha, D)) / float(call(th.Q_D, u, alpha, D))
            assert_rel(call(th.norm_ratio, np.array([alpha]), D, d), [ref], 1e-12, "norm_ratio vs Q_D")

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("d", [2, 10, 100])
    def test_limits(self, D, d):
        """-> 1 as alpha -> inf (l2 regime), -> 1/sqrt d as alpha -> 0 (l1 regime);
        for D = 2 only logarithmically: at alpha = 1e-8, sqrt(d) ratio ~ (L-1)/(L-1-ln(d)/2) <= 1.1."""
        hi, lo = call(th.norm_ratio, np.array([1e4, 1e-8]), D, d)
        assert abs(hi - 1) <= 1e-10
        x = lo * math.sqrt(d)
        if D == 2:
            L = math.log(1e16)
            assert 1.0 <= x <= 1.1
            assert abs(x - (L - 1) / (L - 1 - math.log(d) / 2)) <= 1e-9
        else:
            assert abs(x - 1) <= 1e-7

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("d", [2, 10, 100])
    def test_monotone_and_bounded(self, D, d):
        """eq. (37): nondecreasing in alpha; between 1/sqrt d and 1 (rounding allowance 4 eps)."""
        alphas = np.geomspace(1e-8, 1e4, 241)
        rho = call(th.norm_ratio, alphas, D, d)
        assert np.all(np.diff(rho) >= -16 * EPS * rho[1:])
        assert np.all(rho >= (1 - 16 * EPS) / math.sqrt(d))
        assert np.all(rho <= 1 + 16 * EPS)
        assert rho[-1] - rho[0] > 0.5 * (1 - 1 / math.sqrt(d))

    @pytest.mark.parametrize("eps, d", [(0.1, 3), (0.1, 1000), (0.25, 12), (0.25, 1000), (0.5, 144), (0.5, 1000)])
    def test_lemma2_necessity(self, eps, d):
        """Lemma 2 (D = 2): for d >= max(e, 12^{4 eps}) and alpha >= d^{-1/4 - 1/(8 eps)},
        sqrt(d) Q(e_1)/Q(1/sqrt d) >= 1 + eps."""
        assert d >= max(math.e, 12 ** (4 * eps))
        a0 = d ** (-0.25 - 1 / (8 * eps))
        rho = call(th.norm_ratio, a0 * np.geomspace(1.0, 1e3, 13), 2, d)
        assert np.all(rho * math.sqrt(d) >= 1 + eps)


class TestAlphaForNormRatio:
    """alpha with norm_ratio(alpha, D, d) = target, by bisection in log alpha."""

    @pytest.mark.parametrize("D", DS)
    @pytest.mark.parametrize("d", [10, 100])
    @pytest.mark.parametrize("frac", [0.1, 0.5, 0.9])
    def test_inverts_norm_ratio(self, D, d, frac):
        target = 1 / math.sqrt(d) + frac * (1 - 1 / math.sqrt(d))
        alpha = float(call(th.alpha_for_norm_ratio, target, D, d))
        assert 0 < alpha < np.inf
        got = float(call(th.norm_ratio, np.array([alpha]), D, d)[0])
        assert abs(got - target) <= 1e-8 * target
        assert abs(mp_norm_ratio(alpha, D, d) - target) <= 1e-8 * target

    @pytest.mark.parametrize("D", DS)
    def test_monotone_in_target(self, D):
        d = 10
        targets = 1 / math.sqrt(d) + np.array([0.2, 0.4, 0.6, 0.8]) * (1 - 1 / math.sqrt(d))
        alphas = [float(call(th.alpha_for_norm_ratio, float(t), D, d)) for t in targets]
        assert np.all(np.diff(alphas) > 0)
