"""Tables matfac_grid and matfac_theorem4 (rule matfac_aggregate)."""

from kr.experiments.matfac.tables import aggregate_grid
from kr.results import concat_tables
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    inp, out = snakemake.input, snakemake.output  # noqa: F821
    meta = aggregate_grid(list(inp.points), list(inp.refs), out.grid)
    log.info("matfac_grid: %d points, converged=%s", len(inp.points), meta["converged"])
    meta = concat_tables(list(inp.theorem4), out.theorem4)
    log.info("matfac_theorem4: %d files, converged=%s", len(inp.theorem4), meta["converged"])
