"""Claims of the realdata experiment (filled in by its issue)."""

CLAIMS: list = []
