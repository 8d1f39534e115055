"""Input checks shared by the solvers and dynamics (clear ValueErrors).

Every message names the offending argument.

>>> check_alpha(0.5)
0.5
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
