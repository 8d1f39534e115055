"""MNIST and CIFAR-10 (Section 7, Appendix A, Figures 6(c), 6(d), 8).

Modules: :mod:`.checksums`, :mod:`.dataspec` and :mod:`.datasets` (the
MD5-checked data stage), :mod:`.models` (MLP, VGG11), :mod:`.training`
(SGD with checkpoint/resume), :mod:`.runs` (runs, learning-rate selection),
:mod:`.plots`, :mod:`.claims`.  Rule files ``rules/data.smk`` and
``rules/realdata.smk``; config sections ``data:``, ``mnist:``, ``cifar:``.

Table ``mnist_ablation`` (figure ``fig6c_ablation``, the MNIST initialisation
ablation of docs/realdata.md) holds the same selected runs as ``mnist`` over
every ``mnist.init``; only a preset listing ``fig6c_ablation`` builds it
(presets/mnist-ablation-cpu.yaml), so its ledger rows are "not run" otherwise.
"""

from kr.experiments.base import Experiment

EXPERIMENT = Experiment(
    name="realdata",
    order=5,
    title="MNIST and CIFAR-10 (Section 7)",
    tables={"mnist": ("fig6c",), "mnist_ablation": ("fig6c_ablation",), "cifar": ("fig6d", "fig8"),
            "cifar_curves": ("fig8",)},
    figures={"fig6c": ("mnist",), "fig6c_ablation": ("mnist_ablation",), "fig6d": ("cifar",),
             "fig8": ("cifar_curves",)},
    sections=("mnist", "cifar"),
    rules=("rules/data.smk", "rules/realdata.smk"),
)
