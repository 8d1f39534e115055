"""Figures 1(a)-(c) and 3(c): diagonal linear networks (Sections 4-5)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from kr.plotting import Tables, mark_not_converged, split_converged

def _figure1_rows(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """Rows of one method at depth 2 (Figure 1 is the D = 2 model)."""
    return df[(df["method"] == method) & (df["D"] == 2)]


def fig1a(tables: Tables) -> Figure:
    """Figure 1(a): population error of the flow solution against alpha.

    Mean and standard deviation over seeds; GD runs as markers; horizontal
    lines for min-l1 and min-l2.
    """
    sweep, refs = tables["diagonal_sweep"], tables["diagonal_refs"]
    ok, bad = split_converged(_figure1_rows(sweep, "flow"))
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    sns.lineplot(data=ok, x="alpha", y="population_error", errorbar="sd", ax=ax, label="gradient flow")
    gd = _figure1_rows(sweep, "gd")
    gd_ok, gd_bad = split_converged(gd)
    if len(gd_ok):
        ax.scatter(gd_ok["alpha"], gd_ok["population_error"], marker="o", facecolors="none",
                   edgecolors="k", zorder=4, label="gradient descent")
    mark_not_converged(ax, pd.concat([bad, gd_bad]), "alpha", "population_error")
    for sol, color, label in (("l1", "tab:blue", r"$\beta^*_{\ell_1}$"), ("l2", "tab:red", r"$\beta^*_{\ell_2}$")):
        ax.axhline(refs.loc[refs["solution"] == sol, "population_error"].mean(), color=color, ls="--",
                   lw=0.9, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    n, d = int(sweep["N"].iloc[0]), int(sweep["d"].iloc[0])
    ax.set(xlabel=r"$\alpha$", ylabel="population error", title=f"Figure 1(a): $N={n}$, $d={d}$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig1b(tables: Tables) -> Figure:
    """Figure 1(b): excess l1 norm (blue) and excess l2 norm (red) against alpha."""
    ok, bad = split_converged(_figure1_rows(tables["diagonal_sweep"], "flow"))
    long = ok.melt(id_vars=["alpha", "seed"], value_vars=["excess_l1", "excess_l2"], var_name="norm")
    long["norm"] = long["norm"].map({
        "excess_l1": r"$\|\beta_\alpha\|_1 - \|\beta^*_{\ell_1}\|_1$",
        "excess_l2": r"$\|\beta_\alpha\|_2 - \|\beta^*_{\ell_2}\|_2$",
    })
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    sns.lineplot(data=long, x="alpha", y="value", hue="norm", palette=["tab:blue", "tab:red"],
                 errorbar="sd", ax=ax)
    mark_not_converged(ax, bad, "alpha", "excess_l1")
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel=r"$\alpha$", ylabel="excess norm", title="Figure 1(b)")
    ax.legend(title=None, fontsize=8)
    fig.tight_layout()
    return fig


def _threshold_plot(df: pd.DataFrame, y: str, ylabel: str, title: str, depths: list[int]) -> Figure:
    df = df[df["D"].isin(depths)]
    ok, bad = split_converged(df)
    reached = ok[ok["reached"].astype(bool)]
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    sns.lineplot(data=reached, x="N", y=y, hue="D" if len(depths) > 1 else None, palette="viridis"
                 if len(depths) > 1 else None, marker="o", errorbar=("pi", 100), estimator="median", ax=ax)
    ax.set_yscale("log")
    missed = ok[~ok["reached"].astype(bool)]
    if len(missed):  # drawn at the bottom edge: the admissible alpha is below the search range
        ax.scatter(missed["N"], np.full(len(missed), 0.02), marker="v", color="0.3", zorder=4,
                   transform=ax.get_xaxis_transform(), label="not reached in the search range")
    mark_not_converged(ax, bad, "N", y)
    # smallest N at which min-l1 itself reaches the threshold (median over seeds)
    l1 = df.groupby("N")["l1_population_error"].median()
    good = l1[l1 <= float(df["error_threshold"].iloc[0])]
    if len(good):
        ax.axvline(good.index.min(), color="k", ls="--", lw=0.9, label=r"$\beta^*_{\ell_1}$ reaches the threshold")
    pad = 0.05 * (df["N"].max() - df["N"].min())
    ax.set_xlim(df["N"].min() - pad, df["N"].max() + pad)  # unreached N included
    ax.set(xlabel="$N$", ylabel=ylabel, title=title)
    ax.legend(fontsize=7, title="$D$" if len(depths) > 1 else None, title_fontsize=7)
    fig.tight_layout()
    return fig


def fig1c(tables: Tables) -> Figure:
    """Figure 1(c): largest alpha reaching population error <= threshold, against N (D = 2)."""
    return _threshold_plot(tables["diagonal_threshold"], "alpha_max", r"largest admissible $\alpha$", "Figure 1(c)", [2])


def fig3c(tables: Tables) -> Figure:
    """Figure 3(c): largest admissible alpha^D against N, for several depths."""
    df = tables["diagonal_threshold"]
    return _threshold_plot(df, "alpha_max_D", r"largest admissible $\alpha^D$", "Figure 3(c)",
                           sorted(int(D) for D in df["D"].unique()))


FIGURES = {"fig1a": fig1a, "fig1b": fig1b, "fig1c": fig1c, "fig3c": fig3c}
"""Figure name -> drawing function."""
