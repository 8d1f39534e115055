"""Figures of the ReLU experiment (Section 7): 6(a), 6(b), 7(a-c).

Drawn from the tables ``relu_fig6`` and ``relu_fig7``
(:mod:`kr.experiments.relu.tables`).  Runs that did not converge (step cap or
divergence) are never drawn as results: they appear as red crosses labelled
"not converged".  No torch here.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from kr.plotting import Tables, mark_not_converged, split_converged


def _fig6(df: pd.DataFrame, y: str, ylabel: str, title: str, kernel: bool) -> Figure:
    ok, bad = split_converged(df)
    depths = sorted(int(D) for D in df["D"].unique())
    palette = dict(zip(depths, sns.color_palette("viridis", len(depths))))
    fig, ax = plt.subplots(figsize=(6.6, 3.5))
    sns.lineplot(data=ok, x="alpha_D", y=y, hue="D", palette=palette, marker="o", errorbar=("pi", 100), ax=ax)
    if kernel:
        ref = df.groupby(["D", "alpha_D"])["kernel_test_error"].mean().reset_index()
        lin = df.groupby(["D", "alpha_D"])["linearised_test_error"].mean().reset_index()
        for D in depths:
            r = ref[ref["D"] == D]
            ax.plot(r["alpha_D"], r["kernel_test_error"], ls="--", lw=1.0, color=palette[D],
                    label=f"kernel predictor, D={D}")
            r = lin[lin["D"] == D]
            ax.plot(r["alpha_D"], r["linearised_test_error"], ls=":", lw=1.0, color=palette[D],
                    label=f"linearised GD (same tol), D={D}")
    mark_not_converged(ax, bad, "alpha_D", y)
    ax.set_xscale("log")
    ax.set_yscale("log")
    seeds = df["seed"].nunique()  # band: min-max over seeds
    ax.set(xlabel=r"$\alpha^D$", ylabel=ylabel,
           title=f"{title}: width {int(df['width'].iloc[0])}, N={int(df['n_train'].iloc[0])}, {seeds} seeds")
    ax.legend(fontsize=7, title="$D$", title_fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def fig6a(tables: Tables) -> Figure:
    """Figure 6(a): test error against alpha^D per depth; dashed: the tangent-kernel predictor's."""
    return _fig6(tables["relu_fig6"], "test_error", "test error (mean squared)",
                 "Figure 6(a)", kernel=True)


def fig6b(tables: Tables) -> Figure:
    """Figure 6(b): grad distance (tangent features on the training inputs) against alpha^D."""
    return _fig6(tables["relu_fig6"], "grad_distance", "grad distance (on training inputs)", "Figure 6(b)",
                 kernel=False)


def _fig7(tables: Tables, panel: str) -> Figure:
    df = tables["relu_fig7"]
    df = df[df["panel"] == panel]
    c = float(df["c"].iloc[0])
    data = df[df["curve"] == "data"].sort_values("x")
    net = df[df["curve"] == "network"]
    alphas = sorted(net["alpha"].unique())
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    bad_rows = []
    for i, a in enumerate(alphas):
        run = net[net["alpha"] == a].sort_values("x")
        if run["converged"].astype(bool).all():
            ax.plot(run["x"], run["f"], color=cmap(i / max(1, len(alphas) - 1)), lw=1.2,
                    label=rf"$\alpha$={a:.3g}")
        else:
            bad_rows.append(run.iloc[:: max(1, len(run) // 12)])
    if bad_rows:
        mark_not_converged(ax, pd.concat(bad_rows), "x", "f")
    spline = df[df["curve"] == "spline"].sort_values("x")
    ax.plot(spline["x"], spline["f"], color="tab:red", ls=":", lw=1.6, label="linear spline (rich limit)")
    kern = df[(df["curve"] == "kernel") & (df["alpha"] == alphas[-1])].sort_values("x")
    ax.plot(kern["x"], kern["f"], color="k", ls="--", lw=1.2, label=rf"kernel predictor, $\alpha$={alphas[-1]:.3g}")
    ax.scatter(data["x"], data["f"], color="k", zorder=6, s=18, label="training points")
    lo, hi = float(data["f"].min()), float(data["f"].max())
    pad = 0.6 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set(xlabel="$x$", ylabel="$f(x)$",
           title=f"Figure 7({panel}): width k={int(df['width'].iloc[0])}, shape c={c:g}")
    ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    return fig


def fig7a(tables: Tables) -> Figure:
    """Figure 7(a): learned functions per alpha, shape c of panel a (the standard init, c = 1)."""
    return _fig7(tables, "a")


def fig7b(tables: Tables) -> Figure:
    """Figure 7(b): as 7(a) with the shape c of panel b."""
    return _fig7(tables, "b")


def fig7c(tables: Tables) -> Figure:
    """Figure 7(c): as 7(a) with the shape c of panel c."""
    return _fig7(tables, "c")


FIGURES: dict[str, Callable[[Tables], Figure]] = {
    "fig6a": fig6a,
    "fig6b": fig6b,
    "fig7a": fig7a,
    "fig7b": fig7b,
    "fig7c": fig7c,
}
"""Figure name -> drawing function (found by :func:`kr.plotting.figure_function`)."""

