"""Figure 5's metrics (Section 6): nuclear norm, the kernel-regime prediction, movement of the entries.

The rich limit (``alpha^2 k = sigma sqrt(k) -> 0``) is nuclear-norm
minimisation, so ``||M||_* - ||Y*||_*`` measures the distance from it
(Figure 5, left); the kernel regime (``sigma sqrt(k) -> inf``) is the
min-``||M - M(0)||_F`` completion, which leaves the unobserved entries at
``M(0)`` (Figure 5, right).  numpy only.

>>> from kr.experiments.matfac.problems import make_completion_problem
>>> p = make_completion_problem(4, 6, seed=0)
>>> round(nuclear_norm(np.diag([3.0, -4.0])), 12)
7.0
>>> m = completion_metrics(p, p.Y, np.zeros((4, 4)))  # M = Y*: no excess, recovered
>>> bool(abs(m["excess_nuclear"]) < 1e-12), m["rms_recovery_error"]
(True, 0.0)
>>> completion_metrics(p, kernel_prediction(p, np.zeros((4, 4))), np.zeros((4, 4)))["rms_unobserved_movement"]
0.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from kr.experiments.matfac.problems import Array, CompletionProblem

__all__ = ["completion_metrics", "kernel_prediction", "nuclear_norm"]


def nuclear_norm(M: ArrayLike) -> float:
    """``||M||_*``, the sum of singular values (the rich limit's objective, Section 6)."""
    return float(np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False).sum())


def kernel_prediction(problem: CompletionProblem, M0: Array) -> Array:
    """The kernel-regime prediction ``argmin ||M - M(0)||_F s.t. observed entries = y`` (Section 6):
    ``M(0)`` with the observed entries replaced (the min Frobenius completion when ``M(0) = 0``)."""
    K = np.array(M0, dtype=np.float64)
    K[problem.rows, problem.cols] = problem.y
    return K


def completion_metrics(problem: CompletionProblem, M: Array, M0: Array) -> dict[str, float]:
    """Figure 5's metrics of a final ``M`` reached from ``M(0)``.

    * ``excess_nuclear`` = ``||M||_* - ||Y*||_*`` (Figure 5, left);
    * ``rms_unobserved_movement`` = RMS of ``M - M(0)`` on the unobserved entries (Figure 5, right);
    * ``rms_recovery_error`` = RMS of ``M - Y*`` on the unobserved entries;
    * ``train_loss`` = ``L(M)``;
    * ``kernel_excess_nuclear`` = excess nuclear norm of :func:`kernel_prediction` and
      ``normalised_excess`` = ``excess_nuclear / kernel_excess_nuclear`` (0: rich, 1: kernel);
    * ``movement_ratio`` = RMS movement on unobserved / RMS movement on observed entries.
    """
    mask = problem.mask
    un = ~mask
    nuc_Y = nuclear_norm(problem.Y)
    excess = nuclear_norm(M) - nuc_Y
    K_excess = nuclear_norm(kernel_prediction(problem, M0)) - nuc_Y
    move = M - M0
    rms_un = float(np.sqrt(np.mean(move[un] ** 2))) if un.any() else 0.0
    rms_ob = float(np.sqrt(np.mean(move[mask] ** 2)))
    return {
        "excess_nuclear": float(excess),
        "relative_excess_nuclear": float(excess / nuc_Y),
        "kernel_excess_nuclear": float(K_excess),
        "normalised_excess": float(excess / K_excess) if K_excess > 0 else float("nan"),
        "rms_unobserved_movement": rms_un,
        "rms_observed_movement": rms_ob,
        "movement_ratio": float(rms_un / rms_ob) if rms_ob > 0 else float("nan"),
        "rms_recovery_error": float(np.sqrt(np.mean((M - problem.Y)[un] ** 2))) if un.any() else 0.0,
        "train_loss": float(problem.loss(M)),
        "nuclear_norm": float(nuclear_norm(M)),
        "nuclear_norm_Y": float(nuc_Y),
        "M0_rms": float(np.sqrt(np.mean(M0**2))),
    }
