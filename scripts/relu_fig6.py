"""Figure 6 at one (D, seed): every alpha trained as one stack (rule relu_fig6)."""

import time

from kr.experiments.relu.specs import Fig6Spec
from kr.experiments.relu.tables import fig6_rows
from kr.devices import resolve_device
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = Fig6Spec.from_config(snakemake.params.spec)  # noqa: F821
    device = resolve_device(str(snakemake.params.device))  # noqa: F821 (auto -> cuda or cpu, here)
    D, seed = int(snakemake.wildcards.D), int(snakemake.wildcards.seed)  # noqa: F821
    start = time.perf_counter()
    df = fig6_rows(spec, D, seed, device=device, progress=True, log=log)
    # the header: exactly the job's params, its wildcards and the device
    meta = write_table(df, snakemake.output[0], {**spec.parameters(), "D": D, "seed": seed, "device": device},  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("fig6 D=%d seed=%d: converged=%s", D, seed, meta["converged"])
