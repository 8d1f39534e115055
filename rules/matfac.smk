# STUB: filled in by its issue.
