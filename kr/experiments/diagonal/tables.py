"""The diagonal-network experiment of Sections 4-5 (Figures 1(a-c), 3(c)).

Three routes to the solution reached from initialisation scale alpha:

* ``flow``   - exact gradient flow (:func:`kr.experiments.diagonal.flow.diagonal_flow`);
* ``newton`` - the convex characterisation min Q^D_alpha s.t. X beta = y
  (Theorems 1 and 3), solved on its dual (:func:`kr.reference.min_Q`);
* ``gd``     - plain gradient descent in torch (:func:`kr.experiments.diagonal.flow.diagonal_gd`).

Each function returns tidy rows (one per point) with the metrics of
:func:`point_metrics`; the workflow writes them with :mod:`kr.results`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kr.experiments.diagonal.data import SparseRegression, sparse_regression
from kr.experiments.diagonal.specs import GDSpec, ProblemSpec, ThresholdSpec
from kr.reference import min_l1, min_l2, min_Q

Array = NDArray[np.float64]


def make_problem(spec: ProblemSpec, n: int, seed: int) -> SparseRegression:
    """The Section 4 sparse regression problem with ``n`` samples."""
    return sparse_regression(d=spec.d, n=int(n), r_star=spec.r_star, seed=int(seed), noise_var=spec.noise_var)


def reference_rows(problem: SparseRegression) -> tuple[pd.DataFrame, dict[str, Array]]:
    """min-l1 (LP) and min-l2 (closed form) solutions: tidy rows and the betas."""
    rows, betas = [], {}
    for name, solve in (("l1", min_l1), ("l2", min_l2)):
        res = solve(problem.X, problem.y)
        betas[name] = res.beta
        rows.append(
            {
                "solution": name,
                "method": res.method,
                "population_error": float(problem.population_error(res.beta)),
                "l1_norm": float(np.abs(res.beta).sum()),
                "l2_norm": float(np.linalg.norm(res.beta)),
                "residual": float(res.residual),
                "wall_time_s": float(res.wall_time_s),
                "converged": bool(res.converged),
            }
        )
    return pd.DataFrame(rows), betas


def point_metrics(
    beta: Array, problem: SparseRegression, beta_l1: Array, beta_l2: Array, beta_Q: Array | None
) -> dict[str, float]:
    """Metrics of one solution (Figure 1(a), 1(b) and the flow = min-Q check)."""
    beta = np.asarray(beta, dtype=np.float64)
    out = {
        "population_error": float(problem.population_error(beta)),
        "train_residual": float(np.linalg.norm(problem.X @ beta - problem.y)),
        "l1_norm": float(np.abs(beta).sum()),
        "l2_norm": float(np.linalg.norm(beta)),
        "excess_l1": float(np.abs(beta).sum() - np.abs(beta_l1).sum()),
        "excess_l2": float(np.linalg.norm(beta) - np.linalg.norm(beta_l2)),
        "rel_dist_to_min_Q": np.nan,
    }
    if beta_Q is not None:
        scale = max(float(np.linalg.norm(beta_Q)), np.finfo(float).tiny)
        out["rel_dist_to_min_Q"] = float(np.linalg.norm(beta - beta_Q) / scale)
    return out


def sweep_rows(
    problem: SparseRegression,
    alphas: Sequence[float],
    D: int,
    betas_ref: dict[str, Array],
    *,
    flow_tol: float,
    progress: bool = False,
) -> pd.DataFrame:
    """Exact flow and min-Q (Newton) at every alpha: two rows per alpha.

    ``rel_dist_to_min_Q`` of the flow row is the Theorem 1/3 check.
    """
    from kr.experiments.diagonal.flow import diagonal_flow

    from tqdm.auto import tqdm

    it: Iterable[float] = alphas
    if progress:
        it = tqdm(alphas, desc=f"alpha sweep D={D}", unit="alpha")
    rows = []
    for alpha in it:
        ref = min_Q(problem.X, problem.y, float(alpha), D=D, solver="newton")
        flow = diagonal_flow(problem.X, problem.y, float(alpha), D=D, tol=flow_tol)
        for method, beta, converged, wall, extra in (
            ("newton", ref.beta, ref.converged, ref.wall_time_s, {"iterations": ref.iterations}),
            ("flow", flow.beta, flow.converged, flow.wall_time_s, {"iterations": flow.steps, "flow_time": flow.t}),
        ):
            rows.append(
                {
                    "method": method,
                    "alpha": float(alpha),
                    "alpha_D": float(alpha) ** D,
                    **point_metrics(beta, problem, betas_ref["l1"], betas_ref["l2"], None if method == "newton" else ref.beta),
                    "wall_time_s": float(wall),
                    "converged": bool(converged),
                    **extra,
                }
            )
    return pd.DataFrame(rows)


def largest_alpha(
    problem: SparseRegression,
    D: int,
    threshold: float,
    log10_alpha_D_bounds: tuple[float, float],
    iterations: int,
) -> dict[str, Any]:
    """Largest alpha whose min-Q solution has population error <= threshold.

    Bisection in log10 alpha on the fast (Newton) path, within
    ``10**log10_alpha_D_bounds`` for alpha^D (the scale of beta at
    initialisation, Figure 3(c)), assuming - as in
    Figure 1(c) - that the error grows with alpha.  ``reached`` is False when
    even the smallest alpha misses the threshold; ``converged`` is False when
    a Newton solve on the way did not converge.
    """
    start = time.perf_counter()
    lo, hi = (float(b) / D for b in log10_alpha_D_bounds)
    all_converged = True

    def err(log10a: float) -> float:
        nonlocal all_converged
        res = min_Q(problem.X, problem.y, 10.0**log10a, D=D, solver="newton")
        all_converged &= bool(res.converged)
        return float(problem.population_error(res.beta))

    err_lo, err_hi = err(lo), err(hi)
    if err_lo > threshold:
        best, reached = np.nan, False
    elif err_hi <= threshold:
        best, reached = hi, True
    else:
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            if err(mid) <= threshold:
                lo = mid
            else:
                hi = mid
        best, reached = lo, True
    return {
        "log10_alpha_max": best,
        "alpha_max": 10.0**best if reached else np.nan,
        "alpha_max_D": 10.0 ** (D * best) if reached else np.nan,
        "reached": reached,
        "error_at_smallest_alpha": err_lo,
        "error_at_largest_alpha": err_hi,
        "wall_time_s": time.perf_counter() - start,
        "converged": all_converged,
    }


def threshold_rows(spec: ThresholdSpec, D: int, seed: int) -> pd.DataFrame:
    """Figure 1(c) / 3(c) rows for every N of the config, one depth and seed.

    Also records the min-l1 population error per N, for the dashed line (the
    smallest N at which beta_l1 reaches the threshold).
    """
    rows = []
    for n in spec.N:
        problem = make_problem(spec.problem, n, seed)
        l1 = min_l1(problem.X, problem.y)
        row = largest_alpha(problem, D, spec.error_threshold, spec.log10_alpha_D_bounds, spec.bisection_iterations)
        rows.append({"N": int(n), "D": int(D), "seed": int(seed), "d": spec.problem.d,
                     "error_threshold": spec.error_threshold,
                     "l1_population_error": float(problem.population_error(l1.beta)), **row})
    return pd.DataFrame(rows)


def gd_rows(
    problem: SparseRegression,
    alphas: Sequence[float],
    D: int,
    betas_ref: dict[str, Array],
    gd: GDSpec,
    *,
    progress: bool = False,
) -> pd.DataFrame:
    """Plain GD at the given alphas (one batched run), with the same metrics."""
    from kr.devices import resolve_device
    from kr.experiments.diagonal.flow import diagonal_gd

    device = resolve_device(gd.device)  # auto -> cuda or cpu, on the machine running the job
    res = diagonal_gd(
        problem.X, problem.y, list(map(float, alphas)), D=D, lr=gd.lr,
        max_steps=gd.max_steps, tol=gd.tol, device=device, progress=progress,
    )
    rows = []
    for i, alpha in enumerate(alphas):
        ref = min_Q(problem.X, problem.y, float(alpha), D=D, solver="newton")
        rows.append(
            {
                "method": "gd",
                "alpha": float(alpha),
                "alpha_D": float(alpha) ** D,
                **point_metrics(res.beta[i], problem, betas_ref["l1"], betas_ref["l2"], ref.beta),
                "wall_time_s": float(res.wall_time_s),
                "converged": bool(res.converged[i]),
                "iterations": int(res.steps[i]),
                "lr": float(res.lr[i]),
                "device": device,
            }
        )
    return pd.DataFrame(rows)


def theorem2_rows(
    problem: SparseRegression,
    betas_ref: dict[str, Array],
    eps_values: Sequence[float],
    *,
    min_log10_alpha: float = -30.0,
) -> pd.DataFrame:
    """Theorem 2 on this data: min-Q (D = 2) at both sufficient thresholds.

    At alpha = alpha_l1_sufficient(eps) the solution must satisfy
    ||beta||_1 <= (1 + eps)||beta_l1||_1; at alpha = alpha_l2_sufficient(eps),
    ||beta||_2^2 <= (1 + eps)||beta_l2||_2^2.  ``bound_ratio`` is the left side
    over the right side (<= 1 when the theorem holds).  A threshold below
    ``10**min_log10_alpha`` (outside the range where the Newton solver is
    validated; for d = 1000 and eps <= 2 it is below 1e-80) is recorded with
    ``checked = False`` and its ``log10_alpha``, not solved.
    """
    from kr.theory import alpha_l2_sufficient, log_alpha_l1_sufficient

    d = problem.X.shape[1]
    l1 = float(np.abs(betas_ref["l1"]).sum())
    l2 = float(np.linalg.norm(betas_ref["l2"]))
    rows = []
    for eps in eps_values:
        log10_l1 = log_alpha_l1_sufficient(eps, l1, d) / np.log(10.0)
        for kind, log10_a in (("l1", log10_l1), ("l2", np.log10(alpha_l2_sufficient(eps, l2)))):
            row: dict[str, Any] = {"method": f"theorem2_{kind}", "eps": float(eps), "log10_alpha": float(log10_a)}
            if log10_a < min_log10_alpha:
                row.update(alpha=0.0, alpha_D=0.0, bound_ratio=np.nan, checked=False, converged=True)
            else:
                alpha = 10.0**log10_a
                res = min_Q(problem.X, problem.y, alpha, D=2, solver="newton")
                if kind == "l1":
                    ratio = np.abs(res.beta).sum() / ((1 + eps) * l1)
                else:
                    ratio = (res.beta @ res.beta) / ((1 + eps) * l2**2)
                row.update(alpha=alpha, alpha_D=alpha**2, bound_ratio=float(ratio), checked=True,
                           converged=bool(res.converged),
                           **point_metrics(res.beta, problem, betas_ref["l1"], betas_ref["l2"], None))
            rows.append(row)
    return pd.DataFrame(rows)
