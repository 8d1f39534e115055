"""Config helpers that do not need Snakemake.

``config.yaml`` holds every default value; the schema holds types, bounds and
descriptions only.  :func:`default_config` gives the config a run sees.

Snakemake parses nested ``--config`` values with YAML's BaseLoader, so
``--config 'theory={fig3b: {d: 50}}'`` arrives with ``d`` as the string
``"50"``.  :func:`coerce_scalars` restores numbers and booleans before the
schema check, so command-line overrides behave like values in a YAML file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.IGNORECASE)
_BOOL = {"true": True, "false": False}
_NULL = {"null", "~", "none"}


def coerce_scalars(value: Any) -> Any:
    """Recursively turn numeric / boolean strings into numbers / booleans.

    >>> coerce_scalars({"a": ["1", "-2.5e-3", "x"], "b": {"c": "true", "d": "null"}})
    {'a': [1, -0.0025, 'x'], 'b': {'c': True, 'd': None}}
    """
    if isinstance(value, dict):
        return {k: coerce_scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce_scalars(v) for v in value]
    if isinstance(value, str):
        s = value.strip()
        if _INT.fullmatch(s):
            return int(s)
        if _FLOAT.fullmatch(s):
            return float(s)
        if s.lower() in _BOOL:
            return _BOOL[s.lower()]
        if s.lower() in _NULL:  # YAML's null, as --config gives it: "lr: null"
            return None
    return value


REPO = Path(__file__).resolve().parent.parent
"""The repository root: ``config.yaml`` and ``schemas/`` live here."""


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in recursively (as Snakemake merges ``--configfile``).

    >>> deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    """
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_config(*overrides: Mapping[str, Any], validate: bool = True) -> dict[str, Any]:
    """``config.yaml`` (the single source of default values) with ``overrides`` merged in.

    Checked against ``schemas/config.schema.yaml`` unless ``validate`` is
    False.  This is the config a workflow run with the same overrides sees.

    >>> default_config({"diagonal": {"d": 50}})["diagonal"]["d"]
    50
    """
    import jsonschema
    import yaml

    cfg: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text())
    for update in overrides:
        cfg = deep_merge(cfg, update)
    if validate:
        schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
        jsonschema.validate(cfg, schema)
    return cfg
