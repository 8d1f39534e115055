"""The matfac rules on a tiny config: tables, figures, ledger rows, config errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kr.ledger import NOT_RUN
from kr.experiments.matfac.claims import CLAIMS
from kr.results import read_meta, read_table

from .conftest import snakemake

TINY: dict[str, Any] = {
    "figures": ["fig5a", "fig5b", "thm4"],
    "matfac": {
        "d": 5,
        "N": 15,
        "seeds": [0],
        "k": [5, 50],
        "alpha": [0.003, 0.1, 0.5],
        "max_steps": 200000,
        "crosscheck": {"simulators": ["direct", "flow"], "k": [5], "alpha": [0.1], "seeds": [0]},
        "theorem4": {"d": 4, "N": 2, "mu": [0.5], "k": [10, 1000], "seeds": [0]},
        "claims": {"matfac_kernel_min_k": 50},
    },
}


def test_matfac_workflow_tiny(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    out = snakemake(tmp_path, "figures", "--cores", "2", "--configfile", str(cfg))
    assert out.returncode == 0, out.stderr[-3000:]
    res = tmp_path / "results"
    grid = read_table(res / "tables" / "matfac_grid.csv")
    on_grid = grid[grid["role"] == "grid"]
    assert len(on_grid) == 2 * 3 and set(on_grid["simulator"]) == {"lifted"}
    assert set(grid["simulator"]) == {"lifted", "direct", "flow"}
    for col in ("excess_nuclear", "rms_unobserved_movement", "rms_recovery_error", "train_loss", "converged",
                "ref_min_nuclear_norm"):
        assert col in grid.columns
    assert grid["converged"].all()
    direct = grid[grid["simulator"] == "direct"]
    assert (direct["rel_dev_lifted"] <= 1e-10).all()
    th4 = read_table(res / "tables" / "matfac_theorem4.csv")
    assert len(th4) == 2 and th4["converged"].all()
    assert grid.attrs["meta"]["sources"]  # provenance of every point kept
    for fig in TINY["figures"]:
        assert (res / "figures" / f"{fig}.png").read_bytes().startswith(b"\x89PNG")
        assert (res / "figures" / f"{fig}.pdf").read_bytes().startswith(b"%PDF")
    ledger = read_table(res / "claims.csv").set_index("claim_id")
    for claim in CLAIMS:
        assert ledger.loc[claim.claim_id, "verdict"] != NOT_RUN, claim.claim_id
    assert ledger.loc["matfac-direct-equals-lifted", "verdict"] == "reproduced"
    # each job records (and depends on) only the settings it uses
    flow = read_table(res / "matfac" / "flow" / "k5_a0.1_s0.csv").attrs["meta"]["parameters"]
    assert set(flow) == {"simulator", "d", "N", "loss_rtol", "flow_t_max", "k", "alpha", "seed"}
    direct = read_table(res / "matfac" / "direct" / "k5_a0.1_s0.csv").attrs["meta"]["parameters"]
    assert direct["device"] == "cpu" and "flow_t_max" not in direct and "claims" not in direct
    th4_params = read_meta(tmp_path / next(iter(th4.attrs["meta"]["sources"])))["parameters"]
    assert set(th4_params) == {"d", "N", "mu", "k", "loss_rtol", "flow_t_max", "seed"}
    # rerunning one point recomputes only that point (and what depends on it)
    point = res / "matfac" / "lifted" / "k5_a0.1_s0.csv"
    out = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg), "-n", "-f", str(point.relative_to(tmp_path)))
    assert out.returncode == 0
    assert "rule matfac_point" in out.stdout
    assert "simulator=lifted" in out.stdout and "simulator=direct" not in out.stdout
    # a ledger threshold is no job's parameter; a GD setting reruns the GD points only, not the flow
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump({**TINY, "matfac": {**TINY["matfac"], "claims": {"matfac_kernel_min_k": 5}}}))
    out = snakemake(tmp_path, "--cores", "2", "--configfile", str(changed), "-n")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rule claims:" in out.stdout
    assert "rule matfac_" not in out.stdout  # no point, reference, Theorem 4 or aggregation job
    changed.write_text(yaml.safe_dump({**TINY, "matfac": {**TINY["matfac"], "max_steps": 300000}}))
    out = snakemake(tmp_path, "--cores", "2", "--configfile", str(changed), "-n")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "simulator=lifted" in out.stdout and "simulator=direct" in out.stdout
    assert "simulator=flow" not in out.stdout and "rule matfac_refs:" not in out.stdout
    assert "rule matfac_theorem4:" not in out.stdout


def test_matfac_bad_config_is_reported(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"figures": ["fig5a"], "matfac": {"simulator": "euler"}}))
    out = snakemake(tmp_path, "figures", "-n", "--configfile", str(cfg))
    assert out.returncode != 0
    assert "euler" in out.stdout + out.stderr
