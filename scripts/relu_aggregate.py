"""Concatenate the per-job tables of one ReLU table (rule relu_aggregate)."""

from kr.results import concat_tables
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    paths = list(snakemake.input)  # noqa: F821
    meta = concat_tables(paths, snakemake.output[0])  # noqa: F821
    log.info("%s: %d files, converged=%s", snakemake.wildcards.relu_table, len(paths), meta["converged"])  # noqa: F821
