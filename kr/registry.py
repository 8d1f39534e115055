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

MATFAC_TABLES: dict[str, tuple[str, ...]] = {
    # table name: figures it belongs to (rules/matfac.smk)
    "matfac_grid": ("fig5a", "fig5b"),
    "matfac_theorem4": ("thm4",),
}
"""Matrix factorisation, width vs scale (Section 6, Figure 5, Theorem 4)."""

RELU_TABLES: dict[str, tuple[str, ...]] = {
    # table name: figures it belongs to (rules/relu.smk)
    "relu_fig6": ("fig6a", "fig6b"),
    "relu_fig7": ("fig7a", "fig7b", "fig7c"),
}
"""ReLU networks on synthetic data (Section 7, Figures 6(a), 6(b), 7)."""

REALDATA_TABLES: dict[str, tuple[str, ...]] = {
    # table name: figures it belongs to (rules/realdata.smk)
    "mnist": ("fig6c",),
    "cifar": ("fig6d", "fig8"),
    "cifar_curves": ("fig8",),
}
"""MNIST and CIFAR-10 (Section 7, Appendix A, Figures 6(c), 6(d), 8)."""

FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "fig1a": ("diagonal_sweep", "diagonal_refs"),
    "fig1b": ("diagonal_sweep",),
    "fig1c": ("diagonal_threshold",),
    "fig2": ("fig2_q_r",),
    "fig3a": ("fig3a_qD",),
    "fig3b": ("fig3b_norm_ratio",),
    "fig3c": ("diagonal_threshold",),
    "fig5a": ("matfac_grid",),
    "fig5b": ("matfac_grid",),
    "thm4": ("matfac_theorem4",),
    "fig6a": ("relu_fig6",),
    "fig6b": ("relu_fig6",),
    "fig7a": ("relu_fig7",),
    "fig7b": ("relu_fig7",),
    "fig7c": ("relu_fig7",),
    "fig6c": ("mnist",),
    "fig6d": ("cifar",),
    "fig8": ("cifar_curves",),
}
"""Figure name -> the result tables it is drawn from."""


def table_figures() -> dict[str, tuple[str, ...]]:
    """Every table -> the figures that need it (drawn, or checked by claims)."""
    out = {name: (fig,) for name, (_, fig) in THEORY_TABLES.items()}
    for tables in (DIAGONAL_TABLES, MATFAC_TABLES, RELU_TABLES, REALDATA_TABLES):
        out.update(tables)
    return out


def tables_for_figures(figures: list[str]) -> list[str]:
    """All tables (drawn or only used by claims) that ``figures`` need.

    >>> tables_for_figures(["fig2"])
    ['fig2_q_r', 'fig2_rescaling']
    >>> tables_for_figures(["fig1c"])
    ['diagonal_threshold']
    """
    return [name for name, figs in table_figures().items() if set(figs) & set(figures)]
