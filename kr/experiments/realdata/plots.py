"""Figures of the real-data experiment: 6(c) MNIST, 6(d) CIFAR-10, 8 CIFAR-10 training curves,
and ``fig6c_ablation`` (MNIST test error against alpha, one line per initialisation).

Drawn from the tables ``mnist``, ``mnist_ablation``, ``cifar`` (one row per
candidate run, the lr chosen per alpha marked ``selected``) and
``cifar_curves`` (per-epoch records of every run).  Figure 6(c) draws the
paper's init (``he``; another only when the table has no ``he`` run).  Each figure states the data scale it was run at
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

from kr.experiments.realdata.claims import PAPER, primary_init
from kr.experiments.realdata.plan import DEFAULT_INIT
from kr.experiments.realdata.runs import pooled_test_error, with_init
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


def _with_ci(runs: pd.DataFrame) -> str:
    """``x.xx% [95% CI lo-hi%]`` of ``runs``' pooled test error (the interval only when ``n_test`` is known)."""
    err, lo, hi, n = pooled_test_error(runs)
    return f"{100 * err:.2f}%" + (f" [{100 * lo:.1f}-{100 * hi:.1f}%]" if n else "")


def _error_vs_alpha(df: pd.DataFrame, dataset: str, title: str) -> Figure:
    """Test error against alpha (selected runs; Wilson 95% intervals as error bars and in the caption)."""
    sel = df[df["selected"].astype(bool)].assign(test_error_pct=lambda d: 100.0 * d["test_error"])
    full, out = sel[sel["model"] == "full"], sel[sel["model"] == "output"]
    ok, bad = split_converged(full)
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    if len(ok):
        a, err, lo, hi = _break_at(_ci_bars(ok), bad)
        tuned = df[df["model"] == "full"].groupby(["alpha", "seed"]).size().max() > 1
        how = "lr tuned per alpha" if tuned else "lr " + ", ".join(f"{v:.3g}" for v in sorted(full["lr"].unique()))
        ax.errorbar(a, err, yerr=[lo, hi], ls="--", marker="o", color="tab:blue", capsize=2,
                    label=f"all layers trained ({how})")
    out_ok, out_bad = split_converged(out)
    if len(out_ok):
        level, o_lo, o_hi, n = pooled_test_error(out_ok)
        ax.axhline(100 * level, color="k", ls="-", lw=1.2,
                   label=f"output layer only (alpha={', '.join(f'{a:g}' for a in sorted(out_ok['alpha'].unique()))})")
        if n:
            ax.axhspan(100 * o_lo, 100 * o_hi, color="k", alpha=0.08, lw=0)
    mark_not_converged(ax, pd.concat([bad, out_bad]), "alpha", "test_error_pct")
    ax.set_xscale("log")
    ax.set(xlabel=r"$\alpha$", ylabel="test error (%)", title=title)
    ax.legend(fontsize=7)
    n_bad = len(bad) + len(out_bad)
    errors = "; ".join(f"alpha {a:g}: {_with_ci(g)}" for a, g in ok.groupby("alpha", sort=True))
    if len(out_ok):
        errors += f"; output layer only: {_with_ci(out_ok)}"
    inits = sorted(set(with_init(full)["init"].astype(str))) if len(full) else []
    init_note = f" Init {', '.join(inits)}." if inits and inits != [DEFAULT_INIT] else ""
    _caption(fig, f"Scale: {_scale(df)}.{init_note} Ours, {len(full)} selected runs, {n_bad} not converged "
                  f"(red crosses, not drawn as results). Test errors with Wilson 95% binomial intervals (error bars, "
                  f"grey band): {errors or 'none converged'}. For comparison, {PAPER_NUMBERS[dataset]}.")
    fig.tight_layout()
    return fig


def fig6c(tables: Tables) -> Figure:
    """Figure 6(c): MNIST test error against alpha (dashed), output-layer-only level (solid); the paper's init."""
    df = with_init(tables["mnist"])
    return _error_vs_alpha(df[df["init"] == primary_init(df)], "mnist", "Figure 6(c): MNIST, depth-2 ReLU net")


INIT_STYLE = {"he": ("tab:blue", "o"), "paired": ("tab:orange", "s"), "centred": ("tab:green", "^")}
NOT_CONVERGED_MARKER = {"he": "x", "paired": "+", "centred": "1"}


def _ci_bars(runs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per alpha: (alpha, pooled test error %, lower and upper error-bar lengths of its Wilson 95% interval)."""
    rows = []
    for alpha, g in runs.groupby("alpha", sort=True):
        err, lo, hi, n = pooled_test_error(g)
        if not n:  # no n_test: the interval is unknown, no bar
            lo = hi = err
        rows.append((float(alpha), 100 * err, 100 * (err - lo), 100 * (hi - err)))
    a = np.array(rows, dtype=float).reshape(-1, 4)
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3]


def _break_at(bars: tuple[np.ndarray, ...], unfitted: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """``(alpha, err, below, above)`` with a NaN row at every alpha between the first and the last that has
    only not-converged runs, so that the dashed line is broken there instead of drawn across the red cross.

    >>> x, y, lo, hi = _break_at((np.array([1.0, 10.0]),) * 4, pd.DataFrame({"alpha": [2.0, 10.0, 50.0]}))
    >>> x.tolist(), np.isnan(y).tolist()
    ([1.0, 2.0, 10.0], [False, True, False])
    """
    x = bars[0]
    gaps = np.array(sorted(set(unfitted["alpha"].astype(float)) - set(x.tolist())), dtype=float)
    gaps = gaps[(gaps > x.min()) & (gaps < x.max())] if len(x) else gaps[:0]  # only where a line would cross
    if not len(gaps):
        return bars
    order = np.argsort(np.concatenate([x, gaps]), kind="stable")
    nan = np.full(len(gaps), np.nan)
    return (np.concatenate([x, gaps])[order],) + tuple(np.concatenate([b, nan])[order] for b in bars[1:])


def fig6c_ablation(tables: Tables) -> Figure:
    """MNIST init ablation: test error against alpha, one line per init (selected lr, converged runs).

    Error bars: Wilson 95% binomial intervals on the test images.  The
    output-layer-only runs (kernel proxy) are horizontal levels (their interval
    shaded); the paper's three numbers are black open markers (its
    output-layer-only level just right of the largest alpha).  Non-converged
    selected runs are red crosses (one cross shape per init), never part of a
    line (the line is broken at them); the y axis is logarithmic when the errors span more than a decade.
    """
    df = with_init(tables["mnist_ablation"])
    sel = df[df["selected"].astype(bool)].assign(test_error_pct=lambda d: 100.0 * d["test_error"])
    full, out = sel[sel["model"] == "full"], sel[sel["model"] == "output"]
    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    n_bad = 0
    order = list(INIT_STYLE)
    inits = sorted(set(full["init"]) | set(out["init"]), key=lambda i: (order.index(i) if i in order else len(order), i))
    for k, init in enumerate(inits):
        color, marker = INIT_STYLE.get(init, (f"C{k + 3}", "D"))
        ok, bad = split_converged(full[full["init"] == init])
        o_ok, o_bad = split_converged(out[out["init"] == init])
        bad = pd.concat([bad, o_bad])
        n_bad += len(bad)
        if len(bad):
            ax.scatter(bad["alpha"], bad["test_error_pct"].fillna(100.0), color="red", zorder=5, s=40,
                       marker=NOT_CONVERGED_MARKER.get(init, "x"), label=f"not converged, init {init}")
        if len(ok):
            x, y, below, above = _break_at(_ci_bars(ok), bad)
            ax.errorbar(x, y, yerr=[below, above], ls="--", marker=marker, color=color, capsize=2, ms=4,
                        label=f"all layers, init {init}")
        if len(o_ok):
            err, lo, hi, n = pooled_test_error(o_ok)
            ax.axhline(100 * err, color=color, ls="-", lw=1.2,
                       label=f"output layer only, init {init} (alpha "
                             f"{', '.join(f'{a:g}' for a in sorted(o_ok['alpha'].unique()))})")
            if n:
                ax.axhspan(100 * lo, 100 * hi, color=color, alpha=0.12, lw=0)
    alphas = np.array(sorted(sel["alpha"].unique()), dtype=float) if len(sel) else np.array([1.0, 50.0])
    small = alphas[alphas <= 2.0] if (alphas <= 2.0).any() else np.array([2.0])
    large = alphas[alphas >= 50.0] if (alphas >= 50.0).any() else np.array([50.0])
    paper = PAPER["mnist"]
    ax.scatter(small, np.full(len(small), paper["small"]), marker="*", s=70, facecolor="none", edgecolor="k",
               zorder=4, label=f"paper: ~{paper['small']}% (alpha <= 2)")
    ax.scatter(large, np.full(len(large), paper["large"]), marker="P", s=55, facecolor="none", edgecolor="k",
               zorder=4, label=f"paper: ~{paper['large']}% (alpha >= 50)")
    ax.scatter([alphas.max() * 1.5], [paper["output"]], marker="D", s=40, facecolor="none",
               edgecolor="k", zorder=4, label=f"paper: {paper['output']}% (output layer only, a level)")
    ax.set_xscale("log")
    shown = sel["test_error_pct"].dropna()
    shown = shown[shown > 0]
    if len(shown) and shown.max() > 10 * min(shown.min(), paper["small"]):
        ax.set_yscale("log")
    ax.set(xlabel=r"$\alpha$", ylabel="test error (%)", title="MNIST: initialisation ablation (Figure 6(c))")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    n_test = sorted({int(v) for v in sel.get("n_test", pd.Series(dtype=float)).dropna()})
    how = []
    for col, default in (("init_scale", "std"), ("bias", False)):
        vals = sorted({str(v) for v in sel[col].dropna()}) if col in sel.columns else [str(default)]
        how.append(f"{col} {'/'.join(vals)}")
    widths = sorted({int(v) for v in sel["width"].dropna()}) if "width" in sel.columns else []
    _caption(fig, f"Scale: {_scale(df)}; width {', '.join(map(str, widths)) or '?'}, {'; '.join(how)}. "
                  f"lr = c / alpha^2 with c selected on validation images; {len(sel)} selected runs, {n_bad} not "
                  f"converged (red crosses, not drawn as results). Error bars and bands: Wilson 95% binomial intervals "
                  f"on {', '.join(f'{n:,}' for n in n_test) or 'the'} test images. Paper (full MNIST, width 5,000, he "
                  f"init): open black markers.")
    fig.tight_layout()
    return fig


def fig6d(tables: Tables) -> Figure:
    """Figure 6(d): CIFAR-10 final test error against alpha (dashed), output-layer-only level (solid)."""
    df = with_init(tables["cifar"])
    return _error_vs_alpha(df[df["init"] == primary_init(df)], "cifar", "Figure 6(d): CIFAR-10, VGG11-like net")


def fig8(tables: Tables) -> Figure:
    """Figure 8: CIFAR-10 training loss and accuracy against epoch, one line per alpha (selected runs)."""
    df = with_init(tables["cifar_curves"])
    df = df[df["init"] == primary_init(df)]
    sel = df[df["selected"].astype(bool)]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    alphas = sorted(sel.loc[sel["model"] == "full", "alpha"].unique())
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(len(alphas), 1)))
    full = sel[sel["model"] == "full"]
    several = "lr" in full.columns and full["lr"].nunique() > 1  # e.g. lr.alpha_floor: another lr above the floor
    groups = [(f"alpha={a:g}" + (f" (lr {full.loc[full['alpha'] == a, 'lr'].iloc[0]:.3g})" if several else ""), c,
               full[full["alpha"] == a]) for a, c in zip(alphas, colors)]
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


FIGURES: dict[str, Callable[[Tables], Figure]] = {"fig6c": fig6c, "fig6c_ablation": fig6c_ablation, "fig6d": fig6d,
                                                  "fig8": fig8}
"""Figure name -> drawing function (found by :func:`kr.plotting.figure_function`)."""
