"""Closed-form theory of Sections 4-5: q, Q, h_D, q_D, r (Figures 2, 3(a), 3(b)).

Modules: :mod:`.tables` (tidy tables from :mod:`kr.theory`), :mod:`.plots`,
:mod:`.claims`.  Rule file ``rules/theory.smk``; config section ``theory:``.
"""

from kr.experiments.base import Experiment

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

EXPERIMENT = Experiment(
    name="theory",
    order=1,
    title="Closed-form implicit biases (Sections 4-5)",
    tables={name: (fig,) for name, (_, fig) in THEORY_TABLES.items()},
    figures={"fig2": ("fig2_q_r",), "fig3a": ("fig3a_qD",), "fig3b": ("fig3b_norm_ratio",)},
)
