"""Theorem 4 rows for one seed (rule matfac_theorem4)."""

import pandas as pd

from kr.experiments.matfac.specs import Theorem4Spec
from kr.experiments.matfac.tables import theorem4_rows
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = Theorem4Spec.from_config(snakemake.params.spec)  # noqa: F821
    seed = int(snakemake.wildcards.seed)  # noqa: F821
    df = pd.DataFrame(theorem4_rows(spec, seed))
    meta = write_table(df, snakemake.output[0], {**spec.to_config(), "seed": seed},  # noqa: F821
                       wall_time_s=float(df["wall_time_s"].sum()))
    for row in df.itertuples():
        log.info("mu=%g k=%d rel_gap=%.3g converged=%s", row.mu, row.k, row.rel_gap, row.converged)
