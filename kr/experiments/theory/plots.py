"""Figures 2, 3(a), 3(b): the closed-form theory of Sections 4-5."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from kr.plotting import Tables, mark_not_converged, split_converged

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


FIGURES = {"fig2": fig2, "fig3a": fig3a, "fig3b": fig3b}
"""Figure name -> drawing function."""
