"""Synthetic data sets of the paper.

:func:`sparse_regression` is the planted sparse regression of Section 4
("Generalization"): x ~ N(0, I_d), y ~ N(<beta*, x>, 0.01) (0.01 is the noise
*variance*), beta* r*-sparse with entries 1/sqrt(r*) on a support drawn
without replacement.

Samples are nested: for one seed, the first N rows of a data set with more
rows are exactly the data set with N rows, so a sweep over N (Figure 1(c))
adds samples instead of redrawing them.

>>> a = sparse_regression(d=20, n=5, r_star=2, seed=3)
>>> b = sparse_regression(d=20, n=8, r_star=2, seed=3)
>>> bool((a.X == b.X[:5]).all() and (a.y == b.y[:5]).all() and (a.beta_star == b.beta_star).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class SparseRegression:
    """One draw of the Section 4 sparse regression problem."""

    X: NDArray[np.float64]
    y: NDArray[np.float64]
    beta_star: NDArray[np.float64]
    noise_var: float

    def population_error(self, beta: NDArray[np.float64]) -> NDArray[np.float64]:
        """E(<beta, x> - y)^2 = ||beta - beta*||^2 + noise_var, exactly (x ~ N(0, I)).

        ``beta`` may be a batch ``[..., d]``.
        """
        diff = np.asarray(beta, dtype=np.float64) - self.beta_star
        return np.sum(diff * diff, axis=-1) + self.noise_var


def sparse_regression(
    d: int, n: int, r_star: int, seed: int, noise_var: float = 0.01
) -> SparseRegression:
    """Draw the Section 4 problem with ``n`` samples in dimension ``d``.

    Independent streams (``numpy.random.SeedSequence(seed).spawn``) for the
    support, the inputs and the noise keep samples nested across ``n``.
    """
    if not (isinstance(d, (int, np.integer)) and d >= 1):
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 1 <= r_star <= d:
        raise ValueError(f"r_star must be in [1, d={d}], got {r_star!r}")
    if not (np.isfinite(noise_var) and noise_var >= 0):
        raise ValueError(f"noise_var must be finite and >= 0, got {noise_var!r}")
    s_support, s_x, s_noise = np.random.SeedSequence(int(seed)).spawn(3)
    beta_star = np.zeros(d)
    support = np.random.default_rng(s_support).choice(d, size=r_star, replace=False)
    beta_star[support] = 1.0 / np.sqrt(r_star)
    X = np.random.default_rng(s_x).standard_normal((n, d))
    noise = np.sqrt(noise_var) * np.random.default_rng(s_noise).standard_normal(n)
    return SparseRegression(X=X, y=X @ beta_star + noise, beta_star=beta_star, noise_var=float(noise_var))
