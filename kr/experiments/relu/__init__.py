"""ReLU networks on synthetic data (Section 7, Figures 6(a), 6(b), 7).

Modules: :mod:`.plan` (job planning, import-light), :mod:`.specs` (typed
job specs, import-light), :mod:`.data`
(teachers and targets), :mod:`.network` (stacked MLPs), :mod:`.training`
(batched GD), :mod:`.tangent` (tangent kernel tools), :mod:`.tables`,
:mod:`.plots`, :mod:`.claims`.  Rule file ``rules/relu.smk``; config
section ``relu:``.
"""

from kr.experiments.base import Experiment

EXPERIMENT = Experiment(
    name="relu",
    order=4,
    title="ReLU networks on synthetic data (Section 7)",
    tables={"relu_fig6": ("fig6a", "fig6b"), "relu_fig7": ("fig7a", "fig7b", "fig7c")},
    figures={
        "fig6a": ("relu_fig6",),
        "fig6b": ("relu_fig6",),
        "fig7a": ("relu_fig7",),
        "fig7b": ("relu_fig7",),
        "fig7c": ("relu_fig7",),
    },
    sections=("relu",),
)
