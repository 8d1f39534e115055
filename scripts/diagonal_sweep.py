"""Exact flow and min-Q over the alpha grid for one (N, D, seed) (rule diagonal_sweep)."""

import time

import pandas as pd

from kr.experiments.diagonal.specs import SweepSpec
from kr.experiments.diagonal.tables import make_problem, sweep_rows, theorem2_rows
from kr.results import read_arrays, write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = SweepSpec.from_config(snakemake.params.spec)  # noqa: F821
    alphas = list(snakemake.params.alphas)  # noqa: F821
    w = snakemake.wildcards  # noqa: F821
    n, D, seed = int(w.N), int(w.D), int(w.seed)
    betas, _ = read_arrays(snakemake.input.betas)  # noqa: F821
    problem = make_problem(spec.problem, n, seed)
    start = time.perf_counter()
    df = sweep_rows(problem, alphas, D, betas, flow_tol=spec.flow_tol, progress=True)
    if D == 2:
        df = pd.concat([df, theorem2_rows(problem, betas, spec.theorem2_eps)], ignore_index=True)
    params = spec.problem.parameters(N=n, D=D, seed=seed, alphas=alphas, flow_tol=spec.flow_tol,
                                     theorem2_eps=list(spec.theorem2_eps))
    meta = write_table(df.assign(N=n, D=D, seed=seed, d=spec.problem.d), snakemake.output[0], params,  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("N=%d D=%d seed=%d: %d rows, converged=%s", n, D, seed, len(df), meta["converged"])
