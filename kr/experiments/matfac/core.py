"""Width vs scale in matrix factorisation (Section 6, Figure 5, Theorem 4).

Model: ``M = U V^T`` with ``U, V`` in ``R^{d x k}``, i.i.d. ``N(0, alpha^2)``
entries, loss ``L = sum_n (<X_n, M> - y_n)^2`` (no 1/2), gradient
``G = grad_M L = 2 sum_n r_n X_n`` with ``r_n = <X_n, M> - y_n``.

Two kinds of measurements (both expose ``residual``, ``loss``, ``grad``):

* :class:`CompletionProblem` -- matrix completion, ``X_n = e_i e_j^T`` on N
  distinct entries of a rank-1 ``Y* = u v^T`` (Figure 5);
* :class:`DiagonalProblem` -- commutative measurements ``X_n = diag(x_n)``
  (Theorem 4).

Three simulators of gradient descent / flow on ``(U, V)``:

* :func:`direct_gd` -- the paper's method: GD on ``(U, V)`` in torch (CPU or
  CUDA), ``U <- U - lr G V``, ``V <- V - lr G^T U``; cost ``O(d^2 k)`` a step.
* :func:`lifted_gd` -- the same iterates, exactly, on the lifted matrix
  ``Mbar = W W^T`` (``W = [U; V]``): GD is ``W <- (I - lr Gbar) W`` with
  ``Gbar = [[0, G], [G^T, 0]]``, hence ``Mbar <- (I - lr Gbar) Mbar (I - lr Gbar)^T``
  and ``M`` is the off-diagonal block of ``Mbar`` (Section 6, "Lifted symmetric
  factorization").  After the ``O(d^2 k)`` product ``W W^T`` a step costs
  ``O(d^3)``, independent of the width k.
* :func:`lifted_flow` -- the gradient-flow limit
  ``dMbar/dt = -(Gbar Mbar + Mbar Gbar)`` with an adaptive explicit
  Runge-Kutta solver (``scipy.integrate.solve_ivp``, DOP853), stopped by an
  event at ``L <= tol``.

Initial scales: ``sigma = alpha^2 sqrt(k)`` (the scale of ``M(0)``,
Section 6) and ``alpha^2 k = sigma sqrt(k)`` (the scale of ``Mbar(0)``,
whose diagonal blocks concentrate at ``alpha^2 k I``).  Theorem 4 uses
``mu^2 = sigma sqrt(k) / 2 = alpha^2 k / 2``.

Examples
--------
>>> p = make_completion_problem(d=4, N=10, seed=0)
>>> U, V = init_factors(4, 8, alpha=0.1, seed=0)
>>> a = lifted_gd(p, lifted_init(U, V), lr=1e-2, max_steps=300, tol=0.0)
>>> b = direct_gd(p, U, V, lr=1e-2, max_steps=300, tol=0.0)
>>> bool(np.max(np.abs(a.M - b.M)) < 1e-12), a.steps == b.steps == 300
(True, True)
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

DIVERGENCE_FACTOR = 1e8
"""A run whose loss exceeds ``DIVERGENCE_FACTOR * (L(0) + ||y||^2)`` (or is not finite) diverged."""


# --------------------------------------------------------------------------- #
# problems
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class CompletionProblem:
    """Matrix completion: observe ``y_n = Y[rows_n, cols_n]`` for N distinct entries."""

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
        return M[self.rows, self.cols] - self.y

    def loss(self, M: Array) -> float:
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
    """Commutative measurements ``X_n = diag(x_n)``: ``<X_n, M> = x_n . diag(M)`` (Theorem 4)."""

    X: Array  # (N, d): row n is diag(X_n)
    y: Array  # (N,)

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def N(self) -> int:
        return int(self.X.shape[0])

    def residual(self, M: Array) -> Array:
        return self.X @ np.diagonal(M) - self.y

    def loss(self, M: Array) -> float:
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


def _check_int(name: str, value: Any, minimum: int) -> int:
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
    d = _check_int("d", d, 1)
    N = _check_int("N", N, 1)
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
    d = _check_int("d", d, 1)
    N = _check_int("N", N, 1)
    rng = np.random.default_rng([int(seed), 1])
    X = rng.standard_normal((N, d))
    beta = rng.standard_normal(d)
    return DiagonalProblem(X=X, y=X @ beta)


# --------------------------------------------------------------------------- #
# initialisation and the lifted matrix
# --------------------------------------------------------------------------- #
def init_factors(d: int, k: int, alpha: float, seed: int) -> tuple[Array, Array]:
    """``U(0), V(0)`` with i.i.d. ``N(0, alpha^2)`` entries (float64).

    The standard normals depend on ``(seed, k)`` only, so every alpha at one
    width shares them (common random numbers across the heatmap's rows).

    >>> U, V = init_factors(3, 5, 0.5, seed=0)
    >>> U.shape, V.shape
    ((3, 5), (3, 5))
    >>> init_factors(3, 0, 0.5, seed=0)
    Traceback (most recent call last):
    ...
    ValueError: k (the width) must be an integer >= 1, got 0
    """
    d = _check_int("d", d, 1)
    k = _check_int("k (the width)", k, 1)
    alpha = float(alpha)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    rng = np.random.default_rng([int(seed), int(k), 2])
    Z = rng.standard_normal((2, d, k))
    return alpha * Z[0], alpha * Z[1]


def lifted_init(U: ArrayLike, V: ArrayLike) -> Array:
    """``Mbar(0) = W W^T`` with ``W = [U; V]`` (``2d x 2d``); ``M(0) = U V^T`` is its off-diagonal block."""
    U = np.asarray(U, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    if U.shape != V.shape or U.ndim != 2:
        raise ValueError(f"U and V must be (d, k) arrays of equal shape, got {U.shape} and {V.shape}")
    W = np.vstack([U, V])
    return W @ W.T


def off_block(Mbar: Array) -> Array:
    """``M``, the upper-right ``d x d`` block of ``Mbar``."""
    d = Mbar.shape[0] // 2
    return Mbar[:d, d:]


def _lifted_grad(problem: Problem, Mbar: Array) -> Array:
    d = problem.d
    G = problem.grad(Mbar[:d, d:])
    Gbar = np.zeros_like(Mbar)
    Gbar[:d, d:] = G
    Gbar[d:, :d] = G.T
    return Gbar


def auto_lr(problem: Problem, Mbar0: Array, scale: float = 0.1) -> float:
    """A stable step ``scale / (||Mbar(0)||_op + ||y||)`` (the loss Hessian's top eigenvalue is
    of order ``4 ||Mbar||_op``, and ``||Mbar||_op`` grows to about ``2 ||Y*||_op <~ 2 ||y||``).
    """
    return float(scale) / (float(np.linalg.norm(Mbar0, 2)) + float(np.linalg.norm(problem.y)))


# --------------------------------------------------------------------------- #
# simulators
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class RunResult:
    """Where a simulator stopped.  ``t`` is the flow time (``steps * lr`` for GD)."""

    M: Array
    Mbar: Array | None
    steps: int
    t: float
    loss: float
    converged: bool
    diverged: bool
    lr: float
    wall_time_s: float
    simulator: str


def _check_run(lr: float | None, max_steps: int, tol: float) -> None:
    if lr is not None and not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    _check_int("max_steps", max_steps, 1)
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")


def _stop_flags(loss: float, tol: float, limit: float) -> tuple[bool, bool]:
    """(converged, diverged) at a loss check: ``loss <= tol``, or non-finite / above ``limit``."""
    converged = loss <= tol
    return converged, not converged and (not np.isfinite(loss) or loss > limit)


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit="step", disable=not sys.stderr.isatty(), mininterval=2.0)


def lifted_gd(
    problem: Problem,
    Mbar0: Array,
    *,
    lr: float,
    max_steps: int,
    tol: float,
    check_every: int = 1,
    progress: bool = False,
) -> RunResult:
    """GD on ``(U, V)``, run exactly on ``Mbar = W W^T``: ``Mbar <- A Mbar A^T``, ``A = I - lr Gbar``.

    Stops at ``L <= tol`` (checked every ``check_every`` steps) or after
    ``max_steps``; ``converged`` says which.  ``tol = 0`` runs exactly
    ``max_steps`` steps (and reports ``converged = False`` unless L hits 0).
    """
    _check_run(lr, max_steps, tol)
    start = time.perf_counter()
    Mbar = np.array(Mbar0, dtype=np.float64)
    d = problem.d
    if Mbar.shape != (2 * d, 2 * d):
        raise ValueError(f"Mbar0 must be ({2 * d}, {2 * d}) for d = {d}, got {Mbar.shape}")
    # A = I - lr Gbar is kept in one buffer: only the gradient's support changes.
    gi, gj = problem.grad_support()
    A = np.eye(2 * d)
    up, lo = (gi, d + gj), (d + gj, gi)
    limit = DIVERGENCE_FACTOR * (problem.loss(Mbar[:d, d:]) + float(problem.y @ problem.y))
    bar = _progress(max_steps, "lifted GD", progress)
    steps, loss, converged, diverged = 0, problem.loss(Mbar[:d, d:]), False, False
    while True:
        r = problem.residual(Mbar[:d, d:])
        if steps % check_every == 0 or steps == max_steps:
            loss = float(r @ r)
            converged, diverged = _stop_flags(loss, tol, limit)
            if converged or diverged:
                break
        if steps >= max_steps:
            break
        g = -lr * problem.grad_values(r)
        A[up] = g
        A[lo] = g
        Mbar = A @ Mbar @ A.T
        steps += 1
        if bar is not None and steps % 10000 == 0:
            bar.update(10000)
    if bar is not None:
        bar.close()
    return RunResult(M=Mbar[:d, d:].copy(), Mbar=Mbar, steps=steps, t=steps * lr, loss=float(loss),
                     converged=converged, diverged=diverged, lr=float(lr),
                     wall_time_s=time.perf_counter() - start, simulator="lifted")


def _torch_grad(problem: Problem, device: Any, dtype: Any) -> Callable[[Any], tuple[Any, Any]]:
    """``M -> (G, loss)`` in torch for either problem type."""
    import torch

    if isinstance(problem, CompletionProblem):
        rows = torch.as_tensor(problem.rows, device=device)
        cols = torch.as_tensor(problem.cols, device=device)
        y = torch.as_tensor(problem.y, device=device, dtype=dtype)

        def grad(M: Any) -> tuple[Any, Any]:
            r = M[rows, cols] - y
            G = torch.zeros_like(M)
            G[rows, cols] = 2.0 * r
            return G, r @ r

        return grad
    X = torch.as_tensor(problem.X, device=device, dtype=dtype)
    yd = torch.as_tensor(problem.y, device=device, dtype=dtype)

    def grad_diag(M: Any) -> tuple[Any, Any]:
        r = X @ torch.diagonal(M) - yd
        return torch.diag(2.0 * X.T @ r), r @ r

    return grad_diag


def direct_gd(
    problem: Problem,
    U0: ArrayLike,
    V0: ArrayLike,
    *,
    lr: float,
    max_steps: int,
    tol: float,
    check_every: int = 1,
    device: str = "cpu",
    progress: bool = False,
) -> RunResult:
    """The paper's GD on ``(U, V)`` in torch (float64; CPU or CUDA), same stopping rule as :func:`lifted_gd`."""
    import torch

    _check_run(lr, max_steps, tol)
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False")
    start = time.perf_counter()
    dtype = torch.float64
    U = torch.as_tensor(np.asarray(U0, dtype=np.float64), device=device).clone()
    V = torch.as_tensor(np.asarray(V0, dtype=np.float64), device=device).clone()
    if U.shape != V.shape or U.shape[0] != problem.d:
        raise ValueError(f"U0, V0 must be ({problem.d}, k), got {tuple(U.shape)} and {tuple(V.shape)}")
    grad = _torch_grad(problem, device, dtype)
    G, loss_t = grad(U @ V.T)
    loss0 = float(loss_t)
    limit = DIVERGENCE_FACTOR * (loss0 + float(problem.y @ problem.y))
    bar = _progress(max_steps, f"direct GD ({device})", progress)
    steps, loss, converged, diverged = 0, loss0, False, False
    with torch.no_grad():
        while True:
            if steps % check_every == 0 or steps == max_steps:
                loss = float(loss_t)
                converged, diverged = _stop_flags(loss, tol, limit)
                if converged or diverged:
                    break
            if steps >= max_steps:
                break
            U, V = U - lr * (G @ V), V - lr * (G.T @ U)
            G, loss_t = grad(U @ V.T)
            steps += 1
            if bar is not None and steps % 10000 == 0:
                bar.update(10000)
        M = (U @ V.T).cpu().numpy()
    if bar is not None:
        bar.close()
    return RunResult(M=M, Mbar=None, steps=steps, t=steps * lr, loss=float(loss), converged=converged,
                     diverged=diverged, lr=float(lr), wall_time_s=time.perf_counter() - start,
                     simulator="direct")


def lifted_flow(
    problem: Problem,
    Mbar0: Array,
    *,
    tol: float,
    t_max: float,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> RunResult:
    """Gradient flow ``dMbar/dt = -(Gbar Mbar + Mbar Gbar)`` (DOP853), stopped at ``L <= tol``.

    ``steps`` counts right-hand-side evaluations.  ``converged`` is False when
    ``t_max`` is reached first, or when the solver fails.
    """
    from scipy.integrate import solve_ivp

    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number for the flow, got {tol!r}")
    if not (np.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be a positive finite number, got {t_max!r}")
    start = time.perf_counter()
    d = problem.d
    n = 2 * d
    Mbar0 = np.asarray(Mbar0, dtype=np.float64)
    if Mbar0.shape != (n, n):
        raise ValueError(f"Mbar0 must be ({n}, {n}) for d = {d}, got {Mbar0.shape}")

    def rhs(_t: float, x: Array) -> Array:
        Mb = x.reshape(n, n)
        Gb = _lifted_grad(problem, Mb)
        P = Gb @ Mb
        return -(P + P.T).ravel()

    def event(_t: float, x: Array) -> float:
        return problem.loss(x.reshape(n, n)[:d, d:]) - tol

    event.terminal = True  # type: ignore[attr-defined]
    event.direction = -1  # type: ignore[attr-defined]
    if problem.loss(Mbar0[:d, d:]) <= tol:
        return RunResult(M=Mbar0[:d, d:].copy(), Mbar=Mbar0.copy(), steps=0, t=0.0,
                         loss=problem.loss(Mbar0[:d, d:]), converged=True, diverged=False, lr=0.0,
                         wall_time_s=time.perf_counter() - start, simulator="flow")
    sol = solve_ivp(rhs, (0.0, float(t_max)), Mbar0.ravel(), method="DOP853", rtol=rtol, atol=atol,
                    events=event, dense_output=False)
    Mbar = sol.y[:, -1].reshape(n, n)
    Mbar = 0.5 * (Mbar + Mbar.T)
    loss = problem.loss(Mbar[:d, d:])
    converged = bool(sol.status == 1 and loss <= tol * (1 + 1e-6))
    return RunResult(M=Mbar[:d, d:].copy(), Mbar=Mbar, steps=int(sol.nfev), t=float(sol.t[-1]), loss=float(loss),
                     converged=converged, diverged=not np.isfinite(loss), lr=0.0,
                     wall_time_s=time.perf_counter() - start, simulator="flow")


# --------------------------------------------------------------------------- #
# metrics
# --------------------------------------------------------------------------- #
def nuclear_norm(M: ArrayLike) -> float:
    """``||M||_*``, the sum of singular values."""
    return float(np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False).sum())


def kernel_prediction(problem: CompletionProblem, M0: Array) -> Array:
    """The kernel-regime prediction ``argmin ||M - M(0)||_F s.t. observed entries = y``:
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


# --------------------------------------------------------------------------- #
# experiment drivers (one grid point; Theorem 4 rows)
# --------------------------------------------------------------------------- #
def point_lr(problem: Problem, Mbar0: Array, lr: float | None, lr_scale: float) -> float:
    """The step used at a point: ``lr`` if given, else :func:`auto_lr` with ``lr_scale``."""
    return float(lr) if lr is not None else auto_lr(problem, Mbar0, lr_scale)


def run_point(
    spec: dict[str, Any],
    k: int,
    alpha: float,
    seed: int,
    simulator: str,
    *,
    device: str = "cpu",
    progress: bool = False,
    compare_lifted: bool = False,
) -> dict[str, Any]:
    """One Figure 5 point with ``simulator`` in {lifted, direct, flow}: a tidy row (config ``matfac``).

    With ``compare_lifted`` (direct only), lifted GD is also run for exactly
    the direct run's number of steps and ``max_abs_dev_lifted`` records
    ``max |M_direct - M_lifted|`` (and its relative version).
    """
    if simulator not in ("lifted", "direct", "flow"):
        raise ValueError(f"simulator must be 'lifted', 'direct' or 'flow', got {simulator!r}")
    k = _check_int("k (the width)", k, 1)
    problem = make_completion_problem(int(spec["d"]), int(spec["N"]), seed)
    U0, V0 = init_factors(problem.d, k, alpha, seed)
    Mbar0 = lifted_init(U0, V0)
    M0 = off_block(Mbar0).copy()
    tol = float(spec["loss_rtol"]) * float(problem.y @ problem.y)
    lr = point_lr(problem, Mbar0, spec.get("lr"), float(spec["lr_scale"]))
    max_steps = int(spec["max_steps"])
    check_every = int(spec["check_every"])
    if simulator == "lifted":
        res = lifted_gd(problem, Mbar0, lr=lr, max_steps=max_steps, tol=tol, check_every=check_every,
                        progress=progress)
    elif simulator == "direct":
        res = direct_gd(problem, U0, V0, lr=lr, max_steps=max_steps, tol=tol, check_every=check_every,
                        device=device, progress=progress)
    else:
        res = lifted_flow(problem, Mbar0, tol=tol, t_max=float(spec["flow_t_max"]))
    row: dict[str, Any] = {
        "simulator": simulator,
        "k": k,
        "alpha": float(alpha),
        "alpha2k": float(alpha) ** 2 * k,
        "sigma": float(alpha) ** 2 * np.sqrt(k),
        "seed": int(seed),
        "d": problem.d,
        "N": problem.N,
        **completion_metrics(problem, res.M, M0),
        "steps": res.steps,
        "flow_time": res.t,
        "lr": res.lr,
        "loss_tol": tol,
        "diverged": res.diverged,
        "device": device if simulator == "direct" else "cpu",
        "wall_time_s": res.wall_time_s,
        "max_abs_dev_lifted": float("nan"),
        "rel_dev_lifted": float("nan"),
        "converged": bool(res.converged),
    }
    if compare_lifted and simulator == "direct":
        ref = lifted_gd(problem, Mbar0, lr=lr, max_steps=max(res.steps, 1), tol=0.0)
        if res.steps == 0:
            ref = dataclasses.replace(ref, M=M0)
        dev = float(np.max(np.abs(res.M - ref.M)))
        row["max_abs_dev_lifted"] = dev
        row["rel_dev_lifted"] = dev / max(float(np.max(np.abs(ref.M))), np.finfo(float).tiny)
    return row


def theorem4_alpha(mu: float, k: int) -> float:
    """``alpha`` with ``mu^2 = sigma sqrt(k) / 2 = alpha^2 k / 2`` (Theorem 4), i.e. ``sqrt(2 mu^2 / k)``.

    >>> round(theorem4_alpha(1.0, 200) ** 2 * 200 / 2, 12)
    1.0
    """
    return float(np.sqrt(2.0 * float(mu) ** 2 / int(k)))


def theorem4_rows(spec: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """Theorem 4 check for one seed (config ``matfac.theorem4``): rows per (mu, k).

    Diagonal measurements; ``sigma(k) = 2 mu^2 / sqrt(k)`` (so ``sigma -> 0``
    and ``sigma sqrt(k) / 2 = mu^2`` exactly); gradient flow on the lifted
    matrix to ``L <= loss_rtol ||y||^2``; ``rel_gap`` =
    ``||diag(M_inf) - beta_Q|| / ||beta_Q||`` with
    ``beta_Q = min_Q(X, y, alpha=mu)`` (D = 2).
    """
    from kr.reference import min_Q

    th = spec["theorem4"]
    problem = make_diagonal_problem(int(th["d"]), int(th["N"]), seed)
    tol = float(th["loss_rtol"]) * float(problem.y @ problem.y)
    rows = []
    for mu in th["mu"]:
        ref = min_Q(problem.X, problem.y, float(mu), D=2, solver="newton")
        for k in th["k"]:
            alpha = theorem4_alpha(float(mu), int(k))
            U0, V0 = init_factors(problem.d, int(k), alpha, seed)
            Mbar0 = lifted_init(U0, V0)
            res = lifted_flow(problem, Mbar0, tol=tol, t_max=float(th["flow_t_max"]))
            delta = np.diagonal(res.M)
            scale = max(float(np.linalg.norm(ref.beta)), np.finfo(float).tiny)
            rows.append({
                "mu": float(mu), "k": int(k), "alpha": alpha, "sigma": alpha**2 * np.sqrt(int(k)),
                "alpha2k": alpha**2 * int(k), "seed": int(seed), "d": problem.d, "N": problem.N,
                "rel_gap": float(np.linalg.norm(delta - ref.beta) / scale),
                "max_abs_gap": float(np.max(np.abs(delta - ref.beta))),
                "init_diag_deviation": float(np.max(np.abs(Mbar0 / (alpha**2 * int(k)) - np.eye(2 * problem.d)))),
                "train_loss": res.loss, "flow_time": res.t, "rhs_evaluations": res.steps,
                "min_Q_converged": bool(ref.converged), "wall_time_s": res.wall_time_s,
                "converged": bool(res.converged and ref.converged),
            })
    return rows


def aggregate_grid(point_paths: list[str], ref_paths: list[str], out: str) -> dict[str, Any]:
    """Concatenate the per-point tables and attach each seed's cvxpy references (``ref_`` columns).

    The header keeps every source's own header (:func:`kr.results.write_derived`).
    """
    from kr.results import read_tables, write_derived

    df, sources = read_tables(point_paths)
    ref, ref_sources = read_tables(ref_paths)
    ref_cols = {c: f"ref_{c}" for c in ref.columns if c != "seed"}
    df = df.merge(ref.rename(columns=ref_cols), on="seed", how="left", validate="many_to_one")
    # a point converged when its run did; a failed reference is flagged separately
    return write_derived(df, out, {**sources, **ref_sources})
