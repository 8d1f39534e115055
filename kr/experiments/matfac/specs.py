"""Validated settings of the matfac jobs (rules/matfac.smk; config section ``matfac``).

* :class:`PointSpec` -- one Figure 5 point's problem and simulator settings
  (Section 6: ``d``, ``N`` of the completion problem, the stopping loss, the
  GD step or the flow's time cap);
* :class:`Theorem4Spec` -- the Theorem 4 check (``matfac.theorem4``): the
  diagonal problem's size, the ``mu`` and widths ``k`` with
  ``mu^2 = alpha^2 k / 2``, the flow's stopping loss and time cap.

Each is a frozen dataclass whose ``__post_init__`` checks and normalises
every field (``ValueError`` naming the config key), with
``from_config(mapping)``, which reads only the keys the job uses (others
are ignored), and ``to_config()``, its inverse (the job's parameters, as
recorded in the result header).  The rule file builds each job's
``params`` from :meth:`PointSpec.keys` / :data:`Theorem4Spec.KEYS`
(:mod:`.plan`), so a job reruns only when a setting it uses changes.

Import-light (no torch): the Snakefile imports it through :mod:`.plan`.

>>> spec = PointSpec.from_config({"simulator": "flow", "d": 10, "N": 60, "loss_rtol": 1e-6,
...                               "flow_t_max": 1e4, "max_steps": 10})
>>> spec.to_config()
{'simulator': 'flow', 'd': 10, 'N': 60, 'loss_rtol': 1e-06, 'flow_t_max': 10000.0}
>>> PointSpec.from_config({"simulator": "lifted", "d": 10, "N": 60, "loss_rtol": 1e-6, "lr_scale": 0.01,
...                        "max_steps": 0, "check_every": 10})
Traceback (most recent call last):
...
ValueError: matfac.max_steps must be an integer >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kr.devices import DEVICES  # torch devices of the direct simulator: auto, cpu, cuda
from kr.experiments.matfac.problems import check_int

__all__ = ["DEVICES", "SIMULATORS", "PointSpec", "Theorem4Spec"]

SIMULATORS = ("lifted", "direct", "flow")
"""The simulators of a Figure 5 point (:mod:`.simulators`): exact lifted GD, direct GD in torch, the flow."""

_COMMON = ("d", "N", "loss_rtol")
_GD = ("lr", "lr_scale", "max_steps", "check_every")
_POINT_KEYS: dict[str, tuple[str, ...]] = {
    "lifted": _COMMON + _GD,
    "direct": _COMMON + _GD + ("device",),
    "flow": _COMMON + ("flow_t_max",),
}


def _positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0, else ValueError naming ``name``."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None
    if isinstance(value, bool) or not (math.isfinite(f) and f > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return f


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _pick(mapping: Mapping[str, Any], keys: Sequence[str], prefix: str) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {type(mapping).__name__}")
    return {k: mapping[k] for k in keys if k in mapping}


@dataclasses.dataclass(frozen=True)
class PointSpec:
    """Settings of one Figure 5 point (Section 6) run by ``simulator`` (config ``matfac``).

    ``d``, ``N``: the completion problem (:func:`~.problems.make_completion_problem`);
    the run stops at ``L <= loss_rtol ||y||^2``.  GD (``lifted``, ``direct``):
    step ``lr``, or ``lr_scale / (||Mbar(0)||_op + ||y||)`` per point when
    ``lr`` is None (:func:`~.simulators.auto_lr`), at most ``max_steps``
    steps, the loss checked every ``check_every``; ``direct`` runs on
    ``device``.  ``flow``: time cap ``flow_t_max``.  Settings a simulator
    does not use are reset to None (``device``: ``"cpu"``).
    """

    simulator: str
    d: int
    N: int
    loss_rtol: float
    lr: float | None = None
    lr_scale: float | None = None
    max_steps: int | None = None
    check_every: int | None = None
    flow_t_max: float | None = None
    device: str = "cpu"

    PREFIX: ClassVar[str] = "matfac."

    def __post_init__(self) -> None:
        p = self.PREFIX
        used = self.keys(self.simulator)  # checks the simulator
        _set(self, "d", check_int(f"{p}d", self.d, 1))
        _set(self, "N", check_int(f"{p}N", self.N, 1))
        if self.N > self.d**2:
            raise ValueError(f"{p}N = {self.N} observed entries exceed the d^2 = {self.d**2} entries "
                             f"of a {self.d}x{self.d} matrix")
        _set(self, "loss_rtol", _positive(f"{p}loss_rtol", self.loss_rtol))
        for f in dataclasses.fields(self):  # what the simulator does not use takes its default
            if f.name not in used + ("simulator",):
                _set(self, f.name, f.default)
        if self.device not in DEVICES:
            raise ValueError(f"{p}device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.simulator == "flow":
            if self.flow_t_max is None:
                raise ValueError(f"{p}flow_t_max is required by the flow simulator")
            _set(self, "flow_t_max", _positive(f"{p}flow_t_max", self.flow_t_max))
            return
        if self.lr is not None:
            _set(self, "lr", _positive(f"{p}lr", self.lr))
        elif self.lr_scale is None:
            raise ValueError(f"{p}lr_scale is required by the {self.simulator} simulator when lr is null")
        if self.lr_scale is not None:
            _set(self, "lr_scale", _positive(f"{p}lr_scale", self.lr_scale))
        for name in ("max_steps", "check_every"):
            if getattr(self, name) is None:
                raise ValueError(f"{p}{name} is required by the {self.simulator} simulator")
            _set(self, name, check_int(f"{p}{name}", getattr(self, name), 1))

    @staticmethod
    def keys(simulator: str) -> tuple[str, ...]:
        """The config keys (besides ``simulator``) a ``simulator`` job uses.

        >>> PointSpec.keys("flow")
        ('d', 'N', 'loss_rtol', 'flow_t_max')
        """
        if not isinstance(simulator, str) or simulator not in _POINT_KEYS:
            raise ValueError(f"{PointSpec.PREFIX}simulator must be one of {', '.join(map(repr, SIMULATORS))}, "
                             f"got {simulator!r}")
        return _POINT_KEYS[simulator]

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any]) -> PointSpec:
        """The spec from a mapping holding ``simulator`` and (at least) :meth:`keys` of it; other keys ignored.

        A missing ``lr`` means null (the automatic step); a missing ``device``, ``"cpu"``.
        """
        if not isinstance(mapping, Mapping) or "simulator" not in mapping:
            raise ValueError(f"{cls.PREFIX}simulator is required")
        sim = mapping["simulator"]
        values = _pick(mapping, cls.keys(sim), cls.PREFIX)
        for key in _COMMON:
            if key not in values:
                raise ValueError(f"{cls.PREFIX}{key} is required")
        return cls(simulator=sim, **values)

    def to_config(self) -> dict[str, Any]:
        """``simulator`` and the settings it uses (:meth:`keys`): ``from_config(spec.to_config()) == spec``."""
        return {"simulator": self.simulator, **{k: getattr(self, k) for k in self.keys(self.simulator)}}


@dataclasses.dataclass(frozen=True)
class Theorem4Spec:
    """Settings of the Theorem 4 check for one seed (Section 6, Theorem 4; config ``matfac.theorem4``).

    Diagonal measurements of size ``(N, d)`` (:func:`~.problems.make_diagonal_problem`);
    for every ``mu`` and width ``k``, ``alpha = sqrt(2 mu^2 / k)`` so that
    ``mu^2 = sigma sqrt(k) / 2 = alpha^2 k / 2``; the lifted flow stops at
    ``L <= loss_rtol ||y||^2`` or at time ``flow_t_max``.
    """

    d: int
    N: int
    mu: tuple[float, ...]
    k: tuple[int, ...]
    loss_rtol: float
    flow_t_max: float

    PREFIX: ClassVar[str] = "matfac.theorem4."
    KEYS: ClassVar[tuple[str, ...]] = ("d", "N", "mu", "k", "loss_rtol", "flow_t_max")
    """The config keys the job uses (``seeds`` is the rule's wildcard, not a job setting)."""

    def __post_init__(self) -> None:
        p = self.PREFIX
        _set(self, "d", check_int(f"{p}d", self.d, 1))
        _set(self, "N", check_int(f"{p}N", self.N, 1))
        for name in ("mu", "k"):
            seq = getattr(self, name)
            if isinstance(seq, str | bytes) or not isinstance(seq, Sequence) or not len(seq):
                raise ValueError(f"{p}{name} must be a non-empty list, got {seq!r}")
        _set(self, "mu", tuple(_positive(f"{p}mu[{i}]", v) for i, v in enumerate(self.mu)))
        _set(self, "k", tuple(check_int(f"{p}k[{i}]", v, 1) for i, v in enumerate(self.k)))
        _set(self, "loss_rtol", _positive(f"{p}loss_rtol", self.loss_rtol))
        _set(self, "flow_t_max", _positive(f"{p}flow_t_max", self.flow_t_max))

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any]) -> Theorem4Spec:
        """The spec from the ``matfac.theorem4`` section (only :data:`KEYS` are read; all required).

        >>> Theorem4Spec.from_config({"d": 5, "N": 2, "mu": [0.5], "k": [10, 100], "seeds": [0],
        ...                           "loss_rtol": 1e-12, "flow_t_max": 1e5}).k
        (10, 100)
        """
        values = _pick(mapping, cls.KEYS, cls.PREFIX)
        for key in cls.KEYS:
            if key not in values:
                raise ValueError(f"{cls.PREFIX}{key} is required")
        return cls(**values)

    def to_config(self) -> dict[str, Any]:
        """The job's settings as config values (lists for ``mu`` and ``k``)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
