"""Job planning of rules/diagonal.smk (import-light: no numpy; the Snakefile imports it).

Alphas appear in file names as :func:`kr.grids.value_id` forms.

>>> dg = {"N": 12, "seeds": [0], "depths": [2], "alpha": [0.1, 1.0],
...       "theorem3": {"depths": [3], "seeds": [0], "alpha": [0.01]},
...       "gd": {"depths": [2], "alpha": [1.0], "seeds": [0]}, "fig1c": {"depths": [2]}}
>>> sweep_tables(dg, "results")
['results/diagonal/sweep/N12_D2_s0.csv', 'results/diagonal/sweep/N12_D3_s0.csv']
>>> sweep_alphas(dg, 3)
[0.01]
>>> gd_tables(dg, "results")
['results/diagonal/gd/N12_D2_a1_s0.csv']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.grids import expand_grid, value_id


def _values(x: Any) -> list[Any]:
    """A grid key's values: a list as given, a scalar as a one-element list (as ``expand`` treats it)."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def ref_tables(dg: Mapping[str, Any], results: str) -> list[str]:
    """min-l1 / min-l2 reference tables: one per (N, seed)."""
    return [f"{results}/diagonal/refs/N{n}_s{s}.csv" for n in _values(dg["N"]) for s in _values(dg["seeds"])]


def sweep_tables(dg: Mapping[str, Any], results: str) -> list[str]:
    """Flow + min-Q sweeps: Figure 1's (depths x seeds) plus the Theorem 3 sweeps."""
    th3 = dg["theorem3"]
    keys = {(n, D, s) for n in _values(dg["N"]) for D in _values(dg["depths"]) for s in _values(dg["seeds"])}
    keys |= {(n, D, s) for n in _values(dg["N"]) for D in _values(th3["depths"]) for s in _values(th3["seeds"])}
    return sorted(f"{results}/diagonal/sweep/N{n}_D{D}_s{s}.csv" for n, D, s in keys)


def sweep_alphas(dg: Mapping[str, Any], D: int | str) -> list[float]:
    """The alpha grid of a sweep: Figure 1's, or the Theorem 3 grid for the extra depths."""
    grid = dg["alpha"] if int(D) in _values(dg["depths"]) else dg["theorem3"]["alpha"]
    return [float(a) for a in expand_grid(grid)]


def gd_tables(dg: Mapping[str, Any], results: str) -> list[str]:
    """GD marker tables: one per (N, D, alpha, seed)."""
    gd = dg["gd"]
    return [f"{results}/diagonal/gd/N{n}_D{D}_a{value_id(a)}_s{s}.csv"
            for n in _values(dg["N"]) for D in _values(gd["depths"]) for a in _values(gd["alpha"]) for s in _values(gd["seeds"])]


def threshold_tables(dg: Mapping[str, Any], results: str) -> list[str]:
    """Figure 1(c)/3(c) bisections: one per (D, seed)."""
    return [f"{results}/diagonal/threshold/D{D}_s{s}.csv" for D in _values(dg["fig1c"]["depths"]) for s in _values(dg["seeds"])]


_PROBLEM_KEYS = ("d", "r_star", "noise_var")


def problem_params(dg: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a reference job: the keys that define a problem draw."""
    return {k: dg[k] for k in _PROBLEM_KEYS}


def sweep_params(dg: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a sweep job (its alpha grid is a separate param)."""
    return {**problem_params(dg), "flow_tol": dg["flow_tol"], "theorem2_eps": list(dg["theorem2_eps"])}


def gd_params(dg: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a GD job: the problem and the GD settings (not its grid of points)."""
    gd = {k: v for k, v in dg["gd"].items() if k not in ("alpha", "seeds", "depths")}
    return {**problem_params(dg), "gd": gd}


def threshold_params(dg: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a Figure 1(c)/3(c) job: the problem and the search settings (not the depth list)."""
    fig1c = {k: v for k, v in dg["fig1c"].items() if k != "depths"}
    return {**problem_params(dg), "fig1c": fig1c}


def check_config(config: Mapping[str, Any], *, local: bool = True) -> None:
    """Start-up checks of the ``diagonal:`` section (:func:`.specs.check_section`). ``local``: unused (no machine facts to check)."""
    from kr.experiments.diagonal.specs import check_section

    check_section(config["diagonal"])
