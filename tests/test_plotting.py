"""Figures: drawn from tables, non-converged rows flagged, PDF + PNG written."""

from __future__ import annotations

from pathlib import Path

from kr.experiments import figure_function, figure_tables
from kr.experiments.theory.plots import FIGURES
from kr.plotting import save_figure
from kr.experiments.theory.tables import fig3b_table

from .test_theory_tables import SPECS


def test_registries_agree() -> None:
    for name in figure_tables():
        assert callable(figure_function(name))


def test_non_converged_points_are_marked_not_drawn(tmp_path: Path) -> None:
    df = fig3b_table(SPECS["fig3b"])
    df.loc[3, "converged"] = False
    fig = FIGURES["fig3b"]({"fig3b_norm_ratio": df})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()] + [c.get_label() for c in ax.collections]
    assert "not converged" in labels
    # the data lines (axhlines have 2 points) hold exactly the converged rows
    data_lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert sum(len(line.get_xdata()) for line in data_lines) == int(df["converged"].sum())
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
