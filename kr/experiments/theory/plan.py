"""Job planning of rules/theory.smk (import-light).

>>> spec({"fig2": {"z": 1}, "fig3a": {}, "fig3b": {}, "limits": {}}, "fig2_rescaling")
{'z': 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.experiments.theory import THEORY_TABLES


def spec(theory: Mapping[str, Any], table: str) -> dict[str, Any]:
    """The ``theory:`` sub-section that ``table`` is built from."""
    return dict(theory[THEORY_TABLES[table][0]])
