"""Concatenate the per-job tables of the diagonal experiment (rule diagonal_aggregate)."""

from kr.results import concat_tables
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    for name in ("refs", "sweep", "threshold"):
        paths = list(snakemake.input[name])  # noqa: F821
        meta = concat_tables(paths, snakemake.output[name])  # noqa: F821
        log.info("%s: %d files, converged=%s", name, len(paths), meta["converged"])
