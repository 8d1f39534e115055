"""The layout's contracts: the core never imports an experiment, experiments
register themselves completely, and planning modules stay import-light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from kr.experiments import all_claims, experiments, figure_tables, rule_files, table_figures

from .conftest import REPO

CORE = sorted(p for p in (REPO / "kr").glob("*.py"))


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
    return out


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_module_never_imports_an_experiment(path) -> None:
    bad = sorted(m for m in _imported_modules(path) if m == "kr.experiments" or m.startswith("kr.experiments."))
    assert not bad, f"core module kr/{path.name} imports {bad}"


def test_core_import_graph_reaches_no_experiment() -> None:
    """Importing every core module (transitively) loads nothing under kr.experiments."""
    names = [f"kr.{p.stem}" for p in CORE if p.stem != "__init__"]
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names)
            + "bad = sorted(m for m in sys.modules if m.startswith('kr.experiments'))\n"
            + "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


def test_registration_is_light() -> None:
    """Discovery and every plan module import no torch, scipy, matplotlib or cvxpy (the Snakefile loads them)."""
    plans = [f"kr.experiments.{e.name}.plan" for e in experiments()]
    code = ("import sys, kr.experiments as ke\nke.experiments()\n" + "".join(f"import {p}\n" for p in plans)
            + "heavy = sorted(m for m in ('torch', 'scipy', 'matplotlib', 'cvxpy', 'pandas') if m in sys.modules)\n"
            + "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("exp", experiments(), ids=lambda e: e.name)
def test_experiment_is_complete(exp) -> None:
    """Its plots module draws exactly its figures; its claims use known tables; its rule files exist."""
    drawn = importlib.import_module(exp.plots).FIGURES
    assert set(drawn) == set(exp.figures), f"{exp.plots}.FIGURES != {exp.name}'s declared figures"
    claims = importlib.import_module(exp.claims).CLAIMS
    for claim in claims:
        unknown = set(claim.tables) - set(table_figures())
        assert not unknown, f"claim {claim.claim_id} reads undeclared tables {sorted(unknown)}"
    for path in exp.rules:
        assert (REPO / path).is_file(), f"{exp.name} declares missing rule file {path}"
    assert (REPO / "kr" / "experiments" / exp.name / "plan.py").is_file(), f"{exp.name} has no plan.py"


def test_derived_lists() -> None:
    assert len(all_claims()) == len({c.claim_id for c in all_claims()})
    assert set(figure_tables()) == {f for e in experiments() for f in e.figures}
    assert len(rule_files()) == len(set(rule_files()))
    included = (REPO / "Snakefile").read_text()
    for path in ("rules/theory.smk", "rules/matfac.smk"):
        assert path not in included, "the Snakefile should include experiment rule files via kr.experiments"
