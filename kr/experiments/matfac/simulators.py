"""Gradient descent and gradient flow on ``M = U V^T`` (Section 6: width vs scale, "Lifted symmetric factorization").

Model: ``M = U V^T`` with ``U, V`` in ``R^{d x k}``, i.i.d. ``N(0, alpha^2)``
entries (:func:`init_factors`), loss ``L = sum_n (<X_n, M> - y_n)^2`` of a
:mod:`~kr.experiments.matfac.problems` problem, gradient ``G = grad_M L``.

Three simulators of gradient descent / flow on ``(U, V)``:

* :func:`direct_gd` -- the paper's method: GD on ``(U, V)`` in torch (CPU or
  CUDA), ``U <- U - lr G V``, ``V <- V - lr G^T U``; cost ``O(d^2 k)`` a step.
* :func:`lifted_gd` -- the same iterates, exactly, on the lifted matrix
  ``Mbar = W W^T`` (``W = [U; V]``): GD is ``W <- (I - lr Gbar) W`` with
  ``Gbar = [[0, G], [G^T, 0]]``, hence ``Mbar <- (I - lr Gbar) Mbar (I - lr Gbar)^T``
  and ``M`` is the off-diagonal block of ``Mbar`` (Section 6, "Lifted symmetric
  factorization").  After the ``O(d^2 k)`` product ``W W^T`` a step costs
  ``O(d^3)``, independent of the width k.
* :func:`lifted_gd_batch` -- :func:`lifted_gd` of many points of one problem
  at once (any widths, scales, steps): one ``[B, 2d, 2d]`` stack of lifted
  matrices, each point stopping on its own and frozen from then on.  Batched
  matmul computes every slice as the 2-D product does, so each point's result
  is bitwise the one :func:`lifted_gd` gives (``tests/test_matfac.py``).
* :func:`lifted_flow` -- the gradient-flow limit
  ``dMbar/dt = -(Gbar Mbar + Mbar Gbar)`` with an adaptive explicit
  Runge-Kutta solver (``scipy.integrate.solve_ivp``, DOP853), stopped by an
  event at ``L <= tol``.

Initial scales: ``sigma = alpha^2 sqrt(k)`` (the scale of ``M(0)``,
Section 6) and ``alpha^2 k = sigma sqrt(k)`` (the scale of ``Mbar(0)``,
whose diagonal blocks concentrate at ``alpha^2 k I``).  Theorem 4 uses
``mu^2 = sigma sqrt(k) / 2 = alpha^2 k / 2``.

torch is imported only inside :func:`direct_gd`; scipy only inside :func:`lifted_flow`.

Examples
--------
>>> from kr.experiments.matfac.problems import make_completion_problem
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
from numpy.typing import ArrayLike

from kr.experiments.matfac.problems import Array, CompletionProblem, Problem, check_int

__all__ = [
    "DIVERGENCE_FACTOR",
    "RunResult",
    "auto_lr",
    "direct_gd",
    "init_factors",
    "lifted_flow",
    "lifted_gd",
    "lifted_gd_batch",
    "lifted_init",
    "off_block",
]

DIVERGENCE_FACTOR = 1e8
"""A run whose loss exceeds ``DIVERGENCE_FACTOR * (L(0) + ||y||^2)`` (or is not finite) diverged."""


# --------------------------------------------------------------------------- #
# initialisation and the lifted matrix
# --------------------------------------------------------------------------- #
def init_factors(d: int, k: int, alpha: float, seed: int) -> tuple[Array, Array]:
    """``U(0), V(0)`` with i.i.d. ``N(0, alpha^2)`` entries (float64; Section 6).

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
    d = check_int("d", d, 1)
    k = check_int("k (the width)", k, 1)
    alpha = float(alpha)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    rng = np.random.default_rng([int(seed), int(k), 2])
    Z = rng.standard_normal((2, d, k))
    return alpha * Z[0], alpha * Z[1]


def lifted_init(U: ArrayLike, V: ArrayLike) -> Array:
    """``Mbar(0) = W W^T`` with ``W = [U; V]`` (``2d x 2d``); ``M(0) = U V^T`` is its off-diagonal block.

    Section 6, "Lifted symmetric factorization"; its diagonal blocks concentrate at ``alpha^2 k I``.
    """
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
    """``Gbar = [[0, G], [G^T, 0]]`` with ``G = grad_M L`` at the off-diagonal block of ``Mbar``."""
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
    """Where a simulator stopped.  ``t`` is the flow time (``steps * lr`` for GD).

    ``Mbar`` is the lifted matrix (None for :func:`direct_gd`); ``steps`` counts GD steps, or
    right-hand-side evaluations of the flow; ``simulator`` is ``lifted``, ``direct`` or ``flow``.
    """

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
    check_int("max_steps", max_steps, 1)
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


def _as_batch(name: str, value: ArrayLike, B: int) -> Array:
    """``value`` (a scalar or one per point) as a ``(B,)`` float64 array."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (B,)):
        raise ValueError(f"{name} must be a number or one value per point ({B}), got shape {arr.shape}")
    return np.broadcast_to(arr, (B,)).copy()


def lifted_gd_batch(
    problem: CompletionProblem,
    Mbar0: ArrayLike,
    *,
    lr: ArrayLike,
    max_steps: ArrayLike,
    tol: ArrayLike,
    check_every: int = 1,
) -> list[RunResult]:
    """:func:`lifted_gd` of B points of one completion problem at once: ``Mbar0`` is ``(B, 2d, 2d)``.

    ``lr``, ``max_steps`` and ``tol`` are one number, or one per point.  All
    points step together as one ``[B, 2d, 2d]`` stack (``A @ Mbar @ A^T``
    by batched matmul, ``A = I - lr Gbar`` per point); each stops on its
    own (loss tolerance, divergence, step cap; the same checks at the same
    steps as :func:`lifted_gd`) and leaves the stack then, so its
    ``steps``, ``M``, ``loss``, ``converged`` and ``diverged`` are those
    of :func:`lifted_gd` with its own settings: bitwise with numpy's
    batched matmul, which computes each slice with the 2-D product's BLAS
    call (checked by ``tests/test_matfac.py``).  The losses that decide the
    stops are each point's own ``r @ r``, as in :func:`lifted_gd`.

    ``wall_time_s`` of a point is its share of the batch: each stretch of
    steps counts ``elapsed / points still running`` to every point running
    it (the shares add up to the batch's time).

    >>> from kr.experiments.matfac.problems import make_completion_problem
    >>> p = make_completion_problem(4, 10, seed=0)
    >>> Mb = np.stack([lifted_init(*init_factors(4, k, 0.1, seed=0)) for k in (4, 40)])
    >>> runs = lifted_gd_batch(p, Mb, lr=1e-2, max_steps=[50, 300], tol=0.0)
    >>> one = lifted_gd(p, Mb[1], lr=1e-2, max_steps=300, tol=0.0)
    >>> [r.steps for r in runs], bool(np.array_equal(runs[1].M, one.M))
    ([50, 300], True)
    """
    if not isinstance(problem, CompletionProblem):
        raise TypeError(f"lifted_gd_batch takes a CompletionProblem, got {type(problem).__name__} "
                        f"(use lifted_gd per point)")
    d, n = problem.d, 2 * problem.d
    Mb = np.array(Mbar0, dtype=np.float64)
    if Mb.ndim != 3 or Mb.shape[1:] != (n, n) or Mb.shape[0] < 1:
        raise ValueError(f"Mbar0 must be (B, {n}, {n}) for d = {d} and B >= 1, got {Mb.shape}")
    B = Mb.shape[0]
    lrs, tols, caps_f = _as_batch("lr", lr, B), _as_batch("tol", tol, B), _as_batch("max_steps", max_steps, B)
    caps = [check_int("max_steps", c, 1) for c in caps_f]
    for b in range(B):
        _check_run(float(lrs[b]), caps[b], float(tols[b]))
    check_every = check_int("check_every", check_every, 1)
    rows, cols = problem.grad_support()
    obs = rows * n + d + cols                       # Mbar's flat index of M[rows, cols]
    y = problem.y
    yy = float(y @ y)
    # per point, as lifted_gd does: the divergence limit from the loss before the first step
    limits = [DIVERGENCE_FACTOR * (problem.loss(Mb[b, :d, d:]) + yy) for b in range(B)]
    done: dict[int, tuple[RunResult, float]] = {}   # point -> (its result, its share of the time)
    idx = list(range(B))                            # the running points (original indices)
    A = np.broadcast_to(np.eye(n), (B, n, n)).copy()  # A = I - lr Gbar: only Gbar's support changes
    tmp, nxt = np.empty_like(Mb), np.empty_like(Mb)
    neg_lr = -lrs
    share, t_mark = 0.0, time.perf_counter()
    steps, next_cap = 0, min(caps)
    while True:
        # problem.residual(Mbar[:d, d:]) of every running point, each row contiguous (so that r[a] @ r[a]
        # is the BLAS dot of lifted_gd: a strided row, as Mb[:, rows, d + cols] gives, sums differently)
        r = np.take(Mb.reshape(len(idx), n * n), obs, axis=1)
        r -= y
        full = steps % check_every == 0
        if full or steps == next_cap:
            stopped = []
            for a, b in enumerate(idx):
                if not full and caps[b] != steps:
                    continue
                loss = float(r[a] @ r[a])            # the point's own dot product, as in lifted_gd
                converged, diverged = _stop_flags(loss, float(tols[b]), limits[b])
                if converged or diverged or steps >= caps[b]:
                    stopped.append(a)
                    done[b] = (RunResult(M=Mb[a, :d, d:].copy(), Mbar=Mb[a].copy(), steps=steps,
                                         t=steps * float(lrs[b]), loss=loss, converged=converged,
                                         diverged=diverged, lr=float(lrs[b]), wall_time_s=0.0,
                                         simulator="lifted"), 0.0)
            if stopped:
                now = time.perf_counter()
                share += (now - t_mark) / len(idx)
                t_mark = now
                for a in stopped:
                    done[idx[a]] = (done[idx[a]][0], share)
                keep = np.ones(len(idx), dtype=bool)
                keep[stopped] = False
                idx = [b for a, b in enumerate(idx) if keep[a]]
                if not idx:
                    break
                Mb, A, r, neg_lr = Mb[keep], A[keep], r[keep], neg_lr[keep]
                tmp, nxt = np.empty_like(Mb), np.empty_like(Mb)
                next_cap = min(caps[b] for b in idx)
        g = neg_lr[:, None] * (2.0 * r)             # -lr * problem.grad_values(r), per point
        A[:, rows, d + cols] = g
        A[:, d + cols, rows] = g
        np.matmul(A, Mb, out=tmp)                   # A @ Mbar @ A^T, slice by slice as the 2-D product
        np.matmul(tmp, A.transpose(0, 2, 1), out=nxt)
        Mb, nxt = nxt, Mb
        steps += 1
    return [dataclasses.replace(done[b][0], wall_time_s=done[b][1]) for b in range(B)]


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
    """The paper's GD on ``(U, V)`` in torch (float64; CPU or CUDA), same stopping rule as :func:`lifted_gd`.

    ``U <- U - lr G V``, ``V <- V - lr G^T U`` with ``G = grad_M L(U V^T)`` (Section 6), ``O(d^2 k)`` a step.
    """
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
