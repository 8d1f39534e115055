"""A chunk of one seed's Figure 5 grid by batched exact lifted GD (rule matfac_batch)."""

import pandas as pd

from kr.experiments.matfac.specs import PointSpec
from kr.experiments.matfac.tables import run_points
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = PointSpec.from_config(snakemake.params.spec)  # noqa: F821
    points = [(int(k), float(a)) for k, a in snakemake.params.points]  # noqa: F821 (alpha ids, as in file names)
    seed, chunk = int(snakemake.wildcards.seed), int(snakemake.wildcards.chunk)  # noqa: F821
    rows = run_points(spec, points, seed)
    df = pd.DataFrame([{**row, "role": "grid"} for row in rows])
    meta = write_table(df, snakemake.output[0],  # noqa: F821
                       {**spec.to_config(), "seed": seed, "chunk": chunk,
                        "points": [list(p) for p in snakemake.params.points]},  # noqa: F821
                       wall_time_s=float(df["wall_time_s"].sum()))
    for row in rows:
        log.info("k=%d alpha=%g: steps=%d loss=%.3g converged=%s", row["k"], row["alpha"], row["steps"],
                  row["train_loss"], row["converged"])
    log.info("lifted batch seed=%d chunk=%d: %d points, steps %d..%d, converged=%s (%.2fs)", seed, chunk,
             len(rows), int(df["steps"].min()), int(df["steps"].max()), meta["converged"],
             float(df["wall_time_s"].sum()))
