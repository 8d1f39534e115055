"""Input checks shared by the solvers and dynamics (clear ValueErrors).

Every message names the offending argument.

>>> check_alpha(0.5)
0.5
>>> check_max_steps(2.0)
2
>>> check_depth(1)
Traceback (most recent call last):
...
ValueError: D must be a finite number >= 2 (the depth), got 1
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def check_Xy(X: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    """float64 copies of a design ``X`` (N, d) and targets ``y`` (N,), validated."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array of shape (N, d), got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of shape (N,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"len(y) = {y.shape[0]} must equal the number of rows of X = {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (X contains NaN or inf)")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite (y contains NaN or inf)")
    return X, y


def check_alpha(alpha: Any) -> float:
    """The initialisation scale as a positive finite float."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}") from None
    if not (np.isfinite(a) and a > 0):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    return a


def check_depth(D: Any) -> float:
    """The depth (order of homogeneity) D >= 2 as a float."""
    try:
        Df = float(D)
    except (TypeError, ValueError):
        raise ValueError(f"D must be a finite number >= 2 (the depth), got {D!r}") from None
    if not (np.isfinite(Df) and Df >= 2):
        raise ValueError(f"D must be a finite number >= 2 (the depth), got {D!r}")
    return Df


def check_w0(w0: ArrayLike | None, d: int) -> Array:
    """The initialisation shape w0 (all ones when None), positive with shape (d,)."""
    if w0 is None:
        return np.ones(d)
    w = np.asarray(w0, dtype=np.float64)
    if w.shape != (d,):
        raise ValueError(f"w0 must have shape ({d},) (one entry per column of X), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("w0 must be positive and finite (no zero entries, Theorem 1)")
    return w


def check_tol(tol: Any) -> float:
    """A stopping tolerance on ``||X beta - y||_2`` as a finite float >= 0."""
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}") from None
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return t


def check_rtol(rtol: Any) -> float:
    """An ODE solver's relative tolerance as a float in ``[1e-14, 1)``."""
    try:
        r = float(rtol)
    except (TypeError, ValueError):
        raise ValueError(f"rtol must lie in [1e-14, 1), got {rtol!r}") from None
    if not (1e-14 <= r < 1):
        raise ValueError(f"rtol must lie in [1e-14, 1), got {r!r}")
    return r


def check_t_max(t_max: Any) -> float:
    """A time horizon as a positive float (``inf``: none)."""
    try:
        t = float(t_max)
    except (TypeError, ValueError):
        raise ValueError(f"t_max must be positive, got {t_max!r}") from None
    if not t > 0 or np.isnan(t):
        raise ValueError(f"t_max must be positive, got {t!r}")
    return t


def check_max_steps(max_steps: Any) -> int:
    """A step budget as an int >= 0 (truncated by ``int``)."""
    try:
        n = int(max_steps)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"max_steps must be an integer >= 0, got {max_steps!r}") from None
    if n < 0:
        raise ValueError(f"max_steps must be >= 0, got {n}")
    return n


def check_method(method: Any, allowed: tuple[str, ...]) -> str:
    """A solver name, one of ``allowed``."""
    if not (isinstance(method, str) and method in allowed):
        names = " or ".join(repr(m) for m in allowed)
        raise ValueError(f"method must be {names}, got {method!r}")
    return method


def check_t_eval(t_eval: ArrayLike | None, t_max: float = np.inf) -> Array | None:
    """Output times as a flat float64 array (None stays None): finite, >= 0, sorted, <= t_max."""
    if t_eval is None:
        return None
    te = np.asarray(t_eval, dtype=np.float64).ravel()
    if te.size and (not np.all(np.isfinite(te)) or np.any(te < 0) or np.any(np.diff(te) < 0)):
        raise ValueError("t_eval must be finite, non-negative and sorted")
    if te.size and te[-1] > t_max:
        raise ValueError(f"max(t_eval) = {te[-1]} exceeds t_max = {t_max}")
    return te
