"""Claims of the matfac experiment (filled in by its issue)."""

CLAIMS: list = []
