"""One Figure 5 point (rule matfac_point; the simulator is a wildcard)."""

import pandas as pd

from kr.experiments.matfac.specs import PointSpec
from kr.experiments.matfac.tables import run_point
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = PointSpec.from_config(snakemake.params.spec)  # noqa: F821
    role = snakemake.params.role  # noqa: F821
    w = snakemake.wildcards  # noqa: F821
    k, alpha, seed = int(w.k), float(w.alpha), int(w.seed)
    sim = spec.simulator
    row = run_point(spec, k, alpha, seed, progress=True, compare_lifted=(sim == "direct"))
    meta = write_table(pd.DataFrame([{**row, "role": role}]), snakemake.output[0],  # noqa: F821
                       {**spec.to_config(), "k": k, "alpha": alpha, "seed": seed},
                       wall_time_s=row["wall_time_s"])
    log.info("%s k=%d alpha=%g seed=%d: steps=%d loss=%.3g converged=%s (%.2fs)", sim, k, alpha, seed,
             row["steps"], row["train_loss"], meta["converged"], row["wall_time_s"])
