"""Expansion of the grid specifications used in ``config.yaml``.

A grid is either an explicit list of numbers or a mapping:

* ``{log10_start: a, log10_stop: b, num: n}`` - ``n`` log-spaced values
  from ``10**a`` to ``10**b`` (for scales such as alpha);
* ``{start: a, stop: b, num: n}`` - ``n`` evenly spaced values.

>>> expand_grid([1, 2.5])
array([1. , 2.5])
>>> expand_grid({"log10_start": -2, "log10_stop": 0, "num": 3})
array([0.01, 0.1 , 1.  ])
>>> expand_grid({"start": -1, "stop": 1, "num": 3})
array([-1.,  0.,  1.])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

GridSpec = Sequence[float] | Mapping[str, float]


def value_id(value: float | str) -> str:
    """The file-name form of a grid value (alpha, lr constant, ...); round-trips through float.

    >>> value_id(0.05), value_id(1e-4), value_id("2.0"), value_id(1e-8)
    ('0.05', '0.0001', '2', '1e-08')
    """
    return f"{float(value):.12g}"


def expand_grid(spec: GridSpec) -> NDArray[np.float64]:
    """Return the values of a grid specification as a float64 array."""
    if isinstance(spec, Mapping):
        num = int(spec["num"])
        if "log10_start" in spec:
            return np.logspace(float(spec["log10_start"]), float(spec["log10_stop"]), num)
        return np.linspace(float(spec["start"]), float(spec["stop"]), num)
    values = np.asarray(list(spec), dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"a grid must be a non-empty list of numbers, got {spec!r}")
    return values
