"""Job planning of rules/relu.smk (no torch, no numpy: the Snakefile imports it).

>>> cfg = {"dtype": "float64", "fig6": {"depths": [2, 5], "seeds": [0]}, "fig7": {"shapes": {"b": 0.2, "a": 1.0}}}
>>> fig6_tables(cfg, "results")
['results/relu/fig6/D2_s0.csv', 'results/relu/fig6/D5_s0.csv']
>>> fig7_tables(cfg, "results")
['results/relu/fig7/panel_a.csv', 'results/relu/fig7/panel_b.csv']
>>> spec(cfg, "fig6")["dtype"]
'float64'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def spec(relu: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A sub-experiment's config (``fig6`` or ``fig7``) with the section-wide ``dtype``."""
    return {**relu[name], "dtype": relu["dtype"]}


def fig6_tables(relu: Mapping[str, Any], results: str) -> list[str]:
    """Per-job tables of Figure 6: one per (D, seed)."""
    f6 = relu["fig6"]
    return [f"{results}/relu/fig6/D{D}_s{s}.csv" for D in f6["depths"] for s in f6["seeds"]]


def fig7_tables(relu: Mapping[str, Any], results: str) -> list[str]:
    """Per-job tables of Figure 7: one per panel (shape c)."""
    return [f"{results}/relu/fig7/panel_{p}.csv" for p in sorted(relu["fig7"]["shapes"])]


def sources(relu: Mapping[str, Any], results: str, table: str) -> list[str]:
    """The per-job tables aggregated into ``table`` (``relu_fig6`` or ``relu_fig7``)."""
    return fig6_tables(relu, results) if table == "relu_fig6" else fig7_tables(relu, results)


def check_config(config: Mapping[str, Any]) -> None:
    """Start-up checks of the ``relu:`` section: what its jobs would reject, naming the key."""
    relu = config["relu"]
    f7 = relu["fig7"]
    if len(f7["x"]) != len(f7["y"]):
        raise ValueError(f"relu.fig7.x has {len(f7['x'])} points but relu.fig7.y has {len(f7['y'])}: "
                         f"give one target per input")
    if len(set(f7["x"])) != len(f7["x"]):
        raise ValueError(f"relu.fig7.x = {f7['x']!r} repeats an input: the data set needs distinct x")
    if int(f7["width"]) % 2:
        raise ValueError(f"relu.fig7.width = {f7['width']} must be even: the univariate network pairs its units")
    f6 = relu["fig6"]
    if not 1 <= int(f6["teacher_hidden"]):
        raise ValueError(f"relu.fig6.teacher_hidden = {f6['teacher_hidden']!r} must be >= 1")
    if f6["unbiased"] and int(f6["width"]) % 2:
        raise ValueError(f"relu.fig6.width = {f6['width']} must be even when relu.fig6.unbiased pairs the "
                         f"last hidden layer")
