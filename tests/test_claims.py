"""The claims ledger reads its verdicts from the tables (kr.ledger)."""

from __future__ import annotations

import pandas as pd
import pytest

from kr.experiments import all_claims
from kr.ledger import NOT_REPRODUCED, NOT_RUN, REPRODUCED, build_ledger, to_markdown
from kr.experiments.theory.tables import BUILDERS

from .test_theory_tables import SPECS

THRESHOLDS = {
    "limit_tol_l2": 1e-6,
    "limit_tol_l1": 0.05,
    "lemma_eps": 0.5,
    "rescaling_min_gap": 0.05,
    "fig3b_tol": 0.01,
    "transition_min_log10_fit_ratio": 1.0,
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    specs = {**SPECS, "fig3b": {**SPECS["fig3b"], "d": 100,
                                "alpha": {"log10_start": -8, "log10_stop": 4, "num": 25},
                                "transition_eps": [0.5, 0.3, 0.2, 0.1, 0.05]},
             "limits": {"d": 20, "n_vectors": 3, "seed": 0,
                        "alpha": {"log10_start": -30, "log10_stop": 4, "num": 35}}}
    from kr.experiments.theory import THEORY_TABLES

    return {name: build(specs[THEORY_TABLES[name][0]]) for name, build in BUILDERS.items()}


def test_ids_unique_and_every_claim_checked(tables: dict[str, pd.DataFrame]) -> None:
    ledger = build_ledger(tables, THRESHOLDS, all_claims())
    assert ledger["claim_id"].is_unique
    assert len(ledger) == len(all_claims())
    theory_ids = {c.claim_id for c in all_claims() if set(c.tables) <= set(tables)}
    assert len(theory_ids) == 9
    expected_false = {"sec4-r-unique-quartic-root"}  # the paper's quartic has two real roots
    for row in ledger.itertuples():
        if row.claim_id not in theory_ids:
            assert row.verdict == NOT_RUN  # the diagonal-network tables are not given here
        else:
            assert row.verdict == (NOT_REPRODUCED if row.claim_id in expected_false else REPRODUCED), row


def test_missing_tables_mean_not_run(tables: dict[str, pd.DataFrame]) -> None:
    partial = {k: v for k, v in tables.items() if k != "fig3b_norm_ratio"}
    ledger = build_ledger(partial, THRESHOLDS, all_claims()).set_index("claim_id")
    assert ledger.loc["fig3b-l2-end", "verdict"] == NOT_RUN
    assert "fig3b_norm_ratio" in ledger.loc["fig3b-l2-end", "detail"]
    assert ledger.loc["eq6-Q-l2-limit", "verdict"] == REPRODUCED


def test_verdict_follows_the_data(tables: dict[str, pd.DataFrame]) -> None:
    """Corrupt a table: the verdict must flip (the ledger is never a constant)."""
    bad = dict(tables)
    df = tables["fig3b_norm_ratio"].copy()
    df.loc[df["alpha"] == df["alpha"].max(), "ratio"] = 0.5
    bad["fig3b_norm_ratio"] = df
    lim = tables["theory_limits"].copy()
    lim["l2_ratio"] = lim["l2_ratio"] * 1.01
    bad["theory_limits"] = lim
    ledger = build_ledger(bad, THRESHOLDS, all_claims()).set_index("claim_id")
    assert ledger.loc["fig3b-l2-end", "verdict"] == NOT_REPRODUCED
    assert ledger.loc["fig3b-l2-end", "value"] == pytest.approx(0.5)
    assert ledger.loc["eq6-Q-l2-limit", "verdict"] == NOT_REPRODUCED


def test_stricter_threshold_flips_verdict(tables: dict[str, pd.DataFrame]) -> None:
    strict = {**THRESHOLDS, "rescaling_min_gap": 10.0}
    ledger = build_ledger(tables, strict, all_claims()).set_index("claim_id")
    assert ledger.loc["fig2-r-not-rescaled-q", "verdict"] == NOT_REPRODUCED


def test_markdown_lists_every_claim(tables: dict[str, pd.DataFrame]) -> None:
    ledger = build_ledger(tables, THRESHOLDS, all_claims())
    md = to_markdown(ledger, "0.0.0+test")
    for cid in ledger["claim_id"]:
        assert f"`{cid}`" in md
    assert "0.0.0+test" in md
