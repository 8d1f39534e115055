"""Typed, validated specs of the ReLU jobs (Section 7: Figures 6 and 7).

Each job's params (built by :mod:`.plan` from the ``relu:`` config section,
with only the keys that job reads) become one of these frozen dataclasses in
its script: :class:`Fig6Spec` for a Figure 6 (D, seed) job (the ``fig6``
keys but not ``depths``/``seeds``, which are wildcards, plus ``dtype``),
:class:`Fig7Spec` for one Figure 7 panel (the ``fig7`` keys with the panel's
own shape ``c`` instead of the ``shapes`` mapping, plus ``dtype``).
``from_config`` raises ``ValueError`` naming the config key and the bad
value; ``parameters()`` gives back the params (the result header).
:func:`kr.experiments.relu.plan.check_config` builds every spec at workflow
start-up, before any job.  Import-light (no numpy, no torch).

>>> AlphaGrid.from_config({"log10_start": -2, "log10_stop": 3, "num": 6}, "fig6", "alpha_D").config()
{'log10_start': -2.0, 'log10_stop': 3.0, 'num': 6}
>>> Fig7Spec.from_config({"panel": "b", "c": 0.0, "width": 10, "seed": 0, "x": [0, 1], "y": [1, 2],
...     "alpha": [1.0], "lr": 0.2, "lr_gn_fraction": 1.0, "tol": 1e-6, "max_steps": 10, "check_every": 5,
...     "grid_points": 11, "grid_margin": 0.1, "dtype": "float64"})
Traceback (most recent call last):
...
ValueError: relu.fig7.shapes.b must be a finite number > 0, got 0.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SECTION = "relu"
DTYPES = ("float64", "float32")

#: keys of ``relu.fig6`` a Figure 6 job reads (``depths`` and ``seeds`` are its wildcards)
FIG6_KEYS = ("width", "unbiased", "n_train", "n_test", "teacher_hidden", "data_seed", "alpha_D", "lr",
             "lr_gn_fraction", "tol", "max_steps", "check_every")
#: keys of ``relu.fig7`` a Figure 7 panel job reads (its shape ``c`` comes from ``shapes``)
FIG7_KEYS = ("width", "seed", "x", "y", "alpha", "lr", "lr_gn_fraction", "tol", "max_steps", "check_every",
             "grid_points", "grid_margin")


def _key(*path: str) -> str:
    return ".".join((SECTION, *path))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any, *path: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{_key(*path)} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(value: Any, *path: str, allow_zero: bool = False) -> float:
    if not _is_number(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{_key(*path)} must be a finite number {bound}, got {value!r}")
    return float(value)


def _bool(value: Any, *path: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{_key(*path)} must be true or false, got {value!r}")
    return value


def _dtype(value: Any) -> str:
    if value not in DTYPES:
        raise ValueError(f"{_key('dtype')} must be one of {', '.join(DTYPES)}, got {value!r}")
    return str(value)


def _fraction(value: Any, *path: str) -> float | None:
    """The Gauss-Newton step cap: ``None`` (constant ``lr``) or a finite number > 0."""
    if value is None:
        return None
    if not _is_number(value) or value <= 0:
        raise ValueError(f"{_key(*path)} must be null or a finite number > 0, got {value!r}")
    return float(value)


def _numbers(value: Any, *path: str) -> tuple[float, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not all(_is_number(v) for v in value):
        raise ValueError(f"{_key(*path)} must be a list of finite numbers, got {value!r}")
    return tuple(float(v) for v in value)


def _gd_settings(sec: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The GD settings Figures 6 and 7 share: step, its Gauss-Newton cap, tolerance, step cap, check period."""
    return {
        "lr": _positive(sec["lr"], name, "lr"),
        "lr_gn_fraction": _fraction(sec["lr_gn_fraction"], name, "lr_gn_fraction"),
        "tol": _positive(sec["tol"], name, "tol"),
        "max_steps": _int(sec["max_steps"], name, "max_steps"),
        "check_every": _int(sec["check_every"], name, "check_every"),
    }

@dataclass(frozen=True)
class AlphaGrid:
    """A grid of initialisation scales: explicit ``values`` or ``num`` log-spaced from 10^start to 10^stop."""

    values: tuple[float, ...] = ()
    log10_start: float | None = None
    log10_stop: float | None = None
    num: int | None = None

    @classmethod
    def from_config(cls, value: Any, *path: str) -> AlphaGrid:
        if isinstance(value, Mapping):
            if set(value) != {"log10_start", "log10_stop", "num"}:
                raise ValueError(f"{_key(*path)} must be a list of scales or {{log10_start, log10_stop, num}}, "
                                 f"got {dict(value)!r}")
            for k in ("log10_start", "log10_stop"):
                if not _is_number(value[k]):
                    raise ValueError(f"{_key(*path, k)} must be a finite number, got {value[k]!r}")
            return cls(log10_start=float(value["log10_start"]), log10_stop=float(value["log10_stop"]),
                       num=_int(value["num"], *path, "num"))
        values = _numbers(value, *path)
        if not values or min(values) <= 0:
            raise ValueError(f"{_key(*path)} must be a non-empty list of scales > 0, got {value!r}")
        return cls(values=values)

    def config(self) -> list[float] | dict[str, Any]:
        """The config form (a list or the log10 mapping), for result headers and :func:`kr.grids.expand_grid`."""
        if self.num is None:
            return list(self.values)
        return {"log10_start": self.log10_start, "log10_stop": self.log10_stop, "num": self.num}


@dataclass(frozen=True)
class Fig6Spec:
    """One Figure 6 (D, seed) job: the student width, the circle/teacher data, the alpha^D grid, GD settings."""

    width: int
    unbiased: bool
    n_train: int
    n_test: int
    teacher_hidden: int
    data_seed: int
    alpha_D: AlphaGrid
    lr: float
    lr_gn_fraction: float | None
    tol: float
    max_steps: int
    check_every: int
    dtype: str

    @classmethod
    def from_config(cls, f6: Mapping[str, Any]) -> Fig6Spec:
        """From a job's params: the ``relu.fig6`` keys of :data:`FIG6_KEYS` and ``dtype``."""
        unbiased = _bool(f6["unbiased"], "fig6", "unbiased")
        width = _int(f6["width"], "fig6", "width")
        if unbiased and width % 2:
            raise ValueError(f"{_key('fig6', 'width')} = {width} must be even when relu.fig6.unbiased pairs the "
                             f"last hidden layer")
        return cls(
            width=width,
            unbiased=unbiased,
            n_train=_int(f6["n_train"], "fig6", "n_train"),
            n_test=_int(f6["n_test"], "fig6", "n_test"),
            teacher_hidden=_int(f6["teacher_hidden"], "fig6", "teacher_hidden"),
            data_seed=_int(f6["data_seed"], "fig6", "data_seed", minimum=0),
            alpha_D=AlphaGrid.from_config(f6["alpha_D"], "fig6", "alpha_D"),
            **_gd_settings(f6, "fig6"),
            dtype=_dtype(f6["dtype"]),
        )

    def parameters(self) -> dict[str, Any]:
        """The job's params, for the result header (``from_config(spec.parameters()) == spec``)."""
        return {"width": self.width, "unbiased": self.unbiased, "n_train": self.n_train, "n_test": self.n_test,
                "teacher_hidden": self.teacher_hidden, "data_seed": self.data_seed,
                "alpha_D": self.alpha_D.config(), "lr": self.lr, "lr_gn_fraction": self.lr_gn_fraction,
                "tol": self.tol, "max_steps": self.max_steps, "check_every": self.check_every, "dtype": self.dtype}


@dataclass(frozen=True)
class Fig7Spec:
    """One Figure 7 panel: its shape c, the univariate network, the 1-D data, the alpha grid, GD, the x grid."""

    panel: str
    c: float
    width: int
    seed: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    alpha: AlphaGrid
    lr: float
    lr_gn_fraction: float | None
    tol: float
    max_steps: int
    check_every: int
    grid_points: int
    grid_margin: float
    dtype: str

    @classmethod
    def from_config(cls, f7: Mapping[str, Any]) -> Fig7Spec:
        """From a panel job's params: ``panel``, its shape ``c``, the keys of :data:`FIG7_KEYS` and ``dtype``."""
        panel = f7["panel"]
        if not isinstance(panel, str) or not panel:
            raise ValueError(f"{_key('fig7', 'shapes')} must be keyed by panel names, got {panel!r}")
        width = _int(f7["width"], "fig7", "width", minimum=2)
        if width % 2:
            raise ValueError(f"{_key('fig7', 'width')} = {width} must be even: the univariate network pairs "
                             f"its units")
        x, y = _numbers(f7["x"], "fig7", "x"), _numbers(f7["y"], "fig7", "y")
        if len(x) != len(y):
            raise ValueError(f"{_key('fig7', 'x')} has {len(x)} points but relu.fig7.y has {len(y)}: "
                             f"give one target per input")
        if len(x) < 2:
            raise ValueError(f"{_key('fig7', 'x')} must hold at least 2 points, got {list(x)!r}")
        if len(set(x)) != len(x):
            raise ValueError(f"{_key('fig7', 'x')} = {list(f7['x'])!r} repeats an input: the data set needs "
                             f"distinct x")
        return cls(
            panel=panel,
            c=_positive(f7["c"], "fig7", "shapes", panel),
            width=width,
            seed=_int(f7["seed"], "fig7", "seed", minimum=0),
            x=x,
            y=y,
            alpha=AlphaGrid.from_config(f7["alpha"], "fig7", "alpha"),
            **_gd_settings(f7, "fig7"),
            grid_points=_int(f7["grid_points"], "fig7", "grid_points", minimum=2),
            grid_margin=_positive(f7["grid_margin"], "fig7", "grid_margin", allow_zero=True),
            dtype=_dtype(f7["dtype"]),
        )

    def parameters(self) -> dict[str, Any]:
        """The job's params, for the result header (``from_config(spec.parameters()) == spec``)."""
        return {"panel": self.panel, "c": self.c, "width": self.width, "seed": self.seed, "x": list(self.x),
                "y": list(self.y), "alpha": self.alpha.config(), "lr": self.lr,
                "lr_gn_fraction": self.lr_gn_fraction, "tol": self.tol, "max_steps": self.max_steps,
                "check_every": self.check_every, "grid_points": self.grid_points, "grid_margin": self.grid_margin,
                "dtype": self.dtype}
