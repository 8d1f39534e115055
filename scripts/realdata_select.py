"""Per-alpha learning-rate selection by validation error (rules mnist_select, cifar_select)."""

import time

import pandas as pd

from kr.realdata import run_summary, select_learning_rates
from kr.results import read_table, write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    start = time.perf_counter()
    paths = list(snakemake.input.runs)  # noqa: F821
    frames = [read_table(p) for p in paths]
    chosen = select_learning_rates(run_summary(pd.concat(frames, ignore_index=True)))
    sources = {p: f.attrs["meta"] for p, f in zip(paths, frames)}
    write_table(chosen, snakemake.output[0], {"sources": sorted(sources)},  # noqa: F821
                wall_time_s=time.perf_counter() - start, source_meta=sources)
    best = chosen[chosen["selected"]].iloc[0]
    log.info("alpha=%g: selected lr=%g (c=%g): val error %.4f, test error %.4f, converged=%s",
             best["alpha"], best["lr"], best["lr_c"], best["val_error"], best["test_error"], best["converged"])
