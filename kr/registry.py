"""Names that tie config keys, result tables and figures together.

Light on purpose (no numpy): the Snakefile imports it at start-up to wire
rules, and :mod:`kr.theory_tables`, :mod:`kr.plotting` use the same names.
Later experiments add their tables and figures here.
"""

from __future__ import annotations

THEORY_TABLES: dict[str, tuple[str, str]] = {
    # table name:        (config section under `theory:`, figure it belongs to)
    "fig2_q_r": ("fig2", "fig2"),
    "fig2_rescaling": ("fig2", "fig2"),
    "fig3a_qD": ("fig3a", "fig3a"),
    "theory_limits": ("limits", "fig3a"),
    "fig3b_norm_ratio": ("fig3b", "fig3b"),
    "fig3b_transition": ("fig3b", "fig3b"),
}
"""Closed-form tables of Sections 4-5, built by rule ``theory_table``."""

DIAGONAL_TABLES: dict[str, tuple[str, ...]] = {
    # table name: figures it belongs to (rule diagonal_aggregate)
    "diagonal_refs": ("fig1a", "fig1b"),
    "diagonal_sweep": ("fig1a", "fig1b"),
    "diagonal_threshold": ("fig1c", "fig3c"),
}
"""Aggregated tables of the diagonal-network experiment (Sections 4-5)."""

FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "fig1a": ("diagonal_sweep", "diagonal_refs"),
    "fig1b": ("diagonal_sweep",),
    "fig1c": ("diagonal_threshold",),
    "fig2": ("fig2_q_r",),
    "fig3a": ("fig3a_qD",),
    "fig3b": ("fig3b_norm_ratio",),
    "fig3c": ("diagonal_threshold",),
}
"""Figure name -> the result tables it is drawn from."""


def table_figures() -> dict[str, tuple[str, ...]]:
    """Every table -> the figures that need it (drawn, or checked by claims)."""
    out = {name: (fig,) for name, (_, fig) in THEORY_TABLES.items()}
    out.update(DIAGONAL_TABLES)
    return out


def tables_for_figures(figures: list[str]) -> list[str]:
    """All tables (drawn or only used by claims) that ``figures`` need.

    >>> tables_for_figures(["fig2"])
    ['fig2_q_r', 'fig2_rescaling']
    >>> tables_for_figures(["fig1c"])
    ['diagonal_threshold']
    """
    return [name for name, figs in table_figures().items() if set(figs) & set(figures)]
