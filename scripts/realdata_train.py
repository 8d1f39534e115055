"""One SGD run at one (dataset, model, alpha, lr constant, seed, init) (rules mnist_train[_init], cifar_train[_init]).

Resumes from its checkpoint after a kill, preemption or requeue; removes the
checkpoint once the result table is written.
"""

import contextlib
import os
import time

import torch

from kr.experiments.realdata.runs import run_training
from kr.results import write_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    w = snakemake.wildcards  # noqa: F821
    torch.set_num_threads(max(1, int(snakemake.threads)))  # noqa: F821
    start = time.perf_counter()
    ckpt = snakemake.params.checkpoint  # noqa: F821
    df, params, res = run_training(
        snakemake.params.dataset, dict(snakemake.params.spec), w.model, float(w.alpha), float(w.c),  # noqa: F821
        int(w.seed), data_path=snakemake.input.data, checkpoint=ckpt,  # noqa: F821
        init=str(getattr(w, "init", "he")),  # the *_init rules have an init wildcard; the others run "he"
    )
    write_table(df, snakemake.output[0], params, wall_time_s=time.perf_counter() - start)  # noqa: F821
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ckpt)
    log.info("%s %s init=%s alpha=%g lr=%g seed=%d: %s after %d epochs (converged=%s), train acc %.4f, test error %.4f, "
             "device %s, tf32 %s", params["dataset"], w.model, params["init"], params["alpha"], params["lr"], params["seed"],
             res.reason, res.epochs, res.converged, df["train_acc"].iloc[-1], df["test_error"].iloc[-1],
             res.device, res.tf32)
