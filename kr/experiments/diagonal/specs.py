"""Typed, validated specs of the diagonal-network jobs (Sections 4-5).

Each job's params (built by :mod:`.plan` from the ``diagonal:`` config
section, with only the keys that job reads) become one of these frozen
dataclasses in its script.  ``from_config`` raises ``ValueError`` naming the
config key and the bad value; :func:`check_section` runs every check at
workflow start-up, before any job.  Import-light (no numpy).

>>> ProblemSpec.from_config({"d": 30, "r_star": 2, "noise_var": 0.01}).parameters(N=12)
{'d': 30, 'r_star': 2, 'noise_var': 0.01, 'N': 12}
>>> ThresholdSpec.from_config({"d": 30, "r_star": 2, "noise_var": 0.01, "fig1c": {"N": [8],
...     "error_threshold": 0.1, "log10_alpha_D_bounds": [2, -40], "bisection_iterations": 5}})
Traceback (most recent call last):
...
ValueError: diagonal.fig1c.log10_alpha_D_bounds must be [low, high] with low < high, got [2, -40]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kr.devices import check_device

SECTION = "diagonal"


def _key(*path: str) -> str:
    return ".".join((SECTION, *path))


def _int(value: Any, *path: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{_key(*path)} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive(value: Any, *path: str, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{_key(*path)} must be a finite number {bound}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ProblemSpec:
    """The Section 4 problem: ``d`` features, ``r_star``-sparse beta*, noise variance."""

    d: int
    r_star: int
    noise_var: float

    @classmethod
    def from_config(cls, dg: Mapping[str, Any]) -> ProblemSpec:
        d = _int(dg["d"], "d")
        r_star = _int(dg["r_star"], "r_star")
        if r_star > d:
            raise ValueError(f"{_key('r_star')} must be <= diagonal.d = {d}, got {r_star!r}")
        return cls(d=d, r_star=r_star, noise_var=_positive(dg["noise_var"], "noise_var", allow_zero=True))

    def check_n(self, n: Any, *path: str) -> int:
        """A sample size: the flow and min-Q interpolate, so ``N <= d`` (overparametrised)."""
        n = _int(n, *path)
        if n > self.d:
            raise ValueError(f"{_key(*path)} = {n} exceeds diagonal.d = {self.d}: the diagonal experiment "
                             f"needs N <= d (an interpolating, overparametrised problem)")
        return n

    def parameters(self, **extra: Any) -> dict[str, Any]:
        """The parameters that define a problem draw, for result headers."""
        return {"d": self.d, "r_star": self.r_star, "noise_var": self.noise_var, **extra}


@dataclass(frozen=True)
class SweepSpec:
    """One flow + min-Q sweep: its problem, the flow's stopping tolerance, Theorem 2's eps."""

    problem: ProblemSpec
    flow_tol: float
    theorem2_eps: tuple[float, ...]

    @classmethod
    def from_config(cls, dg: Mapping[str, Any]) -> SweepSpec:
        eps = tuple(_positive(e, "theorem2_eps") for e in dg["theorem2_eps"])
        return cls(ProblemSpec.from_config(dg), _positive(dg["flow_tol"], "flow_tol"), eps)


@dataclass(frozen=True)
class GDSpec:
    """Plain GD (the paper's procedure): step (None: largest stable), step cap, tolerance, device."""

    lr: float | None
    max_steps: int
    tol: float
    device: str

    @classmethod
    def from_config(cls, gd: Mapping[str, Any]) -> GDSpec:
        lr = None if gd["lr"] is None else _positive(gd["lr"], "gd", "lr")
        return cls(lr=lr, max_steps=_int(gd["max_steps"], "gd", "max_steps"),
                   tol=_positive(gd["tol"], "gd", "tol"), device=check_device(str(gd["device"]), _key("gd", "device")))

    def parameters(self) -> dict[str, Any]:
        """Header entries ``gd_<key>``."""
        return {"gd_lr": self.lr, "gd_max_steps": self.max_steps, "gd_tol": self.tol, "gd_device": self.device}


@dataclass(frozen=True)
class ThresholdSpec:
    """Figure 1(c)/3(c): sample sizes, error threshold, alpha^D search bounds (log10), bisection steps."""

    problem: ProblemSpec
    N: tuple[int, ...]
    error_threshold: float
    log10_alpha_D_bounds: tuple[float, float]
    bisection_iterations: int

    @classmethod
    def from_config(cls, dg: Mapping[str, Any]) -> ThresholdSpec:
        problem = ProblemSpec.from_config(dg)
        fig = dg["fig1c"]
        bounds = fig["log10_alpha_D_bounds"]
        if (not isinstance(bounds, Sequence) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and math.isfinite(b) for b in bounds)
                or not bounds[0] < bounds[1]):
            raise ValueError(f"{_key('fig1c', 'log10_alpha_D_bounds')} must be [low, high] with low < high, "
                             f"got {list(bounds) if isinstance(bounds, Sequence) else bounds!r}")
        return cls(
            problem=problem,
            N=tuple(problem.check_n(n, "fig1c", "N") for n in fig["N"]),
            error_threshold=_positive(fig["error_threshold"], "fig1c", "error_threshold"),
            log10_alpha_D_bounds=(float(bounds[0]), float(bounds[1])),
            bisection_iterations=_int(fig["bisection_iterations"], "fig1c", "bisection_iterations"),
        )

    def parameters(self, **extra: Any) -> dict[str, Any]:
        """Header: the problem plus ``fig1c_<key>``."""
        return self.problem.parameters(**extra, fig1c_N=list(self.N), fig1c_error_threshold=self.error_threshold,
                                       fig1c_log10_alpha_D_bounds=list(self.log10_alpha_D_bounds),
                                       fig1c_bisection_iterations=self.bisection_iterations)


def _depths(values: Any, *path: str) -> list[int]:
    depths = [_int(D, *path, minimum=2) for D in (values if isinstance(values, list) else [values])]
    bad = [D for D in depths if D > 10]
    if bad:
        raise ValueError(f"{_key(*path)} must hold depths 2..10 (the rules' D wildcard), got {bad[0]!r}")
    return depths


def check_section(dg: Mapping[str, Any]) -> None:
    """Every check a diagonal job would make, at start-up: raises ValueError naming the key."""
    problem = ProblemSpec.from_config(dg)
    for n in dg["N"] if isinstance(dg["N"], list) else [dg["N"]]:
        problem.check_n(n, "N")
    if _depths(dg["depths"], "depths") != [2]:
        raise ValueError(f"{_key('depths')} must be [2]: Figures 1(a), 1(b) are the D = 2 model "
                         f"(got {dg['depths']!r}); put other depths in diagonal.theorem3.depths")
    _depths(dg["theorem3"]["depths"], "theorem3", "depths")
    _depths(dg["fig1c"]["depths"], "fig1c", "depths")
    _depths(dg["gd"]["depths"], "gd", "depths")
    SweepSpec.from_config(dg)
    GDSpec.from_config(dg["gd"])
    ThresholdSpec.from_config(dg)
