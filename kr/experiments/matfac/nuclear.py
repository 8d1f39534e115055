"""Reference completions for Figure 5 (Section 6), through cvxpy.

* :func:`min_nuclear_completion` -- ``argmin ||M||_* s.t. M_ij = Y_ij on the
  observed entries``: the rich limit (it recovers a rank-1 ``Y*`` from enough
  entries, Section 6 "Low-Rank Matrix Completion");
* :func:`min_frobenius_completion` -- ``argmin ||M - M0||_F s.t. the same``:
  the kernel-regime prediction (``M0 = M(0)``; ``M0 = 0`` gives the min
  Frobenius-norm completion, zeros on the unobserved entries).  The closed
  form is :func:`kr.experiments.matfac.metrics.kernel_prediction`; ``solver="closed_form"`` uses it.

Examples
--------
>>> from kr.experiments.matfac.problems import make_completion_problem
>>> p = make_completion_problem(5, 20, seed=0)
>>> res = min_frobenius_completion(p, solver="closed_form")
>>> bool(np.all(res.M[~p.mask] == 0)), res.converged
(True, True)
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from kr.experiments.matfac.metrics import kernel_prediction, nuclear_norm
from kr.experiments.matfac.problems import Array, CompletionProblem


@dataclasses.dataclass(frozen=True)
class CompletionResult:
    """A reference completion: the matrix, its objective, and solver status."""

    M: Array
    objective: float
    converged: bool
    residual: float
    method: str
    status: str
    wall_time_s: float


def _solver() -> str:
    import cvxpy as cp

    for name in ("CLARABEL", "SCS"):
        if name in cp.installed_solvers():
            return name
    raise RuntimeError(f"no SDP-capable solver among {cp.installed_solvers()}")


def _solve(objective_fn: str, problem: CompletionProblem, M0: Array | None) -> CompletionResult:
    import cvxpy as cp

    t0 = time.perf_counter()
    d = problem.d
    X = cp.Variable((d, d))
    cons = [X[problem.rows, problem.cols] == problem.y]
    if objective_fn == "nuclear":
        obj = cp.normNuc(X)
    else:
        obj = cp.sum_squares(X - (np.zeros((d, d)) if M0 is None else M0))
    prob = cp.Problem(cp.Minimize(obj), cons)
    name = _solver()
    # Clarabel's defaults (1e-8 gaps): tighter ones end "optimal_inaccurate" on these SDPs.
    opts = {} if name == "CLARABEL" else {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 100_000}
    try:
        with warnings.catch_warnings():  # "may be inaccurate": the status and residual say so
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(solver=name, **opts)
        status = str(prob.status)
    except cp.error.SolverError as exc:  # pragma: no cover - solver failure path
        status = f"solver error: {exc}"
    M = np.full((d, d), np.nan) if X.value is None else np.asarray(X.value, dtype=np.float64)
    residual = float(np.linalg.norm(problem.residual(M))) if X.value is not None else float("nan")
    objective = nuclear_norm(M) if objective_fn == "nuclear" and X.value is not None else (
        float(np.linalg.norm(M - (0 if M0 is None else M0))) if X.value is not None else float("nan"))
    # "optimal_inaccurate" counts only when the constraints hold to 1e-6 relative.
    ok = status == cp.OPTIMAL or (status == cp.OPTIMAL_INACCURATE
                                  and residual <= 1e-6 * max(1.0, float(np.linalg.norm(problem.y))))
    return CompletionResult(M=M, objective=objective, converged=bool(ok),
                            residual=residual, method=f"cvxpy:{name}", status=status,
                            wall_time_s=time.perf_counter() - t0)


def min_nuclear_completion(problem: CompletionProblem) -> CompletionResult:
    """``argmin ||M||_* s.t. M = Y*`` on the observed entries (an SDP, cvxpy)."""
    return _solve("nuclear", problem, None)


def min_frobenius_completion(
    problem: CompletionProblem, M0: Array | None = None, *, solver: str = "cvxpy"
) -> CompletionResult:
    """``argmin ||M - M0||_F s.t. M = Y*`` on the observed entries (``M0 = 0`` by default).

    ``solver="cvxpy"`` solves the QP; ``"closed_form"`` returns ``M0`` with the
    observed entries replaced (:func:`kr.experiments.matfac.metrics.kernel_prediction`).
    """
    if solver not in ("cvxpy", "closed_form"):
        raise ValueError(f"solver must be 'cvxpy' or 'closed_form', got {solver!r}")
    base = np.zeros((problem.d, problem.d)) if M0 is None else np.asarray(M0, dtype=np.float64)
    if base.shape != (problem.d, problem.d):
        raise ValueError(f"M0 must be ({problem.d}, {problem.d}), got {base.shape}")
    if solver == "cvxpy":
        return _solve("frobenius", problem, base)
    t0 = time.perf_counter()
    M = kernel_prediction(problem, base)
    return CompletionResult(M=M, objective=float(np.linalg.norm(M - base)), converged=True,
                            residual=float(np.linalg.norm(problem.residual(M))), method="closed_form",
                            status="optimal", wall_time_s=time.perf_counter() - t0)


def reference_row(problem: CompletionProblem) -> dict[str, float | bool | str]:
    """Nuclear and Frobenius references of one problem, as a tidy row (rule ``matfac_refs``)."""
    nuc = min_nuclear_completion(problem)
    fro = min_frobenius_completion(problem)
    nY = nuclear_norm(problem.Y)
    un = ~problem.mask
    return {
        "nuclear_norm_Y": nY,
        "min_nuclear_norm": nuc.objective,
        "min_nuclear_excess": nuc.objective - nY,
        "min_nuclear_rms_recovery_error": float(np.sqrt(np.mean((nuc.M - problem.Y)[un] ** 2))),
        "min_frobenius_excess_nuclear": nuclear_norm(fro.M) - nY,
        "min_frobenius_rms_recovery_error": float(np.sqrt(np.mean((fro.M - problem.Y)[un] ** 2))),
        "nuclear_method": nuc.method,
        "nuclear_status": nuc.status,
        "frobenius_status": fro.status,
        "wall_time_s": nuc.wall_time_s + fro.wall_time_s,
        "converged": bool(nuc.converged and fro.converged),
    }
