"""One function per paper figure, each drawing from tidy result tables.

Every figure function takes a mapping ``{table name: DataFrame}`` and returns
a :class:`matplotlib.figure.Figure`; :func:`save_figure` writes its PDF and
PNG twins atomically.  Rows whose ``converged`` is False are never drawn as
if they were results: they are left out of the lines and marked with a red
cross labelled "not converged".
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from kr.results import atomic_open  # noqa: E402

Tables = Mapping[str, pd.DataFrame]

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def split_converged(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(converged rows, non-converged rows); all rows count as converged without the column."""
    if "converged" not in df.columns:
        return df, df.iloc[0:0]
    ok = df["converged"].astype(bool)
    return df[ok], df[~ok]


def mark_not_converged(ax: plt.Axes, bad: pd.DataFrame, x: str, y: str) -> None:
    """Red crosses at non-converged points (never drawn as results)."""
    if len(bad):
        ax.scatter(bad[x], bad[y].fillna(0.0), marker="x", color="red", zorder=5, label="not converged")


def fig2(tables: Tables) -> Figure:
    """Figure 2: q(z) and r(z) - similar, but not equal."""
    df = tables["fig2_q_r"]
    ok, bad = split_converged(df)
    long = ok.melt(id_vars="z", value_vars=["q", "r"], var_name="function", value_name="value")
    long["function"] = long["function"].map({"q": "$q(z)$", "r": "$r(z)$"})
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    sns.lineplot(data=long, x="z", y="value", hue="function", ax=ax)
    mark_not_converged(ax, bad, "z", "r")
    ax.set(xlabel="$z$", ylabel="", title="Figure 2: $q(z)$ and $r(z)$")
    ax.legend(title=None)
    fig.tight_layout()
    return fig


def fig3a(tables: Tables) -> Figure:
    """Figure 3(a): q_D(z) for several depths D."""
    df = tables["fig3a_qD"]
    ok, bad = split_converged(df)
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    sns.lineplot(data=ok, x="z", y="q_D", hue="D", palette="viridis", ax=ax, legend="full")
    mark_not_converged(ax, bad, "z", "q_D")
    ax.set(xlabel="$z$", ylabel="$q_D(z)$", title="Figure 3(a)")
    ax.legend(title="$D$")
    fig.tight_layout()
    return fig


def fig3b(tables: Tables) -> Figure:
    """Figure 3(b): Q^D_alpha(e_1)/Q^D_alpha(1/sqrt d) against alpha."""
    df = tables["fig3b_norm_ratio"]
    ok, bad = split_converged(df)
    d = int(df["d"].iloc[0])
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    sns.lineplot(data=ok, x="alpha", y="ratio", hue="D", palette="viridis", ax=ax, legend="full")
    mark_not_converged(ax, bad, "alpha", "ratio")
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.axhline(1.0 / np.sqrt(d), color="0.4", ls=":", lw=0.8)
    ax.set_xscale("log")
    at_left = ax.get_yaxis_transform()  # x in axes fraction, y in data
    ax.text(0.01, 1.0, r"$\ell_2$-like: 1", transform=at_left, va="bottom", fontsize=8)
    ax.text(0.01, 1.0 / np.sqrt(d), rf"$\ell_1$-like: $1/\sqrt{{d}}$, $d={d}$", transform=at_left,
            va="bottom", fontsize=8)
    ax.set(
        xlabel=r"$\alpha$",
        ylabel=r"$Q^D_\alpha(e_1)\,/\,Q^D_\alpha(\mathbf{1}_d/\sqrt{d})$",
        title="Figure 3(b)",
    )
    ax.legend(title="$D$")
    fig.tight_layout()
    return fig


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


FIGURES: dict[str, Callable[[Tables], Figure]] = {
    "fig1a": fig1a,
    "fig1b": fig1b,
    "fig1c": fig1c,
    "fig2": fig2,
    "fig3a": fig3a,
    "fig3b": fig3b,
    "fig3c": fig3c,
}
"""Figure name -> drawing function, for the figures drawn in this module."""

FIGURE_MODULES: tuple[str, ...] = ("kr.plots_matfac", "kr.plots_relu", "kr.plots_realdata")
"""Modules holding the other experiments' figures, each with its own ``FIGURES`` dict."""


def figure_function(name: str) -> Callable[[Tables], Figure]:
    """The drawing function of figure ``name``, wherever it is defined.

    >>> figure_function("fig2").__name__
    'fig2'
    """
    if name in FIGURES:
        return FIGURES[name]
    for module in FIGURE_MODULES:
        figures = importlib.import_module(module).FIGURES
        if name in figures:
            return figures[name]
    raise KeyError(f"no drawing function for figure {name!r}")


def save_figure(fig: Figure, pdf: str | os.PathLike[str], png: str | os.PathLike[str], dpi: int = 200) -> None:
    """Write ``fig`` as PDF and PNG, each atomically, then close it."""
    for path, fmt in ((pdf, "pdf"), (png, "png")):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
