"""min-l1 / min-l2 references for one (N, seed) (rule diagonal_refs)."""

import time

from kr.experiments.diagonal.specs import ProblemSpec
from kr.experiments.diagonal.tables import make_problem, reference_rows
from kr.results import write_arrays, write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = ProblemSpec.from_config(snakemake.params.spec)  # noqa: F821
    n, seed = int(snakemake.wildcards.N), int(snakemake.wildcards.seed)  # noqa: F821
    params = spec.parameters(N=n, seed=seed)
    start = time.perf_counter()
    rows, betas = reference_rows(make_problem(spec, n, seed))
    wall = time.perf_counter() - start
    write_arrays(snakemake.output.betas, betas, params,  # noqa: F821
                 converged=bool(rows["converged"].all()), wall_time_s=wall)
    write_table(rows.assign(N=n, seed=seed, d=spec.d), snakemake.output.table, params, wall_time_s=wall)  # noqa: F821
    log.info("references N=%d seed=%d: %s", n, seed, rows[["solution", "population_error"]].to_dict("records"))
