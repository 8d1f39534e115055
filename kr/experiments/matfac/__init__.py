"""Matrix factorisation, width vs scale (Section 6, Figure 5, Theorem 4).

Modules:

* :mod:`.problems` -- matrix completion and diagonal measurements (numpy only);
* :mod:`.simulators` -- ``U(0), V(0)``, the lifted matrix ``Mbar = W W^T``, lifted GD
  (per point, and batched over many points as one ``[B, 2d, 2d]`` stack),
  direct GD on ``(U, V)`` (torch, imported lazily), the lifted flow;
* :mod:`.metrics` -- nuclear norm, the kernel prediction, Figure 5's metrics;
* :mod:`.specs` -- validated job settings (:class:`~.specs.PointSpec`,
  :class:`~.specs.Theorem4Spec`; import-light);
* :mod:`.tables` -- the drivers: one Figure 5 point, a batch of points, the Theorem 4 rows, the grid table;
* :mod:`.nuclear` -- cvxpy reference completions;
* :mod:`.plan` -- job planning (import-light, no torch), :mod:`.plots`, :mod:`.claims`.

Rule file ``rules/matfac.smk``; config section ``matfac:``.
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
