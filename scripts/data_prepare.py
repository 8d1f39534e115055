"""One dataset as MD5-checked uint8 arrays (rule data_prepare)."""

import time

from kr.experiments.realdata.datasets import load_embedded_cifar10, prepare, save_prepared
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    dataset = snakemake.wildcards.dataset  # noqa: F821
    spec = dict(snakemake.params.spec)  # noqa: F821
    # how long to wait for the network: not a content parameter, so not in params
    spec["timeout_s"] = snakemake.config["data"]["timeout_s"]  # noqa: F821
    start = time.perf_counter()
    if "embedded" in snakemake.input.keys():  # noqa: F821
        data = load_embedded_cifar10(snakemake.input.embedded)  # noqa: F821
    else:
        data = prepare(dataset, spec)
    meta = save_prepared(data, snakemake.output[0], wall_time_s=time.perf_counter() - start)  # noqa: F821
    log.info("%s from %s: train %s, test %s; %s; files %s", dataset, spec["source"], data.train_x.shape,
             data.test_x.shape, data.scale, [(f["name"], f["md5"]) for f in meta["parameters"]["files"]])
