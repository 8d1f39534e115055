"""The Snakemake workflow: planning, a tiny end-to-end run, config errors."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kr.experiments import all_claims, figure_tables, tables_for_figures
from kr.ledger import NOT_REPRODUCED, NOT_RUN, REPRODUCED
from kr.experiments.theory import THEORY_TABLES
from kr.results import read_meta, read_table

from .conftest import REPO, TINY_CONFIG, rerun_compute_rules, snakemake

DEFAULT_FIGURES = yaml.safe_load((REPO / "config.yaml").read_text())["figures"]
TINY_FIGURES = TINY_CONFIG["figures"]  # the other experiments have their own tiny workflow tests


def test_dry_run_plans_every_figure(tmp_path: Path) -> None:
    """`snakemake -n figures` on the default config plans every figure and the ledger."""
    out = snakemake(tmp_path, "-n", "figures")
    assert out.returncode == 0, out.stderr
    log = out.stdout + out.stderr
    for fig in DEFAULT_FIGURES:
        for ext in ("pdf", "png"):
            assert f"results/figures/{fig}.{ext}" in log
    assert "results/claims.csv" in log and "results/claims.md" in log
    # every paper figure; the MNIST init ablation (fig6c_ablation) is its own preset's figure
    assert set(DEFAULT_FIGURES) == set(figure_tables()) - {"fig6c_ablation"}, "the default preset should draw every figure"


def test_paper_preset_and_slurm_profile_plan(tmp_path: Path) -> None:
    """The paper preset validates, and the cluster profile loads (dry run)."""
    out = snakemake(tmp_path, "-n", "figures", "--configfile", str(REPO / "config.yaml"),
                    str(REPO / "presets/paper.yaml"), "--profile", str(REPO / "profiles/slurm"))
    assert out.returncode == 0, out.stderr
    assert "theory_table" in out.stdout


def test_lint_is_clean(tmp_path: Path) -> None:
    out = snakemake(tmp_path, "--lint")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Lints for" not in out.stdout + out.stderr


RERUNS: list[tuple[dict, dict[str, int]]] = [
    # (a change to the tiny config, the compute jobs it reruns by rule)
    ({"claims": {"excess_tol": 0.5}}, {}),                         # a ledger threshold: only the ledger
    ({"claims": {"flow_vs_min_Q_rtol": 1e-3}}, {}),
    ({"theory": {"fig2": {"rescaling_zmax": [10, 1000]}}}, {"theory_table": 2}),   # fig2's two tables
    ({"theory": {"limits": {"n_vectors": 2}}}, {"theory_table": 1}),
    ({"diagonal": {"gd": {"tol": 1e-6}}}, {"diagonal_gd": 1}),     # was: 19 sweep and reference jobs
    ({"diagonal": {"gd": {"max_steps": 40000}}}, {"diagonal_gd": 1}),
    ({"diagonal": {"flow_tol": 1e-8}}, {"diagonal_sweep": 4}),
    ({"diagonal": {"fig1c": {"error_threshold": 0.05}}}, {"diagonal_threshold": 4}),
    ({"diagonal": {"fig1c": {"depths": [2]}}}, {}),                # drops jobs, reruns none
    ({"diagonal": {"theorem3": {"alpha": [0.02, 1.0]}}}, {"diagonal_sweep": 2}),   # the D = 3 sweeps only
    ({"diagonal": {"noise_var": 0.02}},
     {"diagonal_refs": 2, "diagonal_sweep": 4, "diagonal_gd": 1, "diagonal_threshold": 4}),
]


def test_tiny_end_to_end(tmp_path: Path, tiny_config: Path) -> None:
    """Run every rule on tiny grids; check outputs, provenance, ledger, idempotence, -f."""
    out = snakemake(tmp_path, "--cores", "2", "figures", "--configfile", str(tiny_config))
    assert out.returncode == 0, out.stderr[-3000:]
    res = tmp_path / "results"
    for fig in TINY_FIGURES:
        assert (res / "figures" / f"{fig}.pdf").read_bytes().startswith(b"%PDF")
        assert (res / "figures" / f"{fig}.png").read_bytes().startswith(b"\x89PNG")
        assert (res / "logs" / "plot_figure" / f"{fig}.log").exists()

    # every table records its parameters, code version and convergence
    tables = sorted((res / "tables").glob("*.csv"))
    assert {p.stem for p in tables} == set(tables_for_figures(TINY_FIGURES))
    for path in tables:
        meta = read_meta(path)
        assert meta["code_version"].startswith("0.")
        if path.stem in THEORY_TABLES:
            assert meta["converged"] is True
            assert meta["parameters"]["table"] == path.stem
        else:  # aggregated: every source file's own header is kept
            assert len(meta["sources"]) == len(meta["parameters"]["sources"]) > 0
    sweep = read_table(res / "tables" / "diagonal_sweep.csv")
    assert {"flow", "newton", "gd", "theorem2_l1", "theorem2_l2"} <= set(sweep["method"])
    assert set(sweep["seed"]) == {0, 1} and set(sweep["D"]) == {2, 3}
    fig3b = read_table(res / "tables" / "fig3b_norm_ratio.csv")
    assert set(fig3b["D"]) == {2, 3} and (fig3b["d"] == 20).all()
    assert not list(res.rglob("*.tmp")), "no temporary files may be left behind"

    # the ledger: one row per registered claim, verdicts from the allowed set
    ledger = pd.read_csv(res / "claims.csv")
    assert list(ledger["claim_id"]) == [c.claim_id for c in all_claims()]
    assert set(ledger["verdict"]) <= {REPRODUCED, NOT_REPRODUCED, NOT_RUN}
    built = set(tables_for_figures(TINY_FIGURES))
    ran = ledger["claim_id"].isin({c.claim_id for c in all_claims() if set(c.tables) <= built})
    assert ran.sum() >= 16
    assert (ledger.loc[ran, "verdict"] != NOT_RUN).all()
    assert (ledger.loc[~ran, "verdict"] == NOT_RUN).all()
    verdicts = dict(zip(ledger["claim_id"], ledger["verdict"]))
    assert verdicts["sec4-r-unique-quartic-root"] == NOT_REPRODUCED
    assert verdicts["thm1-thm3-flow-is-min-Q"] == REPRODUCED
    assert verdicts["fig3b-transition-exp-vs-poly"] == REPRODUCED
    assert "# Claims ledger" in (res / "claims.md").read_text()

    # plain CSVs any reader opens, described by a Frictionless package that validates
    assert pd.read_csv(res / "claims.csv").columns[0] == "claim_id"
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(res / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    package = yaml.safe_load((res / "datapackage.json").read_text())
    described = {r["path"] for r in package["resources"]}
    assert described == {f"tables/{p.name}" for p in tables} | {"claims.csv"}
    undescribed = [(r["path"], f["name"]) for r in package["resources"] for f in r["schema"]["fields"]
                   if not f["description"]]
    assert not undescribed, undescribed

    # a second run does nothing
    again = snakemake(tmp_path, "--cores", "2", "figures", "--configfile", str(tiny_config))
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    # only what changed reruns: each key reruns exactly the jobs that read it
    for change, expected in RERUNS:
        assert rerun_compute_rules(tmp_path, TINY_CONFIG, change) == expected, change

    # the report bundles the figures and the ledger
    report = snakemake(tmp_path, "--report", "results/report.zip", "figures", "--configfile", str(tiny_config))
    assert report.returncode == 0, report.stderr[-3000:]
    with zipfile.ZipFile(res / "report.zip") as zf:
        names = zf.namelist()
    for fig in TINY_FIGURES:
        assert any(n.endswith(f"/{fig}.png") for n in names)
    assert any(n.endswith("/claims.csv") for n in names)

    # forcing one file recomputes only that job
    target = "results/tables/fig2_q_r.csv"
    forced = snakemake(tmp_path, "--cores", "2", "-f", target, "--configfile", str(tiny_config))
    assert forced.returncode == 0, forced.stderr[-3000:]
    log = forced.stdout + forced.stderr
    assert re.search(r"1 of 1 steps \(100%\) done", log), log[-2000:]


def test_unconfigured_figures_are_not_run(tmp_path: Path, tiny_config: Path) -> None:
    """With only fig2 configured, its claims are checked and the others are 'not run'."""
    out = snakemake(tmp_path, "--cores", "2", "figures", "--configfile", str(tiny_config),
                    "--config", "figures=[fig2]")
    assert out.returncode == 0, out.stderr[-3000:]
    ledger = pd.read_csv(tmp_path / "results" / "claims.csv")
    built = set(tables_for_figures(["fig2"]))
    fig2_ids = {c.claim_id for c in all_claims() if set(c.tables) <= built}
    assert fig2_ids, "fig2 should carry claims"
    fig2_claims = ledger["claim_id"].isin(fig2_ids)
    assert (ledger.loc[fig2_claims, "verdict"] != NOT_RUN).all()
    assert (ledger.loc[~fig2_claims, "verdict"] == NOT_RUN).all()
    assert not (tmp_path / "results" / "figures" / "fig3b.pdf").exists()


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("theory={fig3b: {alpha: [-1, 2]}}", "theory.fig3b.alpha"),  # negative alpha
        ("theory={fig3a: {depths: [1, 3]}}", "theory.fig3a.depths"),  # D < 2
        ("theory={fig3a: {depths: []}}", "theory.fig3a.depths"),  # empty grid
        ("figures=[fig2, fig42]", "figures"),  # unknown figure
        ("theory={fig3b: {d: ten}}", "theory.fig3b.d"),  # wrong type
        ("theory={limits: {seed: 1, colour: red}}", "theory.limits.colour"),  # unknown key
    ],
)
def test_bad_config_fails_before_any_job(tmp_path: Path, override: str, key: str) -> None:
    out = snakemake(tmp_path, "--cores", "1", "figures", "--config", override)
    assert out.returncode != 0
    err = out.stdout + out.stderr
    assert "kr: config error:" in err and len(err.strip().splitlines()) <= 3, err[-2000:]  # one line
    assert key in err, err[-2000:]
    assert not (tmp_path / "results").exists(), "no job may run on a bad config"


def test_cli_numbers_are_numbers(tmp_path: Path) -> None:
    """Nested --config values are parsed as numbers, as in a YAML file."""
    out = snakemake(tmp_path, "-n", "figures", "--config", "theory={fig3b: {d: 50, depths: [2, 4]}}")
    assert out.returncode == 0, out.stderr[-2000:]
