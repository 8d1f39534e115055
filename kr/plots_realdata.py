"""Figures of the realdata experiment (filled in by its issue)."""

FIGURES: dict = {}
