"""The matfac rules on a tiny config: tables, figures, ledger rows, config errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kr.ledger import NOT_RUN
from kr.experiments.matfac.claims import CLAIMS
from kr.experiments.matfac.specs import PointSpec
from kr.experiments.matfac.tables import run_point
from kr.results import read_meta, read_table

from .conftest import REPO, planned_jobs, snakemake

TINY: dict[str, Any] = {
    "figures": ["fig5a", "fig5b", "thm4"],
    "matfac": {
        "d": 5,
        "N": 15,
        "seeds": [0],
        "k": [5, 50],
        "alpha": [0.003, 0.1, 0.5],
        "max_steps": 200000,
        "batch_size": 4,                     # 6 grid points: two batch jobs of 3
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
    # the grid ran as two batch jobs (points dealt round-robin), rows in (simulator, k, alpha, seed) order
    batches = sorted((res / "matfac" / "lifted_batch").glob("s0_c*.csv"))
    assert [b.name for b in batches] == ["s0_c0.csv", "s0_c1.csv"]
    assert not (res / "matfac" / "lifted").exists()
    assert [len(read_table(b)) for b in batches] == [3, 3]
    assert grid["simulator"].tolist() == sorted(grid["simulator"])
    assert on_grid[["k", "alpha"]].values.tolist() == [[5, 0.003], [5, 0.1], [5, 0.5], [50, 0.003], [50, 0.1], [50, 0.5]]
    # a batch row is the row the one-point job gives (all but the wall time)
    spec = PointSpec.from_config(read_table(batches[0]).attrs["meta"]["parameters"])
    one = run_point(spec, 50, 0.1, 0)
    row = on_grid[(on_grid["k"] == 50) & (on_grid["alpha"] == 0.1)].iloc[0]
    for col in ("steps", "excess_nuclear", "rms_unobserved_movement", "train_loss", "lr", "converged"):
        assert row[col] == one[col], col
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
    # rerunning one batch or one point recomputes only it (and what depends on it)
    out = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg), "-n", "-f",
                    str(batches[1].relative_to(tmp_path)))
    assert out.returncode == 0
    assert "rule matfac_batch:" in out.stdout and "rule matfac_point:" not in out.stdout
    assert "chunk=1" in out.stdout and "chunk=0" not in out.stdout
    point = res / "matfac" / "direct" / "k5_a0.1_s0.csv"
    out = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg), "-n", "-f", str(point.relative_to(tmp_path)))
    assert out.returncode == 0
    assert "rule matfac_point:" in out.stdout and "rule matfac_batch:" not in out.stdout
    assert "simulator=direct" in out.stdout and "simulator=flow" not in out.stdout
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
    assert "rule matfac_batch:" in out.stdout and "simulator=direct" in out.stdout
    assert "simulator=flow" not in out.stdout and "rule matfac_refs:" not in out.stdout
    assert "rule matfac_theorem4:" not in out.stdout


def test_matfac_bad_config_is_reported(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"figures": ["fig5a"], "matfac": {"simulator": "euler"}}))
    out = snakemake(tmp_path, "figures", "-n", "--configfile", str(cfg))
    assert out.returncode != 0
    assert "euler" in out.stdout + out.stderr


def test_paper_preset_plans_the_grid_in_few_jobs(tmp_path: Path) -> None:
    """Paper preset: 5 seeds x 10 k x 25 alpha = 1,250 grid points in at most 50 batch jobs; one job per
    cross-check point (4 k x 4 alpha, direct and flow); no matfac rule plans more than 300 jobs."""
    jobs = planned_jobs(tmp_path, REPO / "presets" / "paper.yaml")
    assert 5 <= jobs["matfac_batch"] <= 50, jobs
    assert jobs["matfac_point"] == 2 * 4 * 4, jobs
    assert max(n for rule, n in jobs.items() if rule.startswith("matfac")) <= 300, jobs
