"""Config helpers that do not need Snakemake.

Snakemake parses nested ``--config`` values with YAML's BaseLoader, so
``--config 'theory={fig3b: {d: 50}}'`` arrives with ``d`` as the string
``"50"``.  :func:`coerce_scalars` restores numbers and booleans before the
schema check, so command-line overrides behave like values in a YAML file.
"""

from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|nan)", re.IGNORECASE)
_BOOL = {"true": True, "false": False}


def coerce_scalars(value: Any) -> Any:
    """Recursively turn numeric / boolean strings into numbers / booleans.

    >>> coerce_scalars({"a": ["1", "-2.5e-3", "x"], "b": {"c": "true"}})
    {'a': [1, -0.0025, 'x'], 'b': {'c': True}}
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
    return value
