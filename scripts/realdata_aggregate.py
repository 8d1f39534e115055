"""The `mnist` / `cifar` tables (selected runs and candidates) and `cifar_curves` (rules *_aggregate)."""

from kr.experiments.realdata.runs import mark_selected_runs
from kr.results import read_tables, write_derived
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    sel_paths = list(snakemake.input.selections)  # noqa: F821
    chosen, sel_sources = read_tables(sel_paths)
    meta = write_derived(chosen, snakemake.output.table, sel_sources)  # noqa: F821
    log.info("%s: %d selection files, converged=%s", snakemake.output.table, len(sel_paths), meta["converged"])  # noqa: F821
    if "curves" in snakemake.output.keys():  # noqa: F821
        run_paths = list(snakemake.input.runs)  # noqa: F821
        curves, sources = read_tables(run_paths)
        m = write_derived(mark_selected_runs(curves, chosen), snakemake.output.curves, sources)  # noqa: F821
        log.info("curves: %d runs, %d rows, converged=%s", len(run_paths), len(curves), m["converged"])
