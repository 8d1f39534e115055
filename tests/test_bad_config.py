"""Every bad config stops the workflow before its first job, with one line naming the key.

Each case writes a config file (YAML, so NaN and infinity can be given) and
runs ``snakemake figures`` for real (not a dry run): the exit status must be
2, no job may have run (no results directory, no rule started), and the one
error line must name the offending key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import snakemake

NAN, INF = float("nan"), float("inf")

CASES: list[tuple[str, dict, str]] = [
    # (id, config overrides, key the message must name)
    ("unknown-top-key", {"diagnal": {"d": 3}}, "diagnal"),
    ("unknown-nested-key", {"diagonal": {"flow_tols": 1e-9}}, "diagonal.flow_tols"),
    ("N-above-d", {"diagonal": {"N": 2000}}, "diagonal.N"),
    ("fig1c-N-above-d", {"diagonal": {"fig1c": {"N": [40, 5000]}}}, "diagonal.fig1c.N"),
    ("reversed-bounds", {"diagonal": {"fig1c": {"log10_alpha_D_bounds": [2, -40]}}},
     "diagonal.fig1c.log10_alpha_D_bounds"),
    ("fig1-depth-5", {"diagonal": {"depths": [5]}}, "diagonal.depths"),
    ("r_star-above-d", {"diagonal": {"r_star": 2000}}, "diagonal.r_star"),
    ("nan-in-grid", {"theory": {"fig3b": {"alpha": [0.1, NAN, 10.0]}}}, "theory.fig3b.alpha"),
    ("inf-tolerance", {"diagonal": {"flow_tol": INF}}, "diagonal.flow_tol"),
    ("nan-threshold", {"claims": {"excess_tol": NAN}}, "claims.excess_tol"),
    ("duplicate-seeds", {"diagonal": {"seeds": [0, 0]}}, "diagonal.seeds"),
    ("duplicate-alpha", {"diagonal": {"gd": {"alpha": [1.0, 1.0]}}}, "diagonal.gd.alpha"),
    ("duplicate-k", {"matfac": {"k": [10, 10]}}, "matfac.k"),
    ("huge-theory-grid", {"theory": {"fig3b": {"alpha": {"log10_start": -8, "log10_stop": 3, "num": 1000000}}}},
     "theory.fig3b.alpha"),
    ("huge-matfac-grid", {"matfac": {"alpha": {"log10_start": -3, "log10_stop": -1, "num": 100000}}},
     "matfac.alpha"),
    ("mnist-validation-too-big", {"mnist": {"validation": 4000}}, "mnist.validation"),
    ("cifar-init-paired", {"cifar": {"init": "paired"}}, "cifar.init"),
    ("cifar-output-init-not-run", {"cifar": {"output_only": {"init": "he"}}}, "cifar.output_only.init"),
    ("negative-alpha-floor", {"cifar": {"lr": {"alpha_floor": -1.0}}}, "cifar.lr.alpha_floor"),
    ("cifar-validation-too-big", {"cifar": {"validation": 900}}, "cifar.validation"),
    ("mnist-subset-too-big", {"mnist": {"train_subset": 3900}}, "mnist.train_subset"),
    ("fig7-x-y-lengths", {"relu": {"fig7": {"x": [-1.0, 0.0, 1.0]}}}, "relu.fig7.x"),
    ("fig7-repeated-x", {"relu": {"fig7": {"x": [-1.5, -0.9, -0.3, 0.3, 0.9, 0.9]}}}, "relu.fig7.x"),
    ("fig7-odd-width", {"relu": {"fig7": {"width": 999}}}, "relu.fig7.width"),
    ("fig6-odd-width", {"relu": {"fig6": {"width": 31}}}, "relu.fig6.width"),
    ("mirror-unset", {"data": {"mnist": {"source": "mirror"}}}, "data.mirror"),
    ("mirror-missing", {"data": {"mirror": "no/such/folder", "cifar10": {"source": "mirror"}}}, "data.mirror"),
    ("unknown-source", {"data": {"mnist": {"source": "ftp"}}}, "data.mnist.source"),
    ("cuda-without-gpu-relu", {"relu": {"device": "cuda"}}, "relu.device"),
    ("cuda-without-gpu-mnist", {"mnist": {"device": "cuda"}}, "mnist.device"),
    ("unknown-figure", {"figures": ["fig1a", "fig99"]}, "figures[1]"),
    ("wrong-type", {"theory": {"fig3b": {"d": "abc"}}}, "theory.fig3b.d"),
    ("negative-alpha", {"diagonal": {"alpha": [0.1, -1.0]}}, "diagonal.alpha[1]"),
    ("fractional-num", {"diagonal": {"alpha": {"log10_start": -6, "log10_stop": 2, "num": 17.5}}},
     "diagonal.alpha.num"),
    ("zero-max-steps", {"diagonal": {"gd": {"max_steps": 0}}}, "diagonal.gd.max_steps"),
    ("empty-results", {"results": ""}, "results"),
    ("zero-grid-limit", {"limits": {"max_grid_points": 0}}, "limits.max_grid_points"),
    ("depth-1", {"diagonal": {"theorem3": {"depths": [1]}}}, "diagonal.theorem3.depths"),
    ("no-validation-many-lr", {"mnist": {"validation": 0}}, "mnist.validation"),
]


@pytest.mark.parametrize("overrides, key", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_stops_before_any_job(tmp_path: Path, overrides: dict, key: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(overrides))
    out = snakemake(tmp_path, "--cores", "1", "figures", "--configfile", str(cfg), timeout=300)
    assert out.returncode == 2, out.stdout[-2000:] + out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("kr: config error:")]
    assert len(errors) == 1, out.stderr[-2000:]
    assert key in errors[0], errors[0]
    assert "Traceback" not in out.stderr and "rule " not in out.stdout + out.stderr
    assert not (tmp_path / "results").exists(), "a job ran"


def test_cases_are_many_and_distinct() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


def test_null_from_the_command_line_is_accepted(tmp_path: Path) -> None:
    """A documented ``null`` value can be given with --config (it arrives as the string 'null')."""
    out = snakemake(tmp_path, "-n", "figures", "--config", "diagonal={gd: {lr: null}}", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
