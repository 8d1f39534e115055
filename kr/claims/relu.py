"""Claims of the relu experiment (filled in by its issue)."""

CLAIMS: list = []
