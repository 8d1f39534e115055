"""The `mnist` / `cifar` tables (selected runs and candidates) and `cifar_curves` (rules *_aggregate)."""

import pandas as pd

from kr.realdata import SELECTION_KEYS
from kr.results import concat_tables, read_table, write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    sel_paths = list(snakemake.input.selections)  # noqa: F821
    meta = concat_tables(sel_paths, snakemake.output.table)  # noqa: F821
    log.info("%s: %d selection files, converged=%s", snakemake.output.table, len(sel_paths), meta["converged"])  # noqa: F821
    if "curves" in snakemake.output.keys():  # noqa: F821
        run_paths = list(snakemake.input.runs)  # noqa: F821
        frames = [read_table(p) for p in run_paths]
        curves = pd.concat(frames, ignore_index=True)
        chosen = read_table(snakemake.output.table)  # noqa: F821
        keys = SELECTION_KEYS + ["lr_c"]
        picked = chosen.loc[chosen["selected"].astype(bool), keys].assign(selected=True)
        curves = curves.merge(picked, on=keys, how="left")
        curves["selected"] = curves["selected"].fillna(False).astype(bool)
        sources = {p: f.attrs["meta"] for p, f in zip(run_paths, frames)}
        m = write_table(curves, snakemake.output.curves, {"sources": sorted(sources)},  # noqa: F821
                        source_meta=sources)
        log.info("curves: %d runs, %d rows, converged=%s", len(run_paths), len(curves), m["converged"])
