"""Figures of the relu experiment (filled in by its issue)."""

FIGURES: dict = {}
