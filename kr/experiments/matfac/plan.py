"""Job planning of the matfac rules (rules/matfac.smk): which points, which role, which settings.

Light (no torch): imported by the Snakefile at start-up.  Alphas appear in
file names as :func:`kr.grids.value_id` forms.  Each job's ``params`` hold
only the settings it uses (:func:`point_params`, :func:`theorem4_params`; the
reference jobs' ``d`` and ``N``), read back by :class:`~.specs.PointSpec` /
:class:`~.specs.Theorem4Spec`; the ledger thresholds (``matfac.claims``)
are no job's params.

>>> mf = {"simulator": "lifted", "k": [10], "alpha": [0.1], "seeds": [0],
...       "crosscheck": {"simulators": ["direct"], "k": [10], "alpha": [0.1], "seeds": [0]}}
>>> point_keys(mf)
[('direct', 10, '0.1', 0), ('lifted', 10, '0.1', 0)]
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


def point_tables(mf: Mapping[str, Any], results: str) -> list[str]:
    """Per-point result tables of the grid and the cross-check."""
    return [f"{results}/matfac/{sim}/k{k}_a{a}_s{s}.csv" for sim, k, a, s in point_keys(mf)]


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
    """GPUs a point job asks for: 1 for ``direct`` when ``matfac.device`` is ``cuda``, else 0."""
    return 1 if simulator == "direct" and mf["device"] == "cuda" else 0
