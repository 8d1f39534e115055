"""Claims of the diagonal-network experiment (Sections 4-5, Figures 1, 3(c)).

Checks read ``diagonal_sweep`` (methods ``flow``, ``newton``, ``gd``,
``theorem2_l1``, ``theorem2_l2``), ``diagonal_refs`` and
``diagonal_threshold``; thresholds come from the ``claims:`` config section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kr.ledger import Claim, Measurement

Tables = Mapping[str, pd.DataFrame]
Th = Mapping[str, Any]


def _rows(df: pd.DataFrame, method: str, D: int | None = None) -> pd.DataFrame:
    sel = df[df["method"] == method]
    return sel if D is None else sel[sel["D"] == D]


def _relative_excess(t: Tables, D: int, col: str, ref_col: str) -> pd.Series:
    """Mean over seeds of excess norm / reference norm, indexed by alpha (flow rows)."""
    flow = _rows(t["diagonal_sweep"], "flow", D)
    refs = t["diagonal_refs"]
    sol = "l1" if col == "excess_l1" else "l2"
    ref = refs[refs["solution"] == sol].set_index("seed")[ref_col]
    rel = flow[col] / flow["seed"].map(ref).to_numpy()
    return rel.groupby(flow["alpha"]).mean().sort_index()


def _distance_check(rows: pd.DataFrame, by: str, tol: float, quantity: str, what: str) -> Measurement:
    """max rel_dist_to_min_Q over ``rows`` <= tol, and every row converged."""
    n_bad = int((~rows["converged"].astype(bool)).sum())
    value = float(rows["rel_dist_to_min_Q"].max())
    worst = rows.groupby(by)["rel_dist_to_min_Q"].max()
    return Measurement(
        quantity=quantity,
        value=value,
        threshold=f"<= {tol:g}, every {what} converged",
        reproduced=bool(value <= tol and n_bad == 0),
        detail=", ".join(f"{by}={k:g}: {v:.2e}" for k, v in worst.items())
        + f"; {len(rows)} {what}s, {n_bad} not converged",
    )


def _flow_equals_min_q(t: Tables, th: Th) -> Measurement:
    return _distance_check(
        _rows(t["diagonal_sweep"], "flow"), "D", float(th["flow_vs_min_Q_rtol"]),
        "max over (alpha, D, seed) of ||beta_flow - beta_minQ|| / ||beta_minQ||", "flow",
    )


def _rich_limit(t: Tables, th: Th) -> Measurement:
    tol = float(th["excess_tol"])
    rel2 = _relative_excess(t, 2, "excess_l1", "l1_norm")
    monotone = bool(np.all(np.diff(rel2.to_numpy()) >= -1e-6))
    detail = [f"D=2: relative excess l1 = {rel2.iloc[0]:.3g} at alpha={rel2.index[0]:g}"]
    below = rel2[rel2 <= tol]
    detail.append(f"D=2 below {tol:g} for alpha <= {below.index.max():g}" if len(below) else
                  f"D=2 never below {tol:g} on the grid")
    depths = sorted(int(D) for D in _rows(t["diagonal_sweep"], "flow")["D"].unique())
    for D in depths:
        if D >= 3:
            relD = _relative_excess(t, D, "excess_l1", "l1_norm")
            belowD = relD[relD <= tol]
            detail.append(f"D={D} below {tol:g} for alpha <= {belowD.index.max():g}" if len(belowD) else
                          f"D={D} never below {tol:g}")
    return Measurement(
        quantity="(||beta_alpha||_1 - ||beta_l1||_1)/||beta_l1||_1, D=2, smallest alpha, mean over seeds",
        value=float(rel2.iloc[0]),
        threshold=f"<= {tol:g}, and nondecreasing in alpha",
        reproduced=bool(rel2.iloc[0] <= tol and monotone),
        detail="; ".join(detail),
    )


def _kernel_limit(t: Tables, th: Th) -> Measurement:
    tol = float(th["excess_tol"])
    rel = _relative_excess(t, 2, "excess_l2", "l2_norm")
    monotone = bool(np.all(np.diff(rel.to_numpy()) <= 1e-6))
    return Measurement(
        quantity="(||beta_alpha||_2 - ||beta_l2||_2)/||beta_l2||_2, D=2, largest alpha, mean over seeds",
        value=float(rel.iloc[-1]),
        threshold=f"<= {tol:g}, and nonincreasing in alpha",
        reproduced=bool(rel.iloc[-1] <= tol and monotone),
        detail=f"at alpha={rel.index[-1]:g}; at the smallest alpha={rel.index[0]:g}: {rel.iloc[0]:.3g}",
    )


def _theorem2(t: Tables, th: Th) -> Measurement:
    sweep = t["diagonal_sweep"]
    rows = sweep[sweep["method"].isin(["theorem2_l1", "theorem2_l2"])]
    checked = rows[rows["checked"].astype(bool)]
    ok = checked[checked["converged"].astype(bool)]
    value = float(ok["bound_ratio"].max()) if len(ok) else float("nan")
    parts = []
    for (m, e), g in rows.groupby(["method", "eps"]):
        if not g["checked"].astype(bool).all():
            parts.append(f"{m[-2:]} eps={e:g}: alpha=10^{g['log10_alpha'].max():.0f}, below the solved range, not checked")
        else:
            parts.append(f"{m[-2:]} eps={e:g}: alpha={g['alpha'].min():.3g}, ratio={g['bound_ratio'].max():.3g}"
                         + ("" if g["converged"].astype(bool).all() else " (not converged)"))
    kinds = set(checked["method"])
    return Measurement(
        quantity="max over eps, seeds of ||b_a||_1/((1+eps)||b_l1||_1) at alpha_l1(eps) "
        "and ||b_a||_2^2/((1+eps)||b_l2||_2^2) at alpha_l2(eps)",
        value=value,
        threshold="<= 1 (both implications of Theorem 2 hold) on every checkable threshold, all solves converged",
        reproduced=bool(len(ok) == len(checked) and kinds == {"theorem2_l1", "theorem2_l2"} and value <= 1),
        detail="; ".join(parts),
    )


def _generalisation(t: Tables, th: Th) -> Measurement:
    flow = _rows(t["diagonal_sweep"], "flow", 2)
    err = flow.groupby("alpha")["population_error"].mean().sort_index()
    need = float(th["generalisation_ratio"])
    ratio = float(err.iloc[-1] / err.iloc[0])
    n, d = int(flow["N"].iloc[0]), int(flow["d"].iloc[0])
    return Measurement(
        quantity="population error at the largest alpha / at the smallest alpha (D=2, mean over seeds)",
        value=ratio,
        threshold=f">= {need:g}",
        reproduced=ratio >= need,
        detail=f"N={n}, d={d}: error {err.iloc[0]:.4g} at alpha={err.index[0]:g}, "
        f"{err.iloc[-1]:.4g} at alpha={err.index[-1]:g}",
    )


def _depth_gain(t: Tables, th: Th) -> Measurement:
    df = t["diagonal_threshold"]
    df = df[df["reached"].astype(bool) & df["converged"].astype(bool)]
    med = df.groupby(["N", "D"])["alpha_max_D"].median().apply(np.log10).unstack("D")
    need = float(th["depth_gain_log10"])
    deep = [D for D in med.columns if D >= 3]
    if 2 not in med.columns or not deep or med[2].isna().all():
        return Measurement("log10 gain of alpha^D over D=2", float("nan"), f">= {need:g}", False,
                           "needs D=2 and some D>=3 with the threshold reached")
    gains = med[deep].sub(med[2], axis=0).dropna(how="all")
    n_hard = int(med[2].dropna().index.min())  # smallest N at which D = 2 reaches the threshold
    value = float(gains.loc[n_hard].min())
    return Measurement(
        quantity=f"min over D>=3 of log10(alpha^D_max(D) / alpha^D_max(D=2)) at N={n_hard}, the smallest N "
        "where D=2 reaches the threshold (median over seeds)",
        value=value,
        threshold=f">= {need:g} (orders of magnitude)",
        reproduced=bool(np.isfinite(value) and value >= need),
        detail="; ".join(f"N={n}: " + ", ".join(f"D={D}: {g:+.1f}" for D, g in row.items() if np.isfinite(g))
                         for n, row in gains.iterrows()),
    )


def _gd_matches_flow(t: Tables, th: Th) -> Measurement:
    gd = _rows(t["diagonal_sweep"], "gd")
    tol = float(th["gd_vs_flow_rtol"])
    if not len(gd):
        return Measurement("max relative distance GD to flow limit", float("nan"), f"<= {tol:g}", False,
                           "no GD points configured")
    return _distance_check(
        gd, "alpha", tol,
        "max over GD points of ||beta_GD - beta_flow|| / ||beta_flow|| (flow limit = min-Q, Thm 1)", "GD run",
    )


CLAIMS: list[Claim] = [
    Claim("thm1-thm3-flow-is-min-Q", "Section 4-5, Theorems 1 and 3",
          "The gradient-flow limit from scale alpha is the min-Q^D_alpha interpolant, for every alpha and D.",
          ("diagonal_sweep",), _flow_equals_min_q),
    Claim("fig1b-rich-limit-l1", "Section 4, Figure 1(b)",
          "As alpha -> 0 the excess l1 norm of the flow solution goes to 0, monotonically; for D = 2 it is "
          "small only at exponentially small alpha.",
          ("diagonal_sweep", "diagonal_refs"), _rich_limit),
    Claim("fig1b-kernel-limit-l2", "Section 4, Figure 1(b)",
          "As alpha -> inf the excess l2 norm of the flow solution goes to 0.",
          ("diagonal_sweep", "diagonal_refs"), _kernel_limit),
    Claim("thm2-thresholds", "Section 4, Theorem 2",
          "Below alpha_l1(eps) the solution's l1 norm is within (1+eps) of min-l1; above alpha_l2(eps) its "
          "squared l2 norm is within (1+eps) of min-l2.",
          ("diagonal_sweep",), _theorem2),
    Claim("fig1a-generalisation", "Section 4, Figure 1(a)",
          "With N << d, small alpha reaches low population error and large alpha does not.",
          ("diagonal_sweep",), _generalisation),
    Claim("fig3c-depth-gain", "Section 5, Figure 3(c)",
          "At equal N, the largest admissible alpha^D for D >= 3 is orders of magnitude larger than for D = 2.",
          ("diagonal_threshold",), _depth_gain),
    Claim("gd-agrees-with-flow", "Section 4, Figure 1(a)",
          "Gradient descent with a small step ends where gradient flow does.",
          ("diagonal_sweep",), _gd_matches_flow),
]
