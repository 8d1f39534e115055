"""The claims ledger: for each claim of the paper, the number we measured.

A :class:`Claim` names the result tables it needs and a function computing a
:class:`Measurement` from them.  :func:`build_ledger` evaluates every
registered claim whose tables are available and marks the others ``not run``;
the verdict always comes from the tables, never from constants.

Each experiment lists its claims in ``kr/experiments/<name>/claims.py``;
:func:`kr.experiments.all_claims` collects them and the caller passes them in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_RUN = "not run"

COLUMNS = ["claim_id", "source", "claim", "quantity", "value", "threshold", "verdict", "detail"]


@dataclass(frozen=True)
class Measurement:
    """What a claim's check measured."""

    quantity: str
    value: float
    threshold: str
    reproduced: bool
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, and how to check it from result tables."""

    claim_id: str
    source: str
    statement: str
    tables: tuple[str, ...]
    check: Callable[[Mapping[str, pd.DataFrame], Mapping[str, Any]], Measurement] = field(repr=False)


def build_ledger(
    tables: Mapping[str, pd.DataFrame], thresholds: Mapping[str, Any], claims: Sequence[Claim]
) -> pd.DataFrame:
    """Evaluate every claim whose tables are present; the rest are ``not run``.

    A table that recorded non-converged rows is still passed to the check;
    each check decides (and says in ``detail``) how it treats them.
    """
    rows = []
    for claim in claims:
        row: dict[str, Any] = {"claim_id": claim.claim_id, "source": claim.source, "claim": claim.statement}
        missing = [t for t in claim.tables if t not in tables]
        if missing:
            row.update(quantity="", value=float("nan"), threshold="", verdict=NOT_RUN,
                       detail="tables not built: " + ", ".join(missing))
        else:
            m = claim.check(tables, thresholds)
            row.update(quantity=m.quantity, value=float(m.value), threshold=m.threshold,
                       verdict=REPRODUCED if m.reproduced else NOT_REPRODUCED, detail=m.detail)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(ledger: pd.DataFrame, code_version: str) -> str:
    """A readable rendering of the ledger (``results/claims.md``)."""
    counts = ledger["verdict"].value_counts()
    lines = [
        "# Claims ledger",
        "",
        f"Code version `{code_version}`. "
        + ", ".join(f"{counts.get(v, 0)} {v}" for v in (REPRODUCED, NOT_REPRODUCED, NOT_RUN))
        + ".",
        "",
    ]
    for row in ledger.itertuples(index=False):
        lines += [f"## `{row.claim_id}`: {row.verdict}", "", f"*{row.source}.* {row.claim}", ""]
        if row.verdict == NOT_RUN:
            lines.append("- measured: nothing (not run)")
        else:
            lines.append(f"- measured: {row.quantity} = **{row.value:.6g}**")
            lines.append(f"- threshold: {row.threshold}")
        if row.detail:
            lines.append(f"- detail: {row.detail}")
        lines.append("")
    return "\n".join(lines)
