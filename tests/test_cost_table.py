"""benchmarks/cost_table.py: sums Snakemake benchmark records per rule folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from .conftest import REPO

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _module():
    spec = importlib.util.spec_from_file_location("cost_table", REPO / "benchmarks" / "cost_table.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _write(path: Path, rows: list[tuple[float, float, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t50\t{cpu}\n" for s, cpu, rss in rows))


def test_costs_are_summed_per_rule_folder(tmp_path: Path) -> None:
    ct = _module()
    bench = tmp_path / "results" / "benchmarks"
    _write(bench / "relu_fig6" / "D2_s0.tsv", [(10.0, 9.5, 100.0)])
    _write(bench / "relu_fig6" / "D5_s1.tsv", [(99.0, 1.0, 50.0), (30.0, 28.0, 300.0)])  # a rerun: last row counts
    _write(bench / "matfac_batch" / "s0_c0.tsv", [(5.0, 4.0, 80.0)])
    costs = ct.read_costs(bench)
    assert set(costs) == {"relu_fig6", "matfac_batch"}
    relu = costs["relu_fig6"]
    assert (relu.jobs, relu.wall_s, relu.cpu_s, relu.max_rss_mb) == (2, 40.0, 37.5, 300.0)
    assert relu.longest_job == "D5_s1" and relu.longest_s == 30.0
    text = ct.markdown(costs, wall=100.0, cores=2)
    lines = text.splitlines()
    assert lines[2].startswith("| `relu_fig6` | 2 | 0:00:38 |")  # sorted by CPU time, 37.5 s rounded
    assert "| **all benchmarked jobs** | **3** | **0:00:42** |" in text
    assert "21% of the 2 cores" in text  # 41.5 s / (100 s x 2)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no benchmarks/"):
        _module().main([str(tmp_path)])
