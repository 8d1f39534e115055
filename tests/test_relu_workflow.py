"""The ReLU experiment through the workflow on a tiny config (Figures 6(a), 6(b), 7(a-c))."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from kr.ledger import NOT_REPRODUCED, NOT_RUN, REPRODUCED
from kr.experiments.relu.claims import CLAIMS
from kr.results import read_meta, read_table

from .conftest import snakemake

FIGURES = ["fig6a", "fig6b", "fig7a", "fig7b", "fig7c"]
TINY = {
    "figures": FIGURES,
    "relu": {
        "fig6": {"depths": [2, 3], "seeds": [0], "width": 10, "alpha_D": [0.01, 100.0], "lr": 0.5,
                 "tol": 1.0e-4, "max_steps": 3000, "check_every": 100},
        "fig7": {"width": 100, "alpha": [0.1, 10.0], "shapes": {"a": 1.0, "b": 0.3, "c": 0.1}, "tol": 1.0e-4,
                 "max_steps": 3000, "check_every": 100, "grid_points": 101},
    },
}


def test_relu_tiny_workflow(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    out = snakemake(tmp_path, "--cores", "2", "figures", "--configfile", str(cfg))
    assert out.returncode == 0, out.stderr[-3000:]
    res = tmp_path / "results"
    for fig in FIGURES:
        assert (res / "figures" / f"{fig}.png").read_bytes().startswith(b"\x89PNG")
        assert (res / "figures" / f"{fig}.pdf").read_bytes().startswith(b"%PDF")
    f6 = read_table(res / "tables" / "relu_fig6.csv")
    assert len(f6) == 2 * 2 and set(f6["D"]) == {2, 3}
    assert {"test_error", "kernel_test_error", "linearised_test_error", "grad_distance", "converged",
            "hit_cap"} <= set(f6.columns)
    assert (f6["grad_distance"] >= 0).all() and f6["kernel_test_error"].gt(0).all()
    assert len(read_meta(res / "tables" / "relu_fig6.csv")["sources"]) == 2
    f7 = read_table(res / "tables" / "relu_fig7.csv")
    assert set(f7["panel"]) == {"a", "b", "c"} and set(f7["curve"]) == {"network", "kernel", "spline", "data"}
    assert set(f7.loc[f7["curve"] == "network", "alpha"]) == {0.1, 10.0}
    assert (res / "logs" / "relu_fig6" / "D2_s0.log").exists()
    assert (res / "benchmarks" / "relu_fig7" / "panel_a.tsv").exists()
    ledger = pd.read_csv(res / "claims.csv").set_index("claim_id")
    for claim in CLAIMS:
        assert ledger.loc[claim.claim_id, "verdict"] in {REPRODUCED, NOT_REPRODUCED}
        assert ledger.loc[claim.claim_id, "verdict"] != NOT_RUN
    # the convergence claim counts exactly the non-converged runs of the tables
    runs7 = f7[f7["curve"] == "network"].groupby(["panel", "alpha"])["converged"].all()
    n_bad = int((~f6["converged"]).sum() + (~runs7).sum())
    assert ledger.loc["relu-runs-converged", "value"] == n_bad
    # headers: exactly the job's params, its wildcards and the device
    h6 = read_meta(res / "relu" / "fig6" / "D2_s0.csv")["parameters"]
    assert h6["D"] == 2 and h6["seed"] == 0 and h6["device"] == "cpu" and h6["width"] == 10
    assert not {"depths", "seeds", "claims"} & set(h6)
    h7 = read_meta(res / "relu" / "fig7" / "panel_b.csv")["parameters"]
    assert h7["panel"] == "b" and h7["c"] == 0.3 and not {"shapes", "claims"} & set(h7)
    # only what changed reruns: another shape c replans panel c alone, no Figure 6 job
    cfg.write_text(yaml.safe_dump({**TINY, "relu": {**TINY["relu"], "fig7": {**TINY["relu"]["fig7"],
                                   "shapes": {"a": 1.0, "b": 0.3, "c": 0.2}}}}))
    dry = snakemake(tmp_path, "-n", "figures", "--configfile", str(cfg))
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = dict(re.findall(r"^(relu_fig[67])\s+(\d+)$", dry.stdout + dry.stderr, flags=re.M))
    assert counts == {"relu_fig7": "1"}, dry.stdout[-3000:]
    planned = dry.stdout + dry.stderr
    assert "panel=c" in planned and "panel=a" not in planned and "panel=b" not in planned, planned[-3000:]


def test_relu_bad_config_is_rejected_before_work(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"figures": ["fig6a"], "relu": {"fig6": {"width": 1}}}))
    out = snakemake(tmp_path, "-n", "figures", "--configfile", str(cfg))
    assert out.returncode != 0 and "width" in out.stdout + out.stderr
