"""Shared fixtures: paths, and a runner for the Snakemake workflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run this repository's workflow with ``workdir`` as working directory."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)


TINY_CONFIG = {
    "figures": ["fig1a", "fig1b", "fig1c", "fig2", "fig3a", "fig3b", "fig3c"],
    "theory": {
        "fig2": {"z": {"start": -5, "stop": 5, "num": 41}, "rescaling_zmax": [10, 1000, 100000]},
        "fig3a": {"depths": [2, 3], "z": {"start": -2, "stop": 2, "num": 21}},
        "fig3b": {
            "depths": [2, 3],
            "d": 20,
            "alpha": {"log10_start": -8, "log10_stop": 3, "num": 23},
            "transition_eps": [0.5, 0.2, 0.1, 0.05],
        },
        "limits": {"d": 5, "n_vectors": 3, "alpha": {"log10_start": -30, "log10_stop": 4, "num": 18}},
    },
    "diagonal": {
        "d": 30,
        "r_star": 2,
        "N": 12,
        "seeds": [0, 1],
        "depths": [2],
        "theorem3": {"depths": [3], "seeds": [0, 1], "alpha": [0.01, 1.0]},
        "alpha": {"log10_start": -4, "log10_stop": 2, "num": 5},
        "gd": {"alpha": [1.0], "seeds": [0], "depths": [2], "max_steps": 50000, "tol": 1.0e-7},
        "fig1c": {"N": [8, 15, 25], "depths": [2, 3], "log10_alpha_D_bounds": [-20, 2], "bisection_iterations": 12},
        "theorem2_eps": [2.0, 10.0],
    },
}


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A config file with tiny grids, in a fresh working directory."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path


@pytest.fixture(autouse=True, scope="session")
def _figure_style() -> None:
    """Figures drawn in tests use the workflow's look and the Agg backend."""
    from kr.plotting import apply_style

    apply_style()


# Rules that only collect or draw: they rerun whenever a table they read changes.
DOWNSTREAM_RULES = {"figures", "plot_figure", "claims", "datapackage", "diagonal_aggregate", "matfac_aggregate",
                    "relu_aggregate", "mnist_aggregate", "cifar_aggregate"}


def planned_jobs(workdir: Path, *configfiles: Path, target: str = "figures") -> dict[str, int]:
    """Rule -> number of jobs a dry run plans (the 'Job stats' table), for the given config files."""
    import re

    args = ["-n", target]
    if configfiles:  # one flag, several files: a repeated --configfile flag would keep only its last file
        args += ["--configfile", *map(str, configfiles)]
    out = snakemake(workdir, *args)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return {}
    stats = text.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, flags=re.M)
            if m.group(1) not in ("total", "job")}


def rerun_compute_rules(workdir: Path, base: dict, change: dict) -> dict[str, int]:
    """The compute rules (not aggregation, figures or ledger) a dry run would rerun after ``change``."""
    from kr.configuration import deep_merge

    cfg = workdir / "changed.yaml"
    cfg.write_text(yaml.safe_dump(deep_merge(base, change)))
    return {r: n for r, n in planned_jobs(workdir, cfg).items() if r not in DOWNSTREAM_RULES}
