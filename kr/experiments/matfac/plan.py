"""Job planning of the matfac rules (rules/matfac.smk): which points, which role, which settings.

Light (no torch): imported by the Snakefile at start-up.  Alphas appear in
file names (and batch jobs' params) as :func:`kr.grids.value_id` forms.

With ``matfac.simulator: lifted`` the grid runs in batch jobs (rule
``matfac_batch``): each seed's ``(k, alpha)`` points are dealt round-robin
into ``ceil(points / batch_size)`` chunks (:func:`batch_points`), and each
chunk is one job of batched lifted GD; the cross-check points (and a
``direct`` grid) stay one job per point (rule ``matfac_point``).  Each job's ``params`` hold
only the settings it uses (:func:`point_params`, :func:`theorem4_params`; the
reference jobs' ``d`` and ``N``), read back by :class:`~.specs.PointSpec` /
:class:`~.specs.Theorem4Spec`; the ledger thresholds (``matfac.claims``)
are no job's params.

>>> mf = {"simulator": "lifted", "k": [10], "alpha": [0.1], "seeds": [0],
...       "crosscheck": {"simulators": ["direct"], "k": [10], "alpha": [0.1], "seeds": [0]}}
>>> point_keys(mf)
[('direct', 10, '0.1', 0), ('lifted', 10, '0.1', 0)]
>>> point_job_keys({**mf, "batch_size": 100}), batch_keys({**mf, "batch_size": 100})
([('direct', 10, '0.1', 0)], [(0, 0)])
>>> mf2 = {**mf, "k": [10, 100], "alpha": [0.1, 0.2, 0.3], "seeds": [0, 1], "batch_size": 4}
>>> batch_keys(mf2), batch_points(mf2, 0, 1)
([(0, 0), (0, 1), (1, 0), (1, 1)], [[10, '0.2'], [100, '0.1'], [100, '0.3']])
>>> point_role(mf, "direct", 10, "0.1", 0)
'crosscheck'
>>> point_params({"d": 10, "N": 60, "loss_rtol": 1e-6, "flow_t_max": 1e4, "max_steps": 9, "claims": {}}, "flow")
{'simulator': 'flow', 'd': 10, 'N': 60, 'loss_rtol': 1e-06, 'flow_t_max': 10000.0}
>>> point_env("direct"), point_gpu({"device": "cuda"}, "direct"), point_gpu({"device": "cuda"}, "lifted")
('../envs/torch.yaml', 1, 0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.experiments.matfac.specs import SIMULATORS, PointSpec, Theorem4Spec
from kr.grids import expand_grid, value_id

SIMULATOR_PATTERN = "|".join(SIMULATORS)
"""Wildcard constraint of the point rule's ``simulator``."""


def point_keys(mf: Mapping[str, Any]) -> list[tuple[str, int, str, int]]:
    """(simulator, k, alpha id, seed) of the grid and of the cross-check points."""
    keys = {(mf["simulator"], int(k), value_id(a), int(s))
            for k in mf["k"] for a in expand_grid(mf["alpha"]) for s in mf["seeds"]}
    cc = mf["crosscheck"]
    keys |= {(sim, int(k), value_id(a), int(s))
             for sim in cc["simulators"] for k in cc["k"] for a in cc["alpha"] for s in cc["seeds"]}
    return sorted(keys)


def batched(mf: Mapping[str, Any]) -> bool:
    """Whether the grid runs in batch jobs (rule ``matfac_batch``): when its simulator is ``lifted``."""
    return bool(mf["simulator"] == "lifted")


def grid_points(mf: Mapping[str, Any]) -> list[tuple[int, str]]:
    """``(k, alpha id)`` of one seed's grid, k-major, alphas in grid order."""
    return [(int(k), value_id(a)) for k in mf["k"] for a in expand_grid(mf["alpha"])]


def batch_count(mf: Mapping[str, Any]) -> int:
    """Batch jobs per seed: ``ceil(grid points / batch_size)``; 0 when the grid is not batched."""
    if not batched(mf):
        return 0
    n = len(grid_points(mf))
    return -(-n // int(mf["batch_size"]))


def batch_keys(mf: Mapping[str, Any]) -> list[tuple[int, int]]:
    """``(seed, chunk)`` of every batch job."""
    return [(int(s), c) for s in sorted(int(x) for x in mf["seeds"]) for c in range(batch_count(mf))]


def batch_points(mf: Mapping[str, Any], seed: int, chunk: int) -> list[list[int | str]]:
    """``[k, alpha id]`` of a batch job's points: grid point i goes to chunk ``i mod`` :func:`batch_count`.

    Dealt round-robin so that every chunk mixes rich (long) and kernel (short) points alike.
    ``seed`` is not used (every seed has the same grid); it is there for the rule's wildcards.
    """
    del seed
    n = batch_count(mf)
    if not 0 <= int(chunk) < n:
        raise ValueError(f"matfac batch chunk {chunk} out of range: the grid has {n} chunks per seed")
    return [[k, a] for i, (k, a) in enumerate(grid_points(mf)) if i % n == int(chunk)]


def point_job_keys(mf: Mapping[str, Any]) -> list[tuple[str, int, str, int]]:
    """:func:`point_keys` run one job per point (rule ``matfac_point``): all but the batched grid points."""
    if not batched(mf):
        return point_keys(mf)
    grid = {(mf["simulator"], k, a, int(s)) for k, a in grid_points(mf) for s in mf["seeds"]}
    return [key for key in point_keys(mf) if key not in grid]


def point_tables(mf: Mapping[str, Any], results: str) -> list[str]:
    """Result tables of the one-point jobs (cross-check points; the grid too when it is not batched)."""
    return [f"{results}/matfac/{sim}/k{k}_a{a}_s{s}.csv" for sim, k, a, s in point_job_keys(mf)]


def batch_tables(mf: Mapping[str, Any], results: str) -> list[str]:
    """Result tables of the batch jobs (one row per point)."""
    return [f"{results}/matfac/lifted_batch/s{s}_c{c}.csv" for s, c in batch_keys(mf)]


def point_role(mf: Mapping[str, Any], sim: str, k: int, alpha: str, seed: int) -> str:
    """``grid`` for the heatmap's own simulator on the grid, else ``crosscheck``."""
    on_grid = (sim == mf["simulator"] and int(k) in mf["k"] and int(seed) in mf["seeds"]
               and alpha in {value_id(a) for a in expand_grid(mf["alpha"])})
    return "grid" if on_grid else "crosscheck"


def seeds(mf: Mapping[str, Any]) -> list[int]:
    """Seeds needing cvxpy references (grid and cross-check)."""
    return sorted({int(s) for s in mf["seeds"]} | {int(s) for s in mf["crosscheck"]["seeds"]})


def point_params(mf: Mapping[str, Any], simulator: str) -> dict[str, Any]:
    """The settings a ``simulator`` point job uses (:meth:`PointSpec.keys`), with ``simulator`` itself.

    A key absent from ``mf`` is left out (:meth:`PointSpec.from_config` reports what is required).
    """
    return {"simulator": simulator, **{k: mf[k] for k in PointSpec.keys(simulator) if k in mf}}


def theorem4_params(mf: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a Theorem 4 job (:data:`Theorem4Spec.KEYS` of ``matfac.theorem4``; not ``seeds``)."""
    th = mf["theorem4"]
    return {k: th[k] for k in Theorem4Spec.KEYS if k in th}


def point_env(simulator: str) -> str:
    """Conda environment of a point job (relative to rules/): torch for ``direct``, else numpy/scipy."""
    return "../envs/torch.yaml" if simulator == "direct" else "../envs/theory.yaml"


def point_gpu(mf: Mapping[str, Any], simulator: str) -> int:
    """GPUs a point job asks for: :func:`kr.devices.gpu_resource` of ``matfac.device`` for ``direct``, else 0."""
    from kr.devices import gpu_resource

    return gpu_resource(mf["device"]) if simulator == "direct" else 0
