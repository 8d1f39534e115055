"""Figures of the matrix-factorisation experiment (Section 6): Figure 5 and the Theorem 4 check.

* ``fig5a`` -- heatmap over (alpha, k) of the excess nuclear norm ``||M||_* - ||Y*||_*``;
* ``fig5b`` -- heatmap of the RMS movement of the unobserved entries, ``M - U(0)V(0)^T``;
* ``thm4``  -- Theorem 4: relative gap of ``diag(M_inf)`` to ``min Q_mu`` against k.

Both heatmaps draw the line ``alpha^2 k = 1`` and mark non-converged cells
with red crosses (their colour is left blank).  No torch import here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from kr.plotting import Tables, mark_not_converged, split_converged


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges (geometric midpoints) of log-spaced centres."""
    lv = np.log10(values)
    if lv.size == 1:
        return 10.0 ** np.array([lv[0] - 0.5, lv[0] + 0.5])
    mid = 0.5 * (lv[1:] + lv[:-1])
    return 10.0 ** np.concatenate([[lv[0] - (mid[0] - lv[0])], mid, [lv[-1] + (lv[-1] - mid[-1])]])


def grid_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The heatmap's own rows (``role == grid``)."""
    return df[df["role"] == "grid"] if "role" in df.columns else df


def _heatmap(df: pd.DataFrame, value: str, label: str, title: str, floor: float) -> Figure:
    rows = grid_rows(df)
    good, bad = split_converged(rows)
    alphas = np.sort(rows["alpha"].unique())
    ks = np.sort(rows["k"].unique())
    Z = np.full((ks.size, alphas.size), np.nan)
    if len(good):
        mean = good.groupby(["k", "alpha"])[value].mean()
        for (k, a), v in mean.items():
            Z[np.searchsorted(ks, k), np.searchsorted(alphas, a)] = max(float(v), floor)
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    finite = Z[np.isfinite(Z)]
    norm = LogNorm(vmin=max(floor, finite.min()) if finite.size else floor,
                   vmax=finite.max() if finite.size else 1.0)
    mesh = ax.pcolormesh(_edges(alphas), _edges(ks.astype(float)), np.ma.masked_invalid(Z), norm=norm,
                         cmap="viridis", shading="flat")
    fig.colorbar(mesh, ax=ax, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    a_line = np.logspace(np.log10(_edges(alphas)[0]), np.log10(_edges(alphas)[-1]), 200)
    ax.plot(a_line, 1.0 / a_line**2, color="red", ls="--", lw=1.5, label=r"$\alpha^2 k = 1$")
    ax.set_xlim(_edges(alphas)[0], _edges(alphas)[-1])
    ax.set_ylim(_edges(ks.astype(float))[0], _edges(ks.astype(float))[-1])
    if len(bad):
        mark_not_converged(ax, bad.drop_duplicates(["k", "alpha"]), "alpha", "k")
    ax.set_xlabel(r"$\alpha$ (initialisation scale of $U, V$ entries)")
    ax.set_ylabel("$k$ (width)")
    n_seeds = rows["seed"].nunique() if "seed" in rows.columns else 1
    ax.set_title(f"{title}\n(d={int(rows['d'].iloc[0])}, N={int(rows['N'].iloc[0])}, "
                 f"mean over {n_seeds} seed(s))", fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(False)
    return fig


def fig5a(tables: Tables) -> Figure:
    """Figure 5 (left): excess nuclear norm ``||M_{alpha,k}||_* - ||Y*||_*`` (floored at 1e-3 for the log scale)."""
    return _heatmap(tables["matfac_grid"], "excess_nuclear", r"$\|M\|_* - \|Y^*\|_*$",
                    "Figure 5(a): excess nuclear norm", 1e-3)


def fig5b(tables: Tables) -> Figure:
    """Figure 5 (right): RMS of ``M - U(0)V(0)^T`` over the unobserved entries."""
    return _heatmap(tables["matfac_grid"], "rms_unobserved_movement",
                    r"RMS$_{\rm unobserved}(M - U_0V_0^\top)$", "Figure 5(b): movement of unobserved entries", 1e-3)


def thm4(tables: Tables) -> Figure:
    """Theorem 4: ``||diag(M_inf) - argmin Q_mu|| / ||argmin Q_mu||`` against k, per mu (mean over seeds)."""
    df = tables["matfac_theorem4"]
    good, bad = split_converged(df)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for mu, g in good.groupby("mu"):
        m = g.groupby("k")["rel_gap"].agg(["mean", "min", "max"])
        ax.errorbar(m.index, m["mean"], yerr=[m["mean"] - m["min"], m["max"] - m["mean"]], marker="o",
                    capsize=3, label=rf"$\mu = {mu:g}$")
    if len(good):
        k = np.sort(good["k"].unique()).astype(float)
        c = float(good[good["k"] == k[0]]["rel_gap"].mean())
        ax.plot(k, c * np.sqrt(k[0] / k), "k:", label=r"$\propto k^{-1/2}$")
    mark_not_converged(ax, bad, "k", "rel_gap")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$k$ (width)")
    ax.set_ylabel(r"$\|\mathrm{diag}(M_\infty) - \beta_{Q_\mu}\| / \|\beta_{Q_\mu}\|$")
    ax.set_title(r"Theorem 4: diagonal measurements, $\mu^2 = \alpha^2 k/2 = \sigma\sqrt{k}/2$ fixed", fontsize=10)
    ax.legend(fontsize=8)
    return fig


FIGURES: dict = {"fig5a": fig5a, "fig5b": fig5b, "thm4": thm4}
