"""Meaning and unit of every column of this experiment's result tables (results/datapackage.json).

``mnist`` and ``cifar`` hold one row per SGD run (its last evaluated epoch,
candidates and the selected learning rate alike); ``cifar_curves`` one row
per evaluated epoch of every CIFAR-10 run (Figure 8).
"""

_METRICS: dict[str, str] = {
    "train_loss": "mean cross-entropy on the training set, a full pass at the current weights [nats]",
    "train_acc": "training accuracy [fraction of training images]",
    "running_loss": "mean minibatch cross-entropy during the epoch's SGD updates [nats]",
    "val_error": "error on the held-out validation images, used to select lr [fraction of validation images]; "
                 "NaN without them",
    "test_loss": "mean cross-entropy on the test set [nats]",
    "test_error": "test error [fraction of test images] (Figure 6(c) for MNIST, 6(d) for CIFAR-10)",
    "elapsed_s": "training time up to this evaluation, resumes included [s]",
}

_RUN: dict[str, str] = {
    "dataset": "data set: mnist or cifar (CIFAR-10)",
    "model": "full: every layer trained; output: hidden layers frozen at init, only the output layer trained "
             "(the kernel proxy)",
    "alpha": "initialisation scale: He-initialised weights multiplied by alpha (the x-axis of Figure 6(c, d))",
    "lr_c": "constant c of the learning rate lr = c / max(alpha, alpha_floor)^p",
    "lr": "SGD step size c / max(alpha, alpha_floor)^p",
    "lr_alpha_power": "power p of lr = c / max(alpha, alpha_floor)^p (0: a fixed step, the paper's CIFAR-10 setting)",
    "lr_alpha_floor": "alpha_floor of lr = c / max(alpha, alpha_floor)^p: a fixed step below it (0: no floor)",
    "seed": "seed of the initialisation and of the minibatch order",
}

_SIZE: dict[str, str] = {
    "batch_size": "SGD minibatch size [images]",
    "max_epochs": "epoch cap of the run [epochs]",
    "n_train": "training images used, validation images held out [images]",
    "n_val": "held-out validation images [images]",
    "n_test": "test images [images]",
    "scale": "note on the data's scale (e.g. an embedded subset, not the paper's full data set)",
}

_OUTCOME: dict[str, str] = {
    "converged": "whether the run fitted the training set (100% accuracy) or, output-only runs, reached its loss "
                 "plateau; never after divergence",
    "diverged": "whether the training loss became non-finite",
    "stop_reason": "why training stopped: fit, plateau, max_epochs, diverged or chance (collapsed to chance-level "
                   "loss and accuracy)",
    "epochs": "epochs trained in total [epochs]",
    "device": "device trained on (cpu or cuda)",
    "tf32": "whether TF32 matmuls and convolutions were allowed (CUDA only)",
}

_SELECTED_RUN = ("whether this run's lr had the lowest validation error among its (dataset, model, alpha, seed) "
                 "candidates (converged preferred): the reported result")

_INIT: dict[str, str] = {
    "init": "initialisation: he (independent He draws x alpha, the paper's), paired (f(alpha w0) = 0) or centred",
    "init_scale": "reading of Appendix A's N(0, sqrt(2/n_in)): std (sqrt(2/n_in) is the standard deviation) or variance",
    "bias": "whether the MLP has PyTorch-default biases x alpha (not alpha-homogeneous then)",
}

COLUMNS: dict[str, dict[str, str]] = {
    "mnist": {
        "epoch": "last evaluated epoch of the run, at which the row's metrics were taken [epochs]",
        **_METRICS,
        **_RUN,
        "width": "hidden units of the depth-2 ReLU network (the paper: 5000)",
        **_SIZE,
        **_OUTCOME,
        **_INIT,
        "selected": _SELECTED_RUN,
    },
    "cifar": {
        "epoch": "last evaluated epoch of the run, at which the row's metrics were taken [epochs]",
        **_METRICS,
        **_RUN,
        "width_multiplier": "factor on every channel count of the VGG11-like network (1: the paper's widths)",
        **_SIZE,
        **_OUTCOME,
        "selected": _SELECTED_RUN,
    },
    "cifar_curves": {
        "epoch": "epoch after which the row's metrics were evaluated [epochs]",
        **_METRICS,
        **_RUN,
        "width_multiplier": "factor on every channel count of the VGG11-like network (1: the paper's widths)",
        **_SIZE,
        **_OUTCOME,
        "selected": "whether this curve's run is the selected one (lowest validation error) of its (dataset, model, "
                    "alpha, seed)",
    },
}
# the init ablation (presets/mnist-ablation-cpu.yaml): the selected runs of every init, as in `mnist`
COLUMNS["mnist_ablation"] = dict(COLUMNS["mnist"])
