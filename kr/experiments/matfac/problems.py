"""The measurement problems of Section 6: matrix completion (Figure 5) and diagonal measurements (Theorem 4).

Both are linear measurements ``y_n = <X_n, Y*>`` of a ``d x d`` matrix with
the loss ``L(M) = sum_n (<X_n, M> - y_n)^2`` (no 1/2), whose gradient is
``G = grad_M L = 2 sum_n r_n X_n`` with ``r_n = <X_n, M> - y_n``.  Both
expose ``residual``, ``loss``, ``grad`` and the gradient's support
(``grad_support``, ``grad_values``), which the simulators use:

* :class:`CompletionProblem` -- matrix completion, ``X_n = e_i e_j^T`` on N
  distinct entries of a rank-1 ``Y* = u v^T`` (Figure 5);
* :class:`DiagonalProblem` -- commutative measurements ``X_n = diag(x_n)``
  (Theorem 4).

Import-light: numpy only (no torch, no scipy).

>>> p = make_completion_problem(4, 6, seed=0)
>>> p.loss(p.Y), float(np.abs(p.grad(np.zeros((4, 4)))).sum()) == float(2 * np.abs(p.y).sum())
(0.0, True)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Array",
    "CompletionProblem",
    "DiagonalProblem",
    "Problem",
    "check_int",
    "completion_problem",
    "make_completion_problem",
    "make_diagonal_problem",
]

Array = NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class CompletionProblem:
    """Matrix completion (Section 6, Figure 5): observe ``y_n = Y[rows_n, cols_n]`` for N distinct entries."""

    Y: Array
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]

    @property
    def d(self) -> int:
        return int(self.Y.shape[0])

    @property
    def N(self) -> int:
        return int(self.rows.size)

    @property
    def y(self) -> Array:
        return self.Y[self.rows, self.cols]

    @property
    def mask(self) -> NDArray[np.bool_]:
        """Boolean (d, d) mask of the observed entries."""
        m = np.zeros(self.Y.shape, dtype=bool)
        m[self.rows, self.cols] = True
        return m

    def residual(self, M: Array) -> Array:
        """``r_n = M[i_n, j_n] - y_n``."""
        return M[self.rows, self.cols] - self.y

    def loss(self, M: Array) -> float:
        """``L(M) = sum_n r_n^2``."""
        r = self.residual(M)
        return float(r @ r)

    def grad(self, M: Array) -> Array:
        """``grad_M L = 2 sum_n r_n e_i e_j^T``."""
        G = np.zeros_like(M)
        G[self.rows, self.cols] = 2.0 * self.residual(M)
        return G

    def grad_support(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Entries of ``M`` where ``grad_M L`` can be non-zero."""
        return self.rows, self.cols

    def grad_values(self, r: Array) -> Array:
        """``grad_M L`` on :meth:`grad_support`, from the residual ``r``."""
        return 2.0 * r


@dataclasses.dataclass(frozen=True)
class DiagonalProblem:
    """Commutative measurements ``X_n = diag(x_n)``: ``<X_n, M> = x_n . diag(M)`` (Section 6, Theorem 4)."""

    X: Array  # (N, d): row n is diag(X_n)
    y: Array  # (N,)

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def N(self) -> int:
        return int(self.X.shape[0])

    def residual(self, M: Array) -> Array:
        """``r = X diag(M) - y``."""
        return self.X @ np.diagonal(M) - self.y

    def loss(self, M: Array) -> float:
        """``L(M) = ||r||^2``."""
        r = self.residual(M)
        return float(r @ r)

    def grad(self, M: Array) -> Array:
        """``grad_M L = 2 diag(X^T r)``."""
        return np.diag(2.0 * self.X.T @ self.residual(M))

    def grad_support(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Entries of ``M`` where ``grad_M L`` can be non-zero (the diagonal)."""
        i = np.arange(self.d, dtype=np.int64)
        return i, i

    def grad_values(self, r: Array) -> Array:
        """``grad_M L`` on :meth:`grad_support`, from the residual ``r``."""
        return 2.0 * (self.X.T @ r)


Problem = CompletionProblem | DiagonalProblem
"""Either measurement problem (what the simulators accept)."""


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int >= minimum`` (integral floats such as ``10.0`` accepted); else ValueError naming it.

    >>> check_int("k", 10.0, 1)
    10
    >>> check_int("k", 2.5, 1)
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 1, got 2.5
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
        if not f.is_integer():
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        value = int(f)
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def completion_problem(Y: ArrayLike, rows: ArrayLike, cols: ArrayLike) -> CompletionProblem:
    """A validated :class:`CompletionProblem` (square finite ``Y``, distinct in-range entries).

    >>> completion_problem(np.eye(2), [0, 0], [1, 1])
    Traceback (most recent call last):
    ...
    ValueError: observed entries must be distinct: (0, 1) appears more than once
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[0] != Y.shape[1] or Y.shape[0] < 1:
        raise ValueError(f"Y must be a square (d, d) matrix, got shape {Y.shape}")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y must be finite")
    r = np.asarray(rows).astype(np.int64).ravel()
    c = np.asarray(cols).astype(np.int64).ravel()
    d = Y.shape[0]
    if r.size != c.size or r.size == 0:
        raise ValueError(f"rows and cols must be non-empty and of equal length, got {r.size} and {c.size}")
    if r.size > d * d:
        raise ValueError(f"N = {r.size} observed entries exceed the d^2 = {d * d} entries of a {d}x{d} matrix")
    if r.min() < 0 or c.min() < 0 or r.max() >= d or c.max() >= d:
        raise ValueError(f"observed entries must lie in [0, {d}) x [0, {d})")
    flat = r * d + c
    uniq, counts = np.unique(flat, return_counts=True)
    if np.any(counts > 1):
        dup = int(uniq[np.argmax(counts > 1)])
        raise ValueError(f"observed entries must be distinct: {(dup // d, dup % d)} appears more than once")
    return CompletionProblem(Y=Y, rows=r, cols=c)


def make_completion_problem(d: int, N: int, seed: int) -> CompletionProblem:
    """Figure 5's problem: ``Y* = u v^T``, ``u, v ~ N(0, I_d)``, N entries drawn without replacement.

    >>> p = make_completion_problem(10, 60, seed=0)
    >>> p.N, int(p.mask.sum()), int(np.linalg.matrix_rank(p.Y))
    (60, 60, 1)
    >>> make_completion_problem(3, 10, seed=0)
    Traceback (most recent call last):
    ...
    ValueError: N = 10 observed entries exceed the d^2 = 9 entries of a 3x3 matrix
    """
    d = check_int("d", d, 1)
    N = check_int("N", N, 1)
    if N > d * d:
        raise ValueError(f"N = {N} observed entries exceed the d^2 = {d * d} entries of a {d}x{d} matrix")
    rng = np.random.default_rng([int(seed), 0])
    u, v = rng.standard_normal(d), rng.standard_normal(d)
    flat = np.sort(rng.choice(d * d, size=N, replace=False))
    return completion_problem(np.outer(u, v), flat // d, flat % d)


def make_diagonal_problem(d: int, N: int, seed: int) -> DiagonalProblem:
    """Theorem 4's problem: ``x_n ~ N(0, I_d)``, ``y = X beta*`` with ``beta* ~ N(0, I_d)``, N < d.

    >>> p = make_diagonal_problem(6, 3, seed=1)
    >>> p.X.shape, p.y.shape
    ((3, 6), (3,))
    """
    d = check_int("d", d, 1)
    N = check_int("N", N, 1)
    rng = np.random.default_rng([int(seed), 1])
    X = rng.standard_normal((N, d))
    beta = rng.standard_normal(d)
    return DiagonalProblem(X=X, y=X @ beta)
