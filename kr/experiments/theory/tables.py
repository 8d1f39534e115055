"""Tidy tables behind Figures 2, 3(a), 3(b) and the theory claims.

Each builder takes the matching ``config.yaml`` section (a plain mapping) and
returns a :class:`pandas.DataFrame` with one row per observation and a
``converged`` column (whether every root solve behind the row converged).
:data:`BUILDERS` maps a table name to its builder; the workflow writes
``results/tables/<name>.csv``.

>>> df = fig3a_table({"depths": [2, 3], "z": {"start": -1, "stop": 1, "num": 3}})
>>> list(df.columns)
['D', 'z', 'q_D', 'converged']
>>> len(df)
6
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kr import theory
from kr.grids import expand_grid

Spec = Mapping[str, Any]


def _converged(t: np.ndarray, D: float) -> np.ndarray:
    """Whether the h_D root solve converged at every point of ``t``."""
    if D == 2:  # closed form
        return np.ones(np.shape(t), dtype=bool)
    return theory.solve_hyperbolic(t, D / (D - 2.0)).converged


def fig2_table(spec: Spec) -> pd.DataFrame:
    """Figure 2: q(z) (eq. 4) and r(z) (Section 4), with the quartic check.

    For each z the paper's quartic p_z(u) is solved (numpy.roots); we record
    its number of real roots and whether r(z) is its smallest real root.
    """
    z = expand_grid(spec["z"])
    rz = theory.r(z)
    n_real = np.empty(z.shape, dtype=int)
    rel_gap = np.empty(z.shape)
    for i, zi in enumerate(z):  # numpy.roots is per polynomial; grids are small
        roots = np.roots(theory.quartic_r(zi))
        real = np.sort(roots[np.abs(roots.imag) <= 1e-7 * np.maximum(1.0, np.abs(roots))].real)
        n_real[i] = real.size
        rel_gap[i] = abs(real[0] - rz[i]) / max(1.0, abs(rz[i])) if real.size else np.inf
    return pd.DataFrame(
        {
            "z": z,
            "q": theory.q(z),
            "r": rz,
            "quartic_real_roots": n_real,
            "r_minus_smallest_root_rel": rel_gap,
            "converged": theory.solve_hyperbolic(z, 2.0).converged,
        }
    )


def best_rescaling(z: np.ndarray) -> tuple[float, float, float]:
    """Best minimax fit ``r(z) ~ c1 q(c2 z)`` on the points ``z != 0``.

    Returns ``(c1, c2, max relative gap)``: least squares on the relative
    residuals, refined by Nelder-Mead on their maximum.  A gap that grows with
    the range of ``z`` shows that r is not a rescaling of q (Section 4).
    """
    from scipy.optimize import least_squares, minimize

    z = z[z != 0]
    rz = theory.r(z)

    def rel(logc: np.ndarray) -> np.ndarray:
        return np.exp(logc[0]) * theory.q(np.exp(logc[1]) * z) / rz - 1.0

    # small-z matching (r ~ z^2/8, q ~ z^2/4) gives c1 c2^2 = 1/2: start there
    start = least_squares(rel, x0=np.array([np.log(0.5), 0.0])).x
    fit = minimize(lambda c: np.max(np.abs(rel(c))), start, method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    c = fit.x if fit.fun < np.max(np.abs(rel(start))) else start
    return float(np.exp(c[0])), float(np.exp(c[1])), float(np.max(np.abs(rel(c))))


def fig2_rescaling_table(spec: Spec) -> pd.DataFrame:
    """How well the best rescaling c1 q(c2 z) fits r(z) on [z_min, Z], per Z.

    Both functions are even, so positive log-spaced z suffice.
    """
    rows = []
    for zmax in spec["rescaling_zmax"]:
        z = np.logspace(-3, np.log10(float(zmax)), int(spec.get("rescaling_points", 400)))
        c1, c2, gap = best_rescaling(z)
        rows.append({"z_max": float(zmax), "c1": c1, "c2": c2, "max_rel_gap": gap, "converged": True})
    return pd.DataFrame(rows)


def fig3a_table(spec: Spec) -> pd.DataFrame:
    """Figure 3(a): q_D(z) for each depth D (Theorem 3, eq. 60)."""
    z = expand_grid(spec["z"])
    frames = [
        pd.DataFrame({"D": int(D), "z": z, "q_D": theory.q_D(z, D), "converged": _converged(z, D)})
        for D in spec["depths"]
    ]
    return pd.concat(frames, ignore_index=True)


def fig3b_table(spec: Spec) -> pd.DataFrame:
    """Figure 3(b): Q^D_alpha(e_1) / Q^D_alpha(1_d/sqrt d) against alpha."""
    alpha = expand_grid(spec["alpha"])
    d = int(spec["d"])
    frames = []
    for D in spec["depths"]:
        u = alpha ** (-float(D))
        ok = _converged(u, D) & _converged(u / np.sqrt(d), D)
        frames.append(
            pd.DataFrame(
                {
                    "D": int(D),
                    "d": d,
                    "alpha": alpha,
                    "alpha_D": alpha ** float(D),
                    "ratio": theory.norm_ratio(alpha, D, d),
                    "ratio_l1": 1.0 / np.sqrt(d),
                    "converged": ok,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def fig3b_transition_table(spec: Spec) -> pd.DataFrame:
    """Largest alpha with norm_ratio <= (1 + eps)/sqrt(d), per depth and eps.

    This is how small alpha must be for Q^D_alpha to be within a factor
    (1 + eps) of l1-proportional on the two vectors of Figure 3(b) (compare
    Lemma 2 for D = 2).  ``converged`` is False where the bisection bracket
    did not contain the target.
    """
    eps = np.asarray(spec["transition_eps"], dtype=float)
    d = int(spec["d"])
    frames = []
    for D in spec["depths"]:
        a = theory.alpha_for_norm_ratio((1.0 + eps) / np.sqrt(d), D, d)
        frames.append(
            pd.DataFrame(
                {
                    "D": int(D),
                    "d": d,
                    "eps": eps,
                    "alpha_star": a,
                    "log_inv_alpha_star": -np.log(a),
                    "converged": np.isfinite(a),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def theory_limits_table(spec: Spec) -> pd.DataFrame:
    """Q_alpha against the l2 (eq. 6) and l1 (eq. 7) limits on random vectors.

    Rows are (vector, alpha).  ``l2_ratio = 4 alpha^2 Q / ||b||_2^2`` tends to
    1 as alpha -> inf; ``l1_ratio = Q / (ln(1/alpha^2) ||b||_1)`` tends to 1 as
    alpha -> 0 (defined for alpha < 1 only).  Vectors are Gaussian with
    ``d`` coordinates, drawn from ``seed``.
    """
    alpha = expand_grid(spec["alpha"])
    d = int(spec["d"])
    rng = np.random.default_rng(int(spec["seed"]))
    betas = rng.standard_normal((int(spec["n_vectors"]), d))
    frames = []
    for k, beta in enumerate(betas):
        Qv = theory.Q(beta, alpha)
        l1, l2 = np.abs(beta).sum(), beta @ beta
        log_inv = -2.0 * np.log(alpha)
        l1_ratio = np.full(alpha.shape, np.nan)
        small = alpha < 1
        l1_ratio[small] = Qv[small] / (log_inv[small] * l1)
        frames.append(
            pd.DataFrame(
                {
                    "vector": k,
                    "d": d,
                    "alpha": alpha,
                    "l1_norm": l1,
                    "l2_norm": np.sqrt(l2),
                    "Q": Qv,
                    "l2_ratio": 4.0 * alpha**2 * Qv / l2,
                    "l1_ratio": l1_ratio,
                    "converged": True,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


BUILDERS: dict[str, Callable[[Spec], pd.DataFrame]] = {
    "fig2_q_r": fig2_table,
    "fig2_rescaling": fig2_rescaling_table,
    "fig3a_qD": fig3a_table,
    "fig3b_norm_ratio": fig3b_table,
    "fig3b_transition": fig3b_transition_table,
    "theory_limits": theory_limits_table,
}
