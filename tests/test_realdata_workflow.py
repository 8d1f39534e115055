"""The real-data rules on a tiny config: data -> runs -> selection -> tables -> Figures 6(c), 6(c) ablation, 6(d), 8
-> ledger.  MNIST runs two inits (he, paired) as the ablation preset does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
import yaml

from kr.experiments import all_claims
from kr.ledger import NOT_RUN
from kr.experiments.realdata.claims import CLAIMS
from kr.results import read_meta, read_table

from .conftest import REPO, planned_jobs, snakemake

TINY = {
    "figures": ["fig6c", "fig6c_ablation", "fig6d", "fig8"],
    "mnist": {
        "device": "cpu", "width": 32, "init": ["he", "paired"], "alpha": [0.5, 20.0], "lr": {"c": [0.5, 20.0], "alpha_power": 2},
        "max_epochs": 4, "validation": 100, "train_subset": 400, "test_subset": 200, "checkpoint_every": 2,
        "output_only": {"alpha": [1.0], "lr": {"c": [0.5], "alpha_power": 2}, "max_epochs": 3},
        "claims": {"mnist_small_alpha_max": 0.5, "mnist_large_alpha_min": 20.0},
    },
    "cifar": {
        "device": "cpu", "width_multiplier": 0.0625, "alpha": [0.9, 1.1], "max_epochs": 3, "train_subset": 96,
        "test_subset": 64, "checkpoint_every": 1, "output_only": {"max_epochs": 2},
        "claims": {"cifar_small_alpha_max": 0.9, "cifar_large_alpha_min": 1.1},
    },
}


def test_realdata_workflow_tiny(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    out = snakemake(tmp_path, "--cores", "2", "figures", "--configfile", str(cfg))
    assert out.returncode == 0, out.stderr[-4000:]
    res = tmp_path / "results"
    for fig in TINY["figures"]:
        assert (res / "figures" / f"{fig}.pdf").read_bytes().startswith(b"%PDF")
        assert (res / "figures" / f"{fig}.png").read_bytes().startswith(b"\x89PNG")

    mnist = read_table(res / "tables" / "mnist.csv")
    # 2 inits x 2 alphas x 2 lr constants + 1 output-only run; one selected run per (model, alpha, seed, init)
    assert len(mnist) == 9 and mnist["selected"].sum() == 5
    assert mnist.groupby(["model", "init"]).size().to_dict() == {("full", "he"): 4, ("full", "paired"): 4,
                                                                 ("output", "he"): 1}
    assert set(mnist.loc[mnist["model"] == "full", "lr"]) == {0.5 / 0.25, 20.0 / 0.25, 0.5 / 400, 20.0 / 400}
    assert (mnist["n_val"] == 100).all() and (mnist["n_train"] == 400).all() and (mnist["n_test"] == 200).all()
    assert mnist["scale"].str.len().gt(0).all()
    assert len(read_meta(res / "tables" / "mnist.csv")["sources"]) == 5  # the selection files
    assert (res / "realdata" / "mnist" / "full" / "a20_c20_s0_paired.csv").is_file()
    assert (res / "realdata" / "mnist" / "full" / "a20_c20_s0.csv").is_file()  # he keeps its path
    ablation = read_table(res / "tables" / "mnist_ablation.csv")
    pd.testing.assert_frame_equal(ablation, mnist)

    cifar = read_table(res / "tables" / "cifar.csv")
    assert set(cifar["model"]) == {"full", "output"} and cifar["selected"].all()
    curves = read_table(res / "tables" / "cifar_curves.csv")
    full = curves[curves["model"] == "full"]
    assert sorted(full["epoch"].unique()) == [1, 2, 3] and set(full["alpha"]) == {0.9, 1.1}
    assert {"train_loss", "train_acc", "test_error", "selected"} <= set(curves.columns)

    # checkpoints are removed once a run's table is written; no temporary files left
    assert not list((res / "realdata" / "checkpoints").rglob("*.pt")) if (res / "realdata" / "checkpoints").exists() \
        else True
    assert not list(res.rglob("*.tmp"))

    ledger = pd.read_csv(res / "claims.csv")
    assert list(ledger["claim_id"]) == [c.claim_id for c in all_claims()]
    ours = ledger.set_index("claim_id").loc[[c.claim_id for c in CLAIMS]]
    assert (ours["verdict"] != NOT_RUN).all(), ours[["verdict", "detail"]]
    assert ours.loc["mnist-small-alpha-better", "detail"].count("1.4%") == 1

    # rerunning one training point recomputes only that run and what depends on it
    target = res / "realdata" / "mnist" / "full" / "a0.5_c0.5_s0.csv"
    dry = snakemake(tmp_path, "-n", "--cores", "2", "-f", str(target.relative_to(tmp_path)), "--configfile", str(cfg))
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "mnist_train" in dry.stdout and "cifar_train" not in dry.stdout


def test_mnist_init_presets_plan_both_inits(tmp_path: Path) -> None:
    """The paper preset trains he and paired at every alpha x c and draws fig6c_ablation; the width-5,000
    GPU ablation preset plans its 13 training jobs (alpha 1, 50 x 2 inits x 3 c, plus output-only), is
    refused on a machine without CUDA before any job, and plans the same jobs with the device overridden."""
    paper = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())
    assert "fig6c_ablation" in paper["figures"] and paper["mnist"]["init"] == ["he", "paired"]
    for sub in ("paper", "gpu", "mirror/MNIST/raw"):
        (tmp_path / sub).mkdir(parents=True)
    jobs = planned_jobs(tmp_path / "paper", REPO / "presets" / "paper.yaml")
    n_grid = len(paper["mnist"]["alpha"]) * len(paper["mnist"]["lr"]["c"])
    assert jobs["mnist_train_init"] == n_grid, jobs  # paired: every (alpha, c); he: the same + output-only
    assert jobs["mnist_train"] == n_grid + len(paper["mnist"]["output_only"]["lr"]["c"]), jobs
    assert jobs["mnist_ablation_aggregate"] == 1, jobs

    mirror = tmp_path / "mirror"
    gpu = REPO / "presets" / "mnist-ablation-gpu.yaml"
    over = tmp_path / "over.yaml"
    over.write_text(yaml.safe_dump({"data": {"mirror": str(mirror)}}))
    if not torch.cuda.is_available():
        out = snakemake(tmp_path / "gpu", "-n", "figures", "--configfile", str(gpu), str(over))
        assert out.returncode != 0 and "mnist.device" in out.stdout + out.stderr
    over.write_text(yaml.safe_dump({"data": {"mirror": str(mirror)}, "mnist": {"device": "cpu"}}))
    jobs = planned_jobs(tmp_path / "gpu", gpu, over)
    assert jobs["mnist_train"] == 2 * 3 + 1 and jobs["mnist_train_init"] == 2 * 3, jobs
    assert jobs["mnist_select"] == 2 + 1 and jobs["mnist_select_init"] == 2, jobs
