"""Job planning of the matfac rules (rules/matfac.smk): which points, which role.

Light (no torch): imported by the Snakefile at start-up.  Alphas appear in
file names as :func:`kr.grids.value_id` forms.

>>> mf = {"simulator": "lifted", "k": [10], "alpha": [0.1], "seeds": [0],
...       "crosscheck": {"simulators": ["direct"], "k": [10], "alpha": [0.1], "seeds": [0]}}
>>> point_keys(mf)
[('direct', 10, '0.1', 0), ('lifted', 10, '0.1', 0)]
>>> point_role(mf, "direct", 10, "0.1", 0)
'crosscheck'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.grids import expand_grid, value_id


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
