"""Matrix factorisation, width vs scale (Section 6, Figure 5, Theorem 4).

Modules: :mod:`.plan` (job planning, import-light), :mod:`.core`
(problems, simulators, metrics, drivers), :mod:`.nuclear` (cvxpy
references), :mod:`.plots`, :mod:`.claims`.  Rule file ``rules/matfac.smk``;
config section ``matfac:``.
"""

from kr.experiments.base import Experiment

EXPERIMENT = Experiment(
    name="matfac",
    order=3,
    title="Matrix factorisation (Section 6)",
    tables={"matfac_grid": ("fig5a", "fig5b"), "matfac_theorem4": ("thm4",)},
    figures={"fig5a": ("matfac_grid",), "fig5b": ("matfac_grid",), "thm4": ("matfac_theorem4",)},
    sections=("matfac",),
)
