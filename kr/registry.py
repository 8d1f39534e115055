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
"""Closed-form tables of Sections 4-5.  A table is built (and its claims
checked) when its figure is listed in ``config['figures']``."""

FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "fig2": ("fig2_q_r",),
    "fig3a": ("fig3a_qD",),
    "fig3b": ("fig3b_norm_ratio",),
}
"""Figure name -> the result tables it is drawn from."""


def tables_for_figures(figures: list[str]) -> list[str]:
    """All tables (drawn or only used by claims) that ``figures`` need.

    >>> tables_for_figures(["fig2"])
    ['fig2_q_r', 'fig2_rescaling']
    """
    return [name for name, (_, fig) in THEORY_TABLES.items() if fig in figures]
