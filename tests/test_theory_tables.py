"""Theory tables (kr.experiments.theory.tables) agree with kr.theory and with each other."""

from __future__ import annotations

import numpy as np
import pytest

from kr import theory
from kr.experiments.theory import THEORY_TABLES
from kr.experiments.theory.tables import BUILDERS, fig2_table, fig3b_table, fig3b_transition_table, theory_limits_table

SPECS = {
    "fig2": {"z": {"start": -3, "stop": 3, "num": 13}, "rescaling_zmax": [10, 1000]},
    "fig3a": {"depths": [2, 5], "z": [-1.0, 0.0, 2.0]},
    "fig3b": {"depths": [2, 3, 4], "d": 10, "alpha": {"log10_start": -6, "log10_stop": 2, "num": 9},
              "transition_eps": [0.5, 0.2, 0.1]},
    "limits": {"d": 4, "n_vectors": 2, "seed": 1, "alpha": [1e-20, 1e-3, 2.0, 1e3]},
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_table_is_tidy_and_converged(name: str) -> None:
    assert name in THEORY_TABLES
    df = BUILDERS[name](SPECS[THEORY_TABLES[name][0]])
    assert len(df) > 0 and "converged" in df.columns
    assert df["converged"].all()
    numeric = df.select_dtypes("number").drop(columns=["l1_ratio"], errors="ignore")
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()


def test_fig2_quartic_columns() -> None:
    df = fig2_table(SPECS["fig2"])
    nz = df[df["z"] != 0]
    assert (nz["quartic_real_roots"] == 2).all()
    assert (df["r_minus_smallest_root_rel"] < 1e-9).all()
    np.testing.assert_allclose(df["q"], theory.q(df["z"].to_numpy()), rtol=0)


def test_fig3b_matches_direct_Q_D() -> None:
    df = fig3b_table(SPECS["fig3b"])
    d = 10
    for row in df.sample(8, random_state=0).itertuples():
        e1 = np.eye(d)[0]
        flat = np.full(d, 1 / np.sqrt(d))
        direct = theory.Q_D(e1, row.alpha, row.D) / theory.Q_D(flat, row.alpha, row.D)
        assert row.ratio == pytest.approx(float(direct), rel=1e-12)


def test_transition_alpha_hits_the_target_ratio() -> None:
    df = fig3b_transition_table(SPECS["fig3b"])
    for row in df.itertuples():
        got = theory.norm_ratio(row.alpha_star, row.D, row.d)
        assert got == pytest.approx((1 + row.eps) / np.sqrt(row.d), rel=1e-9)
    # smaller eps needs smaller alpha, at every depth
    for _, g in df.groupby("D"):
        assert np.all(np.diff(g.sort_values("eps")["alpha_star"].to_numpy()) > 0)


def test_limits_table_is_seeded_and_l1_ratio_only_below_one() -> None:
    a, b = theory_limits_table(SPECS["limits"]), theory_limits_table(SPECS["limits"])
    assert a.equals(b)
    assert a.loc[a["alpha"] >= 1, "l1_ratio"].isna().all()
    assert a.loc[a["alpha"] < 1, "l1_ratio"].notna().all()
