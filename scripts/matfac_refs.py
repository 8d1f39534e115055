"""cvxpy reference completions for one seed (rule matfac_refs)."""

import pandas as pd

from kr.experiments.matfac.nuclear import reference_row
from kr.experiments.matfac.problems import make_completion_problem
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    d, N = int(snakemake.params.d), int(snakemake.params.N)  # noqa: F821
    seed = int(snakemake.wildcards.seed)  # noqa: F821
    row = reference_row(make_completion_problem(d, N, seed))
    meta = write_table(pd.DataFrame([{"seed": seed, **row}]), snakemake.output[0],  # noqa: F821
                       {"d": d, "N": N, "seed": seed}, wall_time_s=row["wall_time_s"])
    log.info("refs seed=%d: min-nuclear excess %.3g (%s), converged=%s", seed, row["min_nuclear_excess"],
             row["nuclear_status"], meta["converged"])
