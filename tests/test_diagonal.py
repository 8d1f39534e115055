"""The diagonal-network experiment (kr.experiments.diagonal.data, kr.experiments.diagonal.tables): data, metrics, sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from kr.experiments.diagonal.data import sparse_regression
from kr.experiments.diagonal.specs import GDSpec, ProblemSpec, SweepSpec, ThresholdSpec, check_section
from kr.experiments.diagonal.tables import largest_alpha, make_problem, reference_rows, sweep_rows, theorem2_rows
from kr.reference import min_Q

SPEC = ProblemSpec(d=40, r_star=3, noise_var=0.01)


def test_population_error_matches_monte_carlo() -> None:
    """E(<beta, x> - y)^2 = ||beta - beta*||^2 + noise_var, checked by sampling."""
    p = sparse_regression(d=10, n=5, r_star=2, seed=0, noise_var=0.01)
    beta = np.linspace(-0.3, 0.4, 10)
    rng = np.random.default_rng(123)
    x = rng.standard_normal((400_000, 10))
    y = x @ p.beta_star + 0.1 * rng.standard_normal(400_000)
    mc = np.mean((x @ beta - y) ** 2)
    assert float(p.population_error(beta)) == pytest.approx(mc, rel=1e-2)


def test_data_shapes_and_plant() -> None:
    p = sparse_regression(d=50, n=7, r_star=5, seed=2)
    assert p.X.shape == (7, 50) and p.y.shape == (7,)
    assert np.count_nonzero(p.beta_star) == 5
    assert np.allclose(p.beta_star[p.beta_star != 0], 1 / np.sqrt(5))
    assert np.linalg.norm(p.beta_star) == pytest.approx(1.0)
    q = sparse_regression(d=50, n=7, r_star=5, seed=3)
    assert not np.array_equal(p.X, q.X)


@pytest.mark.parametrize("kwargs", [{"d": 0, "n": 3, "r_star": 1}, {"d": 5, "n": 3, "r_star": 6},
                                    {"d": 5, "n": 0, "r_star": 1}])
def test_bad_data_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        sparse_regression(seed=0, **kwargs)


def test_sweep_flow_matches_newton_and_limits() -> None:
    problem = make_problem(SPEC, 15, 0)
    _, betas = reference_rows(problem)
    df = sweep_rows(problem, [1e-4, 1e-1, 1e2], 2, betas, flow_tol=1e-10)
    assert set(df["method"]) == {"flow", "newton"} and len(df) == 6
    flow = df[df["method"] == "flow"].set_index("alpha")
    assert flow["converged"].all()
    assert (flow["rel_dist_to_min_Q"] < 1e-6).all()
    # the excess l1 norm shrinks as alpha -> 0 and the excess l2 norm as alpha -> inf
    assert flow.loc[1e-4, "excess_l1"] < flow.loc[1e2, "excess_l1"]
    assert flow.loc[1e2, "excess_l2"] < flow.loc[1e-4, "excess_l2"]
    assert flow.loc[1e2, "excess_l2"] / np.linalg.norm(betas["l2"]) < 1e-3


def test_largest_alpha_is_the_crossing() -> None:
    problem = make_problem(ProblemSpec(d=60, r_star=3, noise_var=0.01), 30, 1)
    thr = 0.05
    row = largest_alpha(problem, 2, thr, (-20.0, 4.0), 40)
    assert row["converged"] and row["reached"]  # 30 samples recover a 3-sparse plant in d = 60
    a = row["alpha_max"]
    below = problem.population_error(min_Q(problem.X, problem.y, a, D=2).beta)
    above = problem.population_error(min_Q(problem.X, problem.y, a * 1.01, D=2).beta)
    assert below <= thr < above


def test_unreachable_threshold_is_reported() -> None:
    problem = make_problem(SPEC, 5, 0)  # 5 samples cannot reach error 1e-3
    row = largest_alpha(problem, 2, 1e-3, (-16.0, 4.0), 10)
    assert row["reached"] is False and np.isnan(row["alpha_max"])


def test_theorem2_rows_hold() -> None:
    problem = make_problem(SPEC, 15, 0)
    _, betas = reference_rows(problem)
    df = theorem2_rows(problem, betas, [0.01, 2.0, 10.0])
    assert set(df["method"]) == {"theorem2_l1", "theorem2_l2"}
    ok = df[df["checked"] & df["converged"]]
    assert len(ok) >= 4
    assert (ok["bound_ratio"] <= 1).all()
    # eps = 0.01 puts the l1 threshold near 10^-1700: recorded, not solved
    tiny = df[(df["eps"] == 0.01) & (df["method"] == "theorem2_l1")].iloc[0]
    assert not tiny["checked"] and tiny["log10_alpha"] < -30


_SECTION = {"d": 30, "r_star": 2, "noise_var": 0.01, "N": 12, "depths": [2], "flow_tol": 1e-9,
            "theorem2_eps": [2.0], "theorem3": {"depths": [3]},
            "gd": {"depths": [2], "lr": None, "max_steps": 100, "tol": 1e-6, "device": "cpu"},
            "fig1c": {"N": [8, 12], "depths": [2, 3], "error_threshold": 0.1,
                      "log10_alpha_D_bounds": [-20, 2], "bisection_iterations": 5}}


def _with(path: str, value: object) -> dict:
    import copy

    out = copy.deepcopy(_SECTION)
    *head, last = path.split(".")
    node = out
    for key in head:
        node = node[key]
    node[last] = value
    return out


def test_specs_accept_a_valid_section() -> None:
    check_section(_SECTION)
    assert SweepSpec.from_config(_SECTION).theorem2_eps == (2.0,)
    assert GDSpec.from_config(_SECTION["gd"]).lr is None
    assert ThresholdSpec.from_config(_SECTION).N == (8, 12)


@pytest.mark.parametrize("path, value", [
    ("fig1c.log10_alpha_D_bounds", [2, -40]),       # reversed: reached nothing, yet 'converged'
    ("fig1c.log10_alpha_D_bounds", [1, 1]),
    ("N", 100),                                     # N > d: min-l1 gave NaN, flow never ended
    ("fig1c.N", [8, 31]),
    ("depths", [5]),                                # Figure 1 is D = 2: fig1b was drawn blank
    ("r_star", 31),
    ("noise_var", -1.0),
    ("flow_tol", float("nan")),
    ("gd.max_steps", 0),
    ("theorem3.depths", [1]),
    ("fig1c.bisection_iterations", 0),
])
def test_check_section_names_the_key(path: str, value: object) -> None:
    with pytest.raises(ValueError, match=r"diagonal\." + path.replace(".", r"\.")):
        check_section(_with(path, value))
