"""Plain GD at one (N, D, alpha, seed) point (rule diagonal_gd)."""

import time

from kr.experiments.diagonal.specs import GDSpec, ProblemSpec
from kr.experiments.diagonal.tables import gd_rows, make_problem
from kr.results import read_arrays, write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = ProblemSpec.from_config(snakemake.params.spec)  # noqa: F821
    gd = GDSpec.from_config(snakemake.params.spec["gd"])  # noqa: F821
    w = snakemake.wildcards  # noqa: F821
    n, D, seed, alpha = int(w.N), int(w.D), int(w.seed), float(w.alpha)
    betas, _ = read_arrays(snakemake.input.betas)  # noqa: F821
    start = time.perf_counter()
    df = gd_rows(make_problem(spec, n, seed), [alpha], D, betas, gd, progress=True)
    params = spec.parameters(N=n, D=D, seed=seed, alpha=alpha, **gd.parameters())
    meta = write_table(df.assign(N=n, D=D, seed=seed, d=spec.d), snakemake.output[0], params,  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("GD N=%d D=%d alpha=%g seed=%d: converged=%s", n, D, alpha, seed, meta["converged"])
