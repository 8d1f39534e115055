"""``results/datapackage.json``: a Frictionless Data Package describing every result table.

Each table becomes a tabular resource (path relative to the package, CSV
dialect, its sidecar's row count and SHA-256) with a Table Schema: one
field per column, its type (from the column's values) and its meaning and
unit (from the experiment's ``columns.py``).  ``frictionless validate
results/datapackage.json`` checks the package against the files.

>>> field_type(pd.Series([1, 2]))
'integer'
>>> field_type(pd.Series([True, False]))
'boolean'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kr.results import read_table, write_text
from kr.version import code_version


def field_type(column: pd.Series) -> str:
    """The Table Schema type of a column as :func:`kr.results.write_table` writes it."""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_float_dtype(column):
        return "number"
    values = column.dropna()
    if len(values) and values.isin([True, False, "True", "False"]).all():
        return "boolean"
    return "string"


def table_resource(name: str, path: str | os.PathLike[str], base: str | os.PathLike[str],
                   descriptions: Mapping[str, str], title: str = "") -> dict[str, Any]:
    """The resource of one table; ``descriptions`` maps its columns to meaning and unit."""
    df = read_table(path)
    meta = df.attrs["meta"]
    fields = []
    for col in df.columns:
        ftype = field_type(df[col])
        field: dict[str, Any] = {"name": str(col), "type": ftype, "description": descriptions.get(str(col), "")}
        if ftype == "boolean":
            field["trueValues"], field["falseValues"] = ["True", "true"], ["False", "false"]
        fields.append(field)
    return {
        "name": name.lower().replace("_", "-"),
        "title": title or name,
        "path": os.path.relpath(path, base),
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "hash": f"sha256:{meta['sha256']}",
        "schema": {"fields": fields, "missingValues": ["", "nan", "NaN"]},
        "kr": {"rows": meta["rows"], "converged": meta["converged"], "code_version": meta["code_version"],
               "sidecar": os.path.relpath(Path(path).with_name(Path(path).stem + ".meta.json"), base)},
    }


def build_datapackage(tables: Mapping[str, str], descriptions: Mapping[str, Mapping[str, str]],
                      out: str | os.PathLike[str], titles: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Write the package for ``tables`` (name -> CSV path) to ``out``; return it."""
    base = Path(out).parent
    package = {
        "name": "kr-results",
        "title": "Kernel and Rich Regimes in Overparametrized Models (Woodworth et al., COLT 2020), reproduced",
        "profile": "tabular-data-package",
        "version": code_version(),
        "resources": [table_resource(name, path, base, descriptions.get(name, {}), (titles or {}).get(name, ""))
                      for name, path in sorted(tables.items())],
    }
    write_text(out, json.dumps(package, indent=1) + "\n")
    return package
