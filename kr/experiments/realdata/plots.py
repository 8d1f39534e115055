"""Figures of the real-data experiment: 6(c) MNIST, 6(d) CIFAR-10, 8 CIFAR-10 training curves.

Drawn from the tables ``mnist``, ``cifar`` (one row per candidate run, the
lr chosen per alpha marked ``selected``) and ``cifar_curves`` (per-epoch
records of every run).  Each figure states the data scale it was run at
(the prepared data's ``scale`` note): the quick preset is *not* the paper's
scale.  Non-converged runs are never drawn as results: red crosses labelled
"not converged" in 6(c), 6(d); in Figure 8, whose subject is the
optimisation itself, their curves are drawn thin and dotted and labelled
"not converged".
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kr.plotting import Tables, mark_not_converged, split_converged

PAPER_NUMBERS = {
    "mnist": "paper (full MNIST, width 5,000): ~1.4% for alpha <= 2, ~2.4% for alpha >= 50, 2.7% output layer only",
    "cifar": "paper (full CIFAR-10, width x1, 2,000 epochs): every alpha at 100% train accuracy",
}


def _scale(df: pd.DataFrame) -> str:
    notes = sorted({str(s) for s in df.get("scale", pd.Series(dtype=str)).dropna()})
    return "; ".join(notes) if notes else "scale not recorded"


def _caption(fig: Figure, text: str) -> None:
    fig.text(0.01, 0.0, "\n".join(textwrap.wrap(text, 95)), fontsize=6.5, va="top", ha="left", color="0.25")


def _error_vs_alpha(df: pd.DataFrame, dataset: str, title: str) -> Figure:
    sel = df[df["selected"].astype(bool)].assign(test_error_pct=lambda d: 100.0 * d["test_error"])
    full, out = sel[sel["model"] == "full"], sel[sel["model"] == "output"]
    ok, bad = split_converged(full)
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    if len(ok):
        mean = ok.groupby("alpha")["test_error_pct"].agg(["mean", "std"]).reset_index()
        tuned = df[df["model"] == "full"].groupby(["alpha", "seed"]).size().max() > 1
        how = "lr tuned per alpha" if tuned else "lr " + ", ".join(f"{v:g}" for v in sorted(full["lr"].unique()))
        ax.errorbar(mean["alpha"], mean["mean"], yerr=mean["std"].fillna(0.0), ls="--", marker="o", color="tab:blue",
                    capsize=2, label=f"all layers trained ({how})")
    out_ok, out_bad = split_converged(out)
    if len(out_ok):
        ax.axhline(out_ok["test_error_pct"].mean(), color="k", ls="-", lw=1.2,
                   label=f"output layer only (alpha={', '.join(f'{a:g}' for a in sorted(out_ok['alpha'].unique()))})")
    mark_not_converged(ax, pd.concat([bad, out_bad]), "alpha", "test_error_pct")
    ax.set_xscale("log")
    ax.set(xlabel=r"$\alpha$", ylabel="test error (%)", title=title)
    ax.legend(fontsize=7)
    n_bad = len(bad) + len(out_bad)
    _caption(fig, f"Scale: {_scale(df)}. Ours, {len(full)} selected runs, {n_bad} not converged. "
                  f"For comparison, {PAPER_NUMBERS[dataset]}.")
    fig.tight_layout()
    return fig


def fig6c(tables: Tables) -> Figure:
    """Figure 6(c): MNIST test error against alpha (dashed), output-layer-only level (solid)."""
    return _error_vs_alpha(tables["mnist"], "mnist", "Figure 6(c): MNIST, depth-2 ReLU net")


def fig6d(tables: Tables) -> Figure:
    """Figure 6(d): CIFAR-10 final test error against alpha (dashed), output-layer-only level (solid)."""
    return _error_vs_alpha(tables["cifar"], "cifar", "Figure 6(d): CIFAR-10, VGG11-like net")


def fig8(tables: Tables) -> Figure:
    """Figure 8: CIFAR-10 training loss and accuracy against epoch, one line per alpha (selected runs)."""
    df = tables["cifar_curves"]
    sel = df[df["selected"].astype(bool)]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    alphas = sorted(sel.loc[sel["model"] == "full", "alpha"].unique())
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(alphas), 1)))
    groups = [(f"alpha={a:g}", c, sel[(sel["model"] == "full") & (sel["alpha"] == a)]) for a, c in zip(alphas, colors)]
    out = sel[sel["model"] == "output"]
    if len(out):
        groups.append(("output layer only", "k", out))
    for label, color, g in groups:
        for seed, run in g.groupby("seed"):
            run = run.sort_values("epoch")
            converged = bool(run["converged"].astype(bool).all())
            style = {"ls": "-", "lw": 1.4} if converged else {"ls": ":", "lw": 0.9}
            name = label if converged else f"{label} (not converged)"
            for ax, col in zip(axes, ("train_loss", "train_acc")):
                ax.plot(run["epoch"], run[col], color=color, label=name if seed == g["seed"].min() else None, **style)
                if not converged:
                    mark_not_converged(ax, run.tail(1), "epoch", col)
    axes[0].set_yscale("log")
    axes[0].set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Figure 8: training loss")
    axes[1].set(xlabel="epoch", ylabel="training accuracy", title="Figure 8: training accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    axes[0].legend(uniq.values(), uniq.keys(), fontsize=7, loc="lower left")
    _caption(fig, f"CIFAR-10 scale: {_scale(df)}. Runs that did not reach 100% training accuracy are dotted "
                  f"and marked 'not converged'.")
    fig.tight_layout()
    return fig


FIGURES: dict[str, Callable[[Tables], Figure]] = {"fig6c": fig6c, "fig6d": fig6d, "fig8": fig8}
"""Figure name -> drawing function (found by :func:`kr.plotting.figure_function`)."""
