"""One function per paper figure, each drawing from tidy result tables.

Every figure function takes a mapping ``{table name: DataFrame}`` and returns
a :class:`matplotlib.figure.Figure`; :func:`save_figure` writes its PDF and
PNG twins atomically.  Rows whose ``converged`` is False are never drawn as
if they were results: they are left out of the lines and marked with a red
cross labelled "not converged".
"""

from __future__ import annotations

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


def _split_converged(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    if "converged" not in df.columns:
        return df, df.iloc[0:0]
    ok = df["converged"].astype(bool)
    return df[ok], df[~ok]


def _mark_not_converged(ax: plt.Axes, bad: pd.DataFrame, x: str, y: str) -> None:
    if len(bad):
        ax.scatter(bad[x], bad[y].fillna(0.0), marker="x", color="red", zorder=5, label="not converged")


def fig2(tables: Tables) -> Figure:
    """Figure 2: q(z) and r(z) - similar, but not equal."""
    df = tables["fig2_q_r"]
    ok, bad = _split_converged(df)
    long = ok.melt(id_vars="z", value_vars=["q", "r"], var_name="function", value_name="value")
    long["function"] = long["function"].map({"q": "$q(z)$", "r": "$r(z)$"})
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    sns.lineplot(data=long, x="z", y="value", hue="function", ax=ax)
    _mark_not_converged(ax, bad, "z", "r")
    ax.set(xlabel="$z$", ylabel="", title="Figure 2: $q(z)$ and $r(z)$")
    ax.legend(title=None)
    fig.tight_layout()
    return fig


def fig3a(tables: Tables) -> Figure:
    """Figure 3(a): q_D(z) for several depths D."""
    df = tables["fig3a_qD"]
    ok, bad = _split_converged(df)
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    sns.lineplot(data=ok, x="z", y="q_D", hue="D", palette="viridis", ax=ax, legend="full")
    _mark_not_converged(ax, bad, "z", "q_D")
    ax.set(xlabel="$z$", ylabel="$q_D(z)$", title="Figure 3(a)")
    ax.legend(title="$D$")
    fig.tight_layout()
    return fig


def fig3b(tables: Tables) -> Figure:
    """Figure 3(b): Q^D_alpha(e_1)/Q^D_alpha(1/sqrt d) against alpha."""
    df = tables["fig3b_norm_ratio"]
    ok, bad = _split_converged(df)
    d = int(df["d"].iloc[0])
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    sns.lineplot(data=ok, x="alpha", y="ratio", hue="D", palette="viridis", ax=ax, legend="full")
    _mark_not_converged(ax, bad, "alpha", "ratio")
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


FIGURES: dict[str, Callable[[Tables], Figure]] = {"fig2": fig2, "fig3a": fig3a, "fig3b": fig3b}
"""Figure name -> drawing function.  Later experiments add theirs."""

def save_figure(fig: Figure, pdf: str | os.PathLike[str], png: str | os.PathLike[str], dpi: int = 200) -> None:
    """Write ``fig`` as PDF and PNG, each atomically, then close it."""
    for path, fmt in ((pdf, "pdf"), (png, "png")):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
