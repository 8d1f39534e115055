"""results/datapackage.json: a Frictionless package that validates against the tables (kr.datapackage)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kr.datapackage import build_datapackage
from kr.results import write_table

frictionless = pytest.importorskip("frictionless", reason="frictionless is in the test extra")


def _tables(tmp_path: Path) -> dict[str, str]:
    a = pd.DataFrame({"alpha": [1e-6, 0.1, 1e4], "D": [2, 3, 5], "excess": [np.nan, np.inf, -0.5],
                      "method": ["flow", "gd", "flow"], "converged": [True, False, True]})
    b = pd.DataFrame({"k": [10, 100], "sigma": [0.1, 2.0], "converged": [True, True]})
    paths = {"sweep": tmp_path / "tables" / "sweep.csv", "grid": tmp_path / "tables" / "grid.csv"}
    write_table(a, paths["sweep"], {})
    write_table(b, paths["grid"], {})
    return {k: str(v) for k, v in paths.items()}


DESCRIPTIONS = {"sweep": {"alpha": "initialisation scale", "D": "depth", "excess": "excess norm",
                          "method": "route", "converged": "converged"},
                "grid": {"k": "width", "sigma": "scale", "converged": "converged"}}


def test_package_validates_with_frictionless(tmp_path: Path) -> None:
    out = tmp_path / "datapackage.json"
    package = build_datapackage(_tables(tmp_path), DESCRIPTIONS, out)
    report = frictionless.validate(str(out))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    fields = {f["name"]: f for f in package["resources"][1]["schema"]["fields"]}
    assert fields["alpha"]["type"] == "number" and fields["D"]["type"] == "integer"
    assert fields["converged"]["type"] == "boolean" and fields["method"]["type"] == "string"
    assert fields["alpha"]["description"] == "initialisation scale"
    assert json.loads(out.read_text())["resources"][0]["path"] == "tables/grid.csv"


def test_frictionless_catches_a_table_that_no_longer_matches(tmp_path: Path) -> None:
    """The package is a real check: a table edited after the package was written fails validation."""
    tables = _tables(tmp_path)
    out = tmp_path / "datapackage.json"
    build_datapackage(tables, DESCRIPTIONS, out)
    Path(tables["grid"]).write_text("k,sigma,converged\nten,0.1,True\n100,2.0,True\n")
    assert not frictionless.validate(str(out)).valid
