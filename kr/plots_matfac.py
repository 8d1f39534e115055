"""Figures of the matfac experiment (filled in by its issue)."""

FIGURES: dict = {}
