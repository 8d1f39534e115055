"""Per-alpha learning-rate selection by validation error (rules mnist_select, cifar_select)."""

import time

from kr.experiments.realdata.runs import run_summary, select_learning_rates
from kr.results import read_tables, write_derived
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    start = time.perf_counter()
    paths = list(snakemake.input.runs)  # noqa: F821
    runs, sources = read_tables(paths)
    chosen = select_learning_rates(run_summary(runs))
    write_derived(chosen, snakemake.output[0], sources, wall_time_s=time.perf_counter() - start)  # noqa: F821
    best = chosen[chosen["selected"]].iloc[0]
    log.info("alpha=%g: selected lr=%g (c=%g): val error %.4f, test error %.4f, converged=%s",
             best["alpha"], best["lr"], best["lr_c"], best["val_error"], best["test_error"], best["converged"])
