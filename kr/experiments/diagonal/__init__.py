"""Diagonal linear networks (Sections 4-5, Figures 1(a)-(c), 3(c), Theorems 1-3).

Modules: :mod:`.data` (the sparse regression problem of Section 4),
:mod:`.flow` (exact gradient flow and GD of the depth-D model),
:mod:`.tables` (rows of the sweep, reference and threshold tables),
:mod:`.plots`, :mod:`.claims`.  Rule file ``rules/diagonal.smk``; config
section ``diagonal:``.
"""

from kr.experiments.base import Experiment

EXPERIMENT = Experiment(
    name="diagonal",
    order=2,
    title="Diagonal linear networks (Sections 4-5)",
    tables={
        "diagonal_refs": ("fig1a", "fig1b"),
        "diagonal_sweep": ("fig1a", "fig1b"),
        "diagonal_threshold": ("fig1c", "fig3c"),
    },
    figures={
        "fig1a": ("diagonal_sweep", "diagonal_refs"),
        "fig1b": ("diagonal_sweep",),
        "fig1c": ("diagonal_threshold",),
        "fig3c": ("diagonal_threshold",),
    },
)
