"""One Figure 5 point (rules matfac_lifted, matfac_flow, matfac_direct)."""

import pandas as pd

from kr.experiments.matfac.core import run_point
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = dict(snakemake.params.spec)  # noqa: F821
    sim, role = snakemake.params.simulator, snakemake.params.role  # noqa: F821
    w = snakemake.wildcards  # noqa: F821
    k, alpha, seed = int(w.k), float(w.alpha), int(w.seed)
    row = run_point(spec, k, alpha, seed, sim, device=spec["device"], progress=True,
                    compare_lifted=(sim == "direct"))
    params = {key: spec[key] for key in ("d", "N", "lr", "lr_scale", "loss_rtol", "max_steps", "check_every",
                                         "flow_t_max", "device")}
    meta = write_table(pd.DataFrame([{**row, "role": role}]), snakemake.output[0],  # noqa: F821
                       {**params, "simulator": sim, "k": k, "alpha": alpha, "seed": seed},
                       wall_time_s=row["wall_time_s"])
    log.info("%s k=%d alpha=%g seed=%d: steps=%d loss=%.3g converged=%s (%.2fs)", sim, k, alpha, seed,
             row["steps"], row["train_loss"], meta["converged"], row["wall_time_s"])
