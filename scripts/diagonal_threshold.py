"""Largest admissible alpha per N for one (D, seed) (rule diagonal_threshold)."""

import time

from kr.experiments.diagonal.specs import ThresholdSpec
from kr.experiments.diagonal.tables import threshold_rows
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = ThresholdSpec.from_config(snakemake.params.spec)  # noqa: F821
    D, seed = int(snakemake.wildcards.D), int(snakemake.wildcards.seed)  # noqa: F821
    start = time.perf_counter()
    df = threshold_rows(spec, D, seed)
    params = spec.parameters(D=D, seed=seed)
    write_table(df, snakemake.output[0], params, wall_time_s=time.perf_counter() - start)  # noqa: F821
    log.info("D=%d seed=%d: %s", D, seed, df[["N", "alpha_max"]].to_dict("records"))
