"""Figure 7, one panel (shape c): every alpha trained as one stack (rule relu_fig7)."""

import time

from kr.experiments.relu.tables import fig7_rows
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = dict(snakemake.params.spec)  # noqa: F821
    panel = snakemake.wildcards.panel  # noqa: F821
    start = time.perf_counter()
    df = fig7_rows(spec, panel, device=snakemake.params.device, progress=True, log=log)  # noqa: F821
    meta = write_table(df, snakemake.output[0], {**spec, "panel": panel,  # noqa: F821
                                                 "device": snakemake.params.device},  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("fig7 panel %s: converged=%s", panel, meta["converged"])
