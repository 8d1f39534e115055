"""Accuracy of the min-Q solvers: Newton against both cvxpy formulations (kr.reference).

Prints the "Accuracy" table of the :mod:`kr.reference` docstring: for each
depth D and alpha, the worst case over seeds of Newton's relative residual,
its KKT residual and iterations, and the relative distance of the cvxpy
dual / primal solutions to Newton's, on Section 4's sparse regression.

    python benchmarks/reference_accuracy.py
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from kr import reference as ref
from kr.experiments.diagonal.data import sparse_regression


def accuracy_rows(
    d: int = 200,
    N: int = 40,
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    log10_alphas: range = range(-6, 4),
    depths: tuple[int, ...] = (2, 3),
) -> list[dict[str, float]]:
    """Worst case over ``seeds`` of: Newton's ``||X beta - y|| / ||y||``, its
    KKT residual ``||P_null grad Q|| / ||grad Q||`` and iterations, and
    ``||beta_cvx - beta_newton|| / ||beta_newton||`` for both formulations."""
    rows: list[dict[str, float]] = []
    problems = [(pb.X, pb.y) for pb in (sparse_regression(d, N, 5, seed) for seed in seeds)]
    nulls = [scipy.linalg.null_space(X) for X, _ in problems]
    for D in depths:
        for k in log10_alphas:
            alpha = 10.0**k
            row = {"D": D, "log10_alpha": k, "res": 0.0, "kkt": 0.0, "it": 0, "dual": 0.0, "primal": 0.0}
            for (X, y), Z in zip(problems, nulls):
                nt = ref.min_Q(X, y, alpha, D)
                g = ref.regulariser_grad(nt.beta, alpha, D)
                row["res"] = max(row["res"], nt.residual / np.linalg.norm(y))
                row["kkt"] = max(row["kkt"], float(np.linalg.norm(Z.T @ g) / np.linalg.norm(g)))
                row["it"] = max(row["it"], nt.iterations)
                for form in ("dual", "primal"):
                    cv = ref.min_Q(X, y, alpha, D, solver="cvxpy", formulation=form)
                    err = float(np.linalg.norm(cv.beta - nt.beta) / np.linalg.norm(nt.beta))
                    row[form] = max(row[form], err if np.isfinite(err) else np.inf)
            rows.append(row)
    return rows


def main() -> None:
    """Print the Accuracy table of the kr.reference docstring."""
    print(f"conic solver: {ref.conic_solver()}")
    print("| D | alpha | newton resid/norm(y) | newton KKT | newton it | cvxpy dual | cvxpy primal | auto |")
    print("|---|---|---|---|---|---|---|---|")
    for r in accuracy_rows():
        auto = ref._auto_formulation(10.0 ** r["log10_alpha"], r["D"])
        print(f"| {r['D']} | 1e{r['log10_alpha']:+d} | {r['res']:.0e} | {r['kkt']:.0e} | {r['it']} "
              f"| {r['dual']:.0e} | {r['primal']:.0e} | {auto} |")


if __name__ == "__main__":
    main()
