"""The paper's experiments, one folder each, and the lists derived from them.

An experiment is a sub-package ``kr/experiments/<name>/`` whose
``__init__.py`` defines ``EXPERIMENT`` (a :class:`~kr.experiments.base.Experiment`).
This module discovers them (no hand-kept list) and derives everything the
workflow and the ledger need: every table, every figure, which tables a set
of figures needs, the drawing function of a figure, every claim, and the
ledger thresholds of a config.  Discovery imports only the light
``__init__`` modules; plots and claims are imported on demand.

The core (``kr/*.py``) never imports this package; experiments import the core.

>>> [e.name for e in experiments()]
['theory', 'diagonal', 'matfac', 'relu', 'realdata']
>>> tables_for_figures(["fig2"])
['fig2_q_r', 'fig2_rescaling']
>>> figure_function("fig5a").__module__
'kr.experiments.matfac.plots'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from kr.experiments.base import Experiment

if TYPE_CHECKING:
    from kr.ledger import Claim

__all__ = [
    "Experiment",
    "all_claims",
    "check_config",
    "claim_thresholds",
    "column_descriptions",
    "experiment_of_figure",
    "experiments",
    "figure_function",
    "figure_tables",
    "rule_files",
    "table_figures",
    "tables_for_figures",
]


@cache
def experiments() -> tuple[Experiment, ...]:
    """Every experiment under ``kr/experiments/``, in paper (ledger) order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        exp = getattr(module, "EXPERIMENT", None)
        if not isinstance(exp, Experiment):
            raise TypeError(f"kr.experiments.{info.name} defines no EXPERIMENT")
        if exp.name != info.name:
            raise ValueError(f"kr.experiments.{info.name}: EXPERIMENT.name is {exp.name!r}")
        found.append(exp)
    found.sort(key=lambda e: (e.order, e.name))
    _check_unique(found)
    return tuple(found)


def _check_unique(found: Iterable[Experiment]) -> None:
    seen_tables: dict[str, str] = {}
    seen_figures: dict[str, str] = {}
    for exp in found:
        for kind, names, seen in (("table", exp.tables, seen_tables), ("figure", exp.figures, seen_figures)):
            for name in names:
                if name in seen:
                    raise ValueError(f"{kind} {name!r} declared by both {seen[name]!r} and {exp.name!r}")
                seen[name] = exp.name


def figure_tables() -> dict[str, tuple[str, ...]]:
    """Figure name -> the tables it is drawn from, over all experiments."""
    return {fig: tabs for exp in experiments() for fig, tabs in exp.figures.items()}


def table_figures() -> dict[str, tuple[str, ...]]:
    """Every table -> the figures that need it (drawn, or checked by claims)."""
    return {name: figs for exp in experiments() for name, figs in exp.tables.items()}


def tables_for_figures(figures: Iterable[str]) -> list[str]:
    """All tables (drawn or only used by claims) that ``figures`` need.

    >>> tables_for_figures(["fig1c"])
    ['diagonal_threshold']
    """
    wanted = set(figures)
    return [name for name, figs in table_figures().items() if set(figs) & wanted]


def experiment_of_figure(name: str) -> Experiment:
    """The experiment that declares figure ``name``."""
    for exp in experiments():
        if name in exp.figures:
            return exp
    raise KeyError(f"no experiment declares figure {name!r}")


def figure_function(name: str) -> Callable[..., Any]:
    """The drawing function of figure ``name`` (from its experiment's ``plots`` module)."""
    figures = importlib.import_module(experiment_of_figure(name).plots).FIGURES
    if name not in figures:
        raise KeyError(f"{experiment_of_figure(name).plots} draws no figure {name!r}")
    function: Callable[..., Any] = figures[name]
    return function


def rule_files() -> list[str]:
    """Every experiment's Snakemake rule files, in experiment order (the Snakefile includes them)."""
    return [path for exp in experiments() for path in exp.rules]


def column_descriptions() -> dict[str, dict[str, str]]:
    """Table -> column -> meaning and unit, from every experiment's ``columns`` module."""
    out: dict[str, dict[str, str]] = {}
    for exp in experiments():
        out.update(importlib.import_module(exp.columns).COLUMNS)
    out["claims"] = dict(LEDGER_COLUMNS)
    return out


LEDGER_COLUMNS: dict[str, str] = {
    "claim_id": "stable identifier of the claim",
    "source": "where the paper makes the claim (section, figure, theorem)",
    "claim": "the claim, in words",
    "quantity": "what was measured to check it",
    "value": "the measured value (NaN when not run)",
    "threshold": "the criterion the value is held to (thresholds from config claims:)",
    "verdict": "reproduced, not reproduced, or not run (its tables were not built)",
    "detail": "how the value was computed and what it was computed from",
}
"""Columns of ``results/claims.csv``."""


def all_claims() -> list[Claim]:
    """Every experiment's claims, in ledger order; claim ids are unique."""
    claims: list[Claim] = []
    for exp in experiments():
        claims.extend(importlib.import_module(exp.claims).CLAIMS)
    ids = [c.claim_id for c in claims]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate claim ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return claims


def check_config(config: Mapping[str, Any], *, local: bool = True) -> None:
    """Every experiment's start-up checks (``check_config(config, *, local)`` of its ``plan`` module), in order.

    ``local`` says jobs run on this machine (not through a cluster executor):
    only then are machine facts checked, e.g. that ``device: cuda`` has a GPU.
    Raises ``ValueError`` whose message names the config key and value.
    """
    for exp in experiments():
        plan = importlib.import_module(f"{__name__}.{exp.name}.plan")
        check = getattr(plan, "check_config", None)
        if check is not None:
            check(config, local=local)


def claim_thresholds(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ledger thresholds: top-level ``claims:`` plus each experiment section's ``claims:``."""
    out = dict(config.get("claims", {}))
    for exp in experiments():
        for section in exp.sections:
            out.update(config.get(section, {}).get("claims", {}))
    return out
