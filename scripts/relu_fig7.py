"""Figure 7, one panel (shape c): every alpha trained as one stack (rule relu_fig7)."""

import time

from kr.experiments.relu.specs import Fig7Spec
from kr.experiments.relu.tables import fig7_rows
from kr.devices import resolve_device
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    spec = Fig7Spec.from_config(snakemake.params.spec)  # noqa: F821
    device = resolve_device(str(snakemake.params.device))  # noqa: F821 (auto -> cuda or cpu, here)
    panel = snakemake.wildcards.panel  # noqa: F821
    if spec.panel != panel:
        raise ValueError(f"params are for panel {spec.panel!r} but the job is panel {panel!r}")
    start = time.perf_counter()
    df = fig7_rows(spec, device=device, progress=True, log=log)
    # the header: exactly the job's params (the panel wildcard and its c among them) and the device
    meta = write_table(df, snakemake.output[0], {**spec.parameters(), "device": device},  # noqa: F821
                       wall_time_s=time.perf_counter() - start)
    log.info("fig7 panel %s: converged=%s", panel, meta["converged"])
