"""Write one closed-form theory table (rule theory_table)."""

import time

from kr.results import write_table
from kr.runlog import log_to
from kr.experiments.theory.tables import BUILDERS

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    name = snakemake.wildcards.table  # noqa: F821
    spec = dict(snakemake.params.spec)  # noqa: F821
    start = time.perf_counter()
    df = BUILDERS[name](spec)
    meta = write_table(df, snakemake.output[0], {"table": name, **spec},  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("%s: %d rows, converged=%s", name, len(df), meta["converged"])
