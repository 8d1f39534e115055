"""Job planning of rules/relu.smk (no torch, no numpy: the Snakefile imports it).

Each job's params carry exactly the config keys it reads (so that Snakemake's
params trigger reruns only the jobs a change affects): a Figure 6 job the
``fig6`` keys but not ``depths``/``seeds`` (its wildcards), a Figure 7 panel
job its own shape ``c`` but not the other panels' (nor the ``shapes``
mapping); no job reads ``claims``.  Scripts turn them into
:class:`~kr.experiments.relu.specs.Fig6Spec` / ``Fig7Spec``.

>>> cfg = {"dtype": "float64",
...        "fig6": {"depths": [2, 5], "seeds": [0], **dict.fromkeys(FIG6_KEYS, 1)},
...        "fig7": {"shapes": {"b": 0.2, "a": 1.0}, **dict.fromkeys(FIG7_KEYS, 1)}}
>>> fig6_tables(cfg, "results")
['results/relu/fig6/D2_s0.csv', 'results/relu/fig6/D5_s0.csv']
>>> fig7_tables(cfg, "results")
['results/relu/fig7/panel_a.csv', 'results/relu/fig7/panel_b.csv']
>>> sorted(set(cfg["fig6"]) - set(fig6_params(cfg))), fig6_params(cfg)["dtype"]
(['depths', 'seeds'], 'float64')
>>> p = fig7_params(cfg, "b")
>>> p["panel"], p["c"], "shapes" in p
('b', 0.2, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.experiments.relu.specs import FIG6_KEYS, FIG7_KEYS, Fig6Spec, Fig7Spec


def fig6_params(relu: Mapping[str, Any]) -> dict[str, Any]:
    """Params of a Figure 6 (D, seed) job: the ``fig6`` keys it reads and the section-wide ``dtype``."""
    f6 = relu["fig6"]
    return {**{k: f6[k] for k in FIG6_KEYS}, "dtype": relu["dtype"]}


def fig7_params(relu: Mapping[str, Any], panel: str) -> dict[str, Any]:
    """Params of one Figure 7 panel job: the panel, its own shape ``c``, the ``fig7`` keys it reads, ``dtype``."""
    f7 = relu["fig7"]
    if panel not in f7["shapes"]:
        raise ValueError(f"relu.fig7.shapes has no panel {panel!r} (panels: {', '.join(sorted(f7['shapes']))})")
    return {"panel": panel, "c": f7["shapes"][panel], **{k: f7[k] for k in FIG7_KEYS}, "dtype": relu["dtype"]}


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


def check_config(config: Mapping[str, Any], *, local: bool = True) -> None:
    """Start-up checks of the ``relu:`` section: what its jobs would reject, naming the key. ``local``: unused (no machine facts to check)."""
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
    # every job's spec, as its script builds it from the params
    Fig6Spec.from_config(fig6_params(relu))
    for panel in sorted(f7["shapes"]):
        Fig7Spec.from_config(fig7_params(relu, panel))
