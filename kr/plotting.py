"""Helpers shared by every experiment's figures (``kr/experiments/*/plots.py``).

A figure function takes a mapping ``{table name: DataFrame}`` (:data:`Tables`)
and returns a :class:`matplotlib.figure.Figure`; :func:`save_figure` writes its
PDF and PNG twins atomically; :func:`apply_style` sets the look (never at
import).  Rows whose ``converged`` is False are never drawn as
if they were results: they are left out of the lines and marked with a red
cross labelled "not converged".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from kr.results import atomic_open

Tables = Mapping[str, pd.DataFrame]
"""What every figure function takes: ``{table name: DataFrame}``."""


def apply_style(backend: str | None = "Agg") -> None:
    """The figures' look (seaborn "paper" context, white grid) and, by default, the Agg backend.

    Called by the drawing script and the tests, never at import.
    """
    if backend is not None:
        plt.switch_backend(backend)
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


def save_figure(fig: Figure, pdf: str | os.PathLike[str], png: str | os.PathLike[str], dpi: int = 200) -> None:
    """Write ``fig`` as PDF and PNG, each atomically, then close it."""
    for path, fmt in ((pdf, "pdf"), (png, "png")):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
