"""Synthetic data of Section 7 / Appendix A ("Synthetic Experiments").

* :func:`circle_teacher` - Figure 6: N points drawn uniformly from the unit
  circle in R^2, labelled by a fixed teacher with one hidden ReLU layer of 3
  units (bias-free, like the students: W ~ N(0, I), v ~ N(0, 1)), and a test
  set drawn the same way.  Independent streams
  (:class:`numpy.random.SeedSequence` spawned from ``seed``) for the teacher,
  the training inputs and the test inputs.
* :func:`linear_spline` - the linear-spline interpolant of 1-D points (the
  rich limit of Figure 7, Savarese et al.), extended linearly beyond the
  data with the end segments' slopes.

>>> data = circle_teacher(n_train=10, n_test=1000, seed=0)
>>> data.X_train.shape, data.X_test.shape, bool(np.allclose(np.linalg.norm(data.X_test, axis=1), 1.0))
((10, 2), (1000, 2), True)
>>> linear_spline([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], np.array([-1.0, 0.5, 3.0])).tolist()
[-1.0, 0.5, -1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CircleTeacher:
    """Training and test sets on the unit circle with teacher labels."""

    X_train: Array
    y_train: Array
    X_test: Array
    y_test: Array
    teacher_W: Array
    teacher_v: Array

    def test_error(self, predictions: ArrayLike) -> Array:
        """Mean squared test error of ``predictions`` ``[..., n_test]``."""
        diff = np.asarray(predictions, dtype=np.float64) - self.y_test
        return np.mean(diff * diff, axis=-1)


def teacher(X: ArrayLike, W: ArrayLike, v: ArrayLike) -> Array:
    """sum_j v_j relu(<w_j, x>) for inputs ``X`` ``[n, d]``."""
    return np.maximum(np.asarray(X) @ np.asarray(W).T, 0.0) @ np.asarray(v)


def _circle(rng: np.random.Generator, n: int) -> Array:
    theta = rng.uniform(0.0, 2.0 * np.pi, size=n)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def circle_teacher(n_train: int = 10, n_test: int = 1000, hidden: int = 3, seed: int = 0) -> CircleTeacher:
    """The Figure 6 data set (Appendix A): unit-circle inputs, ReLU-teacher labels."""
    for name, val, lo in (("n_train", n_train, 1), ("n_test", n_test, 1), ("hidden", hidden, 1)):
        if int(val) != val or val < lo:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    s_teacher, s_train, s_test = np.random.SeedSequence(int(seed)).spawn(3)
    rt = np.random.default_rng(s_teacher)
    W = rt.standard_normal((int(hidden), 2))
    v = rt.standard_normal(int(hidden))
    X_train = _circle(np.random.default_rng(s_train), int(n_train))
    X_test = _circle(np.random.default_rng(s_test), int(n_test))
    return CircleTeacher(X_train, teacher(X_train, W, v), X_test, teacher(X_test, W, v), W, v)


def check_points_1d(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    """Sorted 1-D training points; distinct, finite, at least 2, same length."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or ya.shape != xa.shape or xa.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got shapes {xa.shape}, {ya.shape}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("the 1-D training points must be finite")
    order = np.argsort(xa)
    xa, ya = xa[order], ya[order]
    if np.any(np.diff(xa) <= 0):
        raise ValueError(f"the 1-D training inputs must be distinct, got {xa.tolist()}")
    return xa, ya


def linear_spline(x: ArrayLike, y: ArrayLike, grid: ArrayLike) -> Array:
    """Piecewise-linear interpolant through (x, y) at ``grid``, linear beyond the ends."""
    xa, ya = check_points_1d(x, y)
    g = np.asarray(grid, dtype=np.float64)
    out = np.interp(g, xa, ya)
    lo, hi = g < xa[0], g > xa[-1]
    out[lo] = ya[0] + (g[lo] - xa[0]) * (ya[1] - ya[0]) / (xa[1] - xa[0])
    out[hi] = ya[-1] + (g[hi] - xa[-1]) * (ya[-1] - ya[-2]) / (xa[-1] - xa[-2])
    return out
