"""Matrix factorisation (Section 6): lifted vs direct GD, flow, references, Theorem 4, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kr.experiments.matfac.claims import CLAIMS, crossing
from kr.experiments.matfac.metrics import completion_metrics, kernel_prediction, nuclear_norm
from kr.experiments.matfac.nuclear import min_frobenius_completion, min_nuclear_completion
from kr.experiments.matfac.problems import (
    DiagonalProblem,
    completion_problem,
    make_completion_problem,
    make_diagonal_problem,
)
from kr.experiments.matfac.simulators import (
    auto_lr,
    direct_gd,
    init_factors,
    lifted_flow,
    lifted_gd,
    lifted_gd_batch,
    lifted_init,
)
from kr.experiments.matfac.specs import PointSpec, Theorem4Spec
from kr.experiments.matfac.tables import run_point, run_points, theorem4_rows
from kr.reference import min_Q

SPEC = {"d": 10, "N": 60, "lr": None, "lr_scale": 0.01, "loss_rtol": 1e-6, "max_steps": 200000,
        "check_every": 10, "flow_t_max": 1e4}


def point(simulator: str, **changes: object) -> PointSpec:
    return PointSpec.from_config({**SPEC, **changes, "simulator": simulator})


@pytest.mark.parametrize("k", [10, 100])
def test_lifted_gd_equals_direct_gd(k: int) -> None:
    """GD on (U, V) in torch and the lifted O(d^3) recursion agree to 1e-10 after 3000 steps (k = d, 10d)."""
    p = make_completion_problem(10, 60, seed=3)
    U, V = init_factors(10, k, alpha=np.sqrt(0.1 / k), seed=3)
    Mbar0 = lifted_init(U, V)
    lr = auto_lr(p, Mbar0, 0.05)
    a = lifted_gd(p, Mbar0, lr=lr, max_steps=3000, tol=0.0)
    b = direct_gd(p, U, V, lr=lr, max_steps=3000, tol=0.0, device="cpu")
    assert a.steps == b.steps == 3000
    assert np.max(np.abs(a.M - b.M)) <= 1e-10
    # the run did something: the loss fell by orders of magnitude and M left M(0)
    assert a.loss < 1e-3 * p.loss(U @ V.T)
    assert np.max(np.abs(a.M - U @ V.T)) > 0.5
    # the diagonal blocks are U U^T and V V^T of the direct iterate's factors (checked via M = U V^T above)
    assert a.Mbar is not None and np.allclose(a.Mbar, a.Mbar.T)


def test_lifted_gd_batch_is_bitwise_per_point_lifted_gd() -> None:
    """Batched lifted GD gives every point what lifted_gd gives it alone, bit for bit, whatever stops it.

    Seven points of one problem with their own widths, scales, steps and caps: converged at different
    steps (one before its first step), one diverging, two at their step cap, one at a cap that is not a
    check step; each keeps stepping until it stops and is frozen from then on.
    """
    p = make_completion_problem(10, 60, seed=0)
    tol = 1e-6 * float(p.y @ p.y)
    points = [(10, 0.001), (10, 0.1), (100, 0.01), (1000, 0.03), (10000, 0.3), (100, 0.3), (10, 0.003), (50, 0.02)]
    Mbar0 = np.stack([lifted_init(*init_factors(10, k, a, seed=0)) for k, a in points])
    lrs = [auto_lr(p, M, 0.01) for M in Mbar0]
    lrs[5] = 0.2                          # diverges within ten steps
    caps = [200000] * len(points)
    caps[6] = 1000                        # hits its cap (a check step) before converging (at 1410)
    caps[7] = 1234                        # hits a cap that is not a check step
    tols = [tol] * len(points)
    tols[4] = 1e3 * float(p.y @ p.y)      # converged at step 0
    with np.errstate(over="ignore", invalid="ignore"):  # the diverging point overflows, alone or batched
        runs = lifted_gd_batch(p, Mbar0, lr=lrs, max_steps=caps, tol=tols, check_every=10)
        singles = [lifted_gd(p, Mbar0[i], lr=lrs[i], max_steps=caps[i], tol=tols[i], check_every=10)
                   for i in range(len(points))]
    for i, (run, one) in enumerate(zip(runs, singles)):
        assert (run.steps, run.converged, run.diverged, run.lr, run.t) == \
            (one.steps, one.converged, one.diverged, one.lr, one.t), points[i]
        assert np.array_equal(run.M, one.M, equal_nan=True) and np.array_equal(run.Mbar, one.Mbar, equal_nan=True)
        assert run.loss == one.loss or (np.isnan(run.loss) and np.isnan(one.loss))
    steps = [r.steps for r in runs]
    assert len(set(steps)) == len(steps)  # every point stopped at its own step
    assert steps[4] == 0 and runs[5].diverged and steps[6] == 1000 and steps[7] == 1234
    assert not runs[6].converged and not runs[7].converged
    assert sum(r.converged for r in runs) == 5
    assert all(r.wall_time_s >= 0 for r in runs)
    assert runs[1].wall_time_s > runs[4].wall_time_s  # the longest run holds the largest share of the time


def test_lifted_gd_batch_rejects_bad_inputs() -> None:
    p = make_completion_problem(4, 8, seed=0)
    Mb = np.stack([np.eye(8)] * 2)
    with pytest.raises(ValueError, match="Mbar0"):
        lifted_gd_batch(p, np.eye(8), lr=0.1, max_steps=10, tol=0.0)
    with pytest.raises(ValueError, match="lr must be a number or one value per point"):
        lifted_gd_batch(p, Mb, lr=[0.1, 0.1, 0.1], max_steps=10, tol=0.0)
    with pytest.raises(ValueError, match="max_steps"):
        lifted_gd_batch(p, Mb, lr=0.1, max_steps=[10, 2.5], tol=0.0)
    with pytest.raises(ValueError, match="lr"):
        lifted_gd_batch(p, Mb, lr=[0.1, -1.0], max_steps=10, tol=0.0)
    with pytest.raises(TypeError, match="CompletionProblem"):
        lifted_gd_batch(make_diagonal_problem(4, 2, seed=0), Mb, lr=0.1, max_steps=10, tol=0.0)


def test_run_points_rows_equal_run_point_rows() -> None:
    """A batch job's rows are the one-point jobs' rows: every column but the wall time, bitwise."""
    spec = point("lifted", max_steps=5000)  # the k = 10, alpha = 0.1 point stops at its cap
    points = [(10, 0.003), (10, 0.1), (100, 0.05), (1000, 0.3)]
    rows = run_points(spec, points, seed=2)
    for (k, a), row in zip(points, rows):
        one = run_point(spec, k, a, seed=2)
        assert row.keys() == one.keys()
        for col in row:
            if col != "wall_time_s":
                assert row[col] == one[col] or (pd.isna(row[col]) and pd.isna(one[col])), (k, a, col)
    assert [r["converged"] for r in rows] == [True, False, True, True]
    flows = run_points(point("flow"), points[:1], seed=2)  # other simulators: point by point
    assert flows[0]["simulator"] == "flow" and flows[0]["steps"] == run_point(point("flow"), 10, 0.003, 2)["steps"]


def test_direct_point_row_reports_deviation() -> None:
    row = run_point(point("direct"), 10, 0.05, 0, compare_lifted=True)
    assert row["converged"] and row["simulator"] == "direct"
    assert row["rel_dev_lifted"] <= 1e-10


def test_flow_is_the_small_step_limit_of_gd() -> None:
    """Lifted GD with step h ends O(h) away from the flow's end point (same stopping loss)."""
    p = make_completion_problem(10, 60, seed=1)
    U, V = init_factors(10, 30, alpha=np.sqrt(0.3 / 30), seed=1)
    Mbar0 = lifted_init(U, V)
    tol = 1e-9 * float(p.y @ p.y)
    flow = lifted_flow(p, Mbar0, tol=tol, t_max=1e4)
    assert flow.converged
    errs = []
    for lr in (2e-3, 2e-4):
        gd = lifted_gd(p, Mbar0, lr=lr, max_steps=10**6, tol=tol)
        assert gd.converged
        errs.append(np.linalg.norm(gd.M - flow.M) / np.linalg.norm(flow.M))
    assert errs[1] < 2e-3
    assert 5 < errs[0] / errs[1] < 20  # first order in the step


def test_nuclear_norm_recovers_rank_one() -> None:
    """cvxpy min-nuclear completion recovers a rank-1 Y* from enough entries; min-Frobenius does not."""
    p = make_completion_problem(8, 50, seed=2)
    assert p.mask.sum(0).min() > 0 and p.mask.sum(1).min() > 0
    nuc = min_nuclear_completion(p)
    assert nuc.converged
    assert np.max(np.abs(nuc.M - p.Y)) < 1e-5
    assert abs(nuc.objective - nuclear_norm(p.Y)) < 1e-5
    fro = min_frobenius_completion(p)
    assert np.sqrt(np.mean((fro.M - p.Y)[~p.mask] ** 2)) > 0.1


def test_min_frobenius_closed_form_matches_cvxpy() -> None:
    p = make_completion_problem(6, 20, seed=4)
    M0 = np.random.default_rng(0).standard_normal((6, 6))
    cv = min_frobenius_completion(p, M0)
    cf = min_frobenius_completion(p, M0, solver="closed_form")
    assert cv.converged and cf.converged
    assert np.max(np.abs(cv.M - cf.M)) < 1e-6
    assert np.array_equal(cf.M, kernel_prediction(p, M0))


def test_theorem4_exact_at_the_limit_initialisation() -> None:
    """From Mbar(0) = 2 mu^2 I (the k -> inf limit, Appendix F), diag(M_inf) = argmin Q_mu exactly."""
    p = make_diagonal_problem(6, 3, seed=0)
    for mu in (0.3, 1.0):
        Mbar0 = 2 * mu**2 * np.eye(12)
        res = lifted_flow(p, Mbar0, tol=1e-14 * float(p.y @ p.y), t_max=1e6, rtol=1e-11, atol=1e-14)
        ref = min_Q(p.X, p.y, mu, D=2)
        assert res.converged and ref.converged
        assert np.linalg.norm(np.diagonal(res.M) - ref.beta) <= 1e-5 * np.linalg.norm(ref.beta)


def test_theorem4_gap_shrinks_with_k() -> None:
    spec = Theorem4Spec(d=5, N=2, mu=(0.5,), k=(10, 1000, 100000), loss_rtol=1e-12, flow_t_max=1e5)
    df = pd.DataFrame(theorem4_rows(spec, seed=0))
    assert df["converged"].all()
    gaps = df.sort_values("k")["rel_gap"].to_numpy()
    assert gaps[-1] < gaps[0] / 5 and gaps[-1] < 0.05
    assert np.allclose(df["alpha2k"], 2 * 0.5**2)  # mu^2 = alpha^2 k / 2


def test_rich_and_kernel_corners() -> None:
    """alpha^2 k << 1: ~ min nuclear norm (recovers Y*); >> 1: unobserved entries barely move."""
    rich = run_point(point("lifted"), 100, np.sqrt(1e-3 / 100), 0)
    kern = run_point(point("lifted"), 1000, np.sqrt(30.0 / 1000), 0)
    assert rich["converged"] and kern["converged"]
    assert rich["relative_excess_nuclear"] < 0.01 and rich["rms_recovery_error"] < 0.02
    assert kern["movement_ratio"] < 0.1 and kern["normalised_excess"] > 0.9


def test_metrics_on_known_matrices() -> None:
    p = make_completion_problem(5, 12, seed=0)
    m = completion_metrics(p, p.Y, np.zeros((5, 5)))
    assert abs(m["excess_nuclear"]) < 1e-12 and m["train_loss"] == 0 and m["rms_recovery_error"] == 0
    K = kernel_prediction(p, np.zeros((5, 5)))
    assert completion_metrics(p, K, np.zeros((5, 5)))["rms_unobserved_movement"] == 0


def test_diagonal_problem_gradient_is_the_loss_gradient() -> None:
    p = make_diagonal_problem(4, 3, seed=2)
    M = np.random.default_rng(1).standard_normal((4, 4))
    E = np.random.default_rng(2).standard_normal((4, 4))
    h = 1e-6
    fd = (p.loss(M + h * E) - p.loss(M - h * E)) / (2 * h)
    assert abs(fd - np.sum(p.grad(M) * E)) < 1e-6
    assert isinstance(p, DiagonalProblem)


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="exceed the d\\^2"):
        make_completion_problem(4, 17, seed=0)
    with pytest.raises(ValueError, match="distinct"):
        completion_problem(np.ones((3, 3)), [0, 1, 0], [2, 2, 2])
    with pytest.raises(ValueError, match="k \\(the width\\)"):
        init_factors(3, 0, 0.1, seed=0)
    with pytest.raises(ValueError, match="k \\(the width\\)"):
        run_point(point("lifted"), 0, 0.1, 0)
    with pytest.raises(ValueError, match="simulator"):
        point("euler")
    with pytest.raises(ValueError, match="alpha"):
        init_factors(3, 2, -1.0, seed=0)
    p = make_completion_problem(3, 4, seed=0)
    with pytest.raises(ValueError, match="lr"):
        lifted_gd(p, np.eye(6), lr=-1.0, max_steps=10, tol=0.0)
    with pytest.raises(ValueError, match="device"):
        direct_gd(p, np.ones((3, 2)), np.ones((3, 2)), lr=0.1, max_steps=1, tol=0.0, device="tpu")


def test_divergence_is_reported_not_converged() -> None:
    p = make_completion_problem(6, 20, seed=0)
    U, V = init_factors(6, 50, 1.0, seed=0)
    res = lifted_gd(p, lifted_init(U, V), lr=1.0, max_steps=1000, tol=1e-8)
    assert res.diverged and not res.converged


def test_crossing_and_claims_registered() -> None:
    assert np.isnan(crossing(pd.Series([0.0, 0.1], index=[1.0, 10.0]), 0.5))
    assert {c.claim_id for c in CLAIMS} >= {"fig5-rich-limit-nuclear", "thm4-min-Q-mu",
                                            "matfac-direct-equals-lifted"}


def test_point_spec_reads_only_what_its_simulator_uses() -> None:
    """from_config ignores other keys (thresholds, the other simulators' settings); to_config inverts it."""
    full = {**SPEC, "device": "cpu", "seeds": [0], "claims": {"matfac_rich_excess_tol": 0.02}}
    for sim in ("lifted", "direct", "flow"):
        spec = PointSpec.from_config({**full, "simulator": sim})
        assert set(spec.to_config()) == {"simulator", *PointSpec.keys(sim)}
        assert PointSpec.from_config(spec.to_config()) == spec
    flow = point("flow")
    assert flow.max_steps is None and flow.lr_scale is None and flow.flow_t_max == 1e4
    assert "flow_t_max" not in PointSpec.keys("lifted") and "device" not in PointSpec.keys("lifted")
    # a setting the simulator does not use does not change its spec
    assert point("flow", max_steps=7, lr=0.5) == flow
    assert point("lifted", flow_t_max=1.0, device="cuda") == point("lifted")


@pytest.mark.parametrize(("changes", "key"), [
    ({"d": "ten"}, "matfac.d"),
    ({"N": 0}, "matfac.N"),
    ({"N": 101}, "matfac.N"),
    ({"loss_rtol": -1e-6}, "matfac.loss_rtol"),
    ({"lr": 0.0}, "matfac.lr"),
    ({"lr_scale": float("nan")}, "matfac.lr_scale"),
    ({"max_steps": 2.5}, "matfac.max_steps"),
    ({"check_every": 0}, "matfac.check_every"),
])
def test_point_spec_names_the_bad_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", "\\.")):
        point("lifted", **changes)


def test_point_spec_errors_per_simulator() -> None:
    with pytest.raises(ValueError, match="matfac\\.flow_t_max"):
        point("flow", flow_t_max="never")
    with pytest.raises(ValueError, match="matfac\\.device"):
        point("direct", device="tpu")
    with pytest.raises(ValueError, match="matfac\\.lr_scale is required"):
        PointSpec.from_config({k: v for k, v in SPEC.items() if k != "lr_scale"} | {"simulator": "lifted"})
    with pytest.raises(ValueError, match="matfac\\.max_steps is required"):
        PointSpec.from_config({k: v for k, v in SPEC.items() if k != "max_steps"} | {"simulator": "direct"})
    with pytest.raises(ValueError, match="matfac\\.simulator is required"):
        PointSpec.from_config(SPEC)
    with pytest.raises(TypeError, match="PointSpec"):
        run_point(SPEC, 10, 0.1, 0)  # type: ignore[arg-type]
    # integral floats (e.g. from --config) are normalised, as the old int() casts did
    assert point("lifted", d=10.0, max_steps=1e3).max_steps == 1000


def test_theorem4_spec_reads_its_section() -> None:
    section = {"d": 5, "N": 2, "mu": [0.3, 1], "k": [10, 100], "seeds": [0, 1], "loss_rtol": 1e-12,
               "flow_t_max": 1e5}
    spec = Theorem4Spec.from_config(section)
    assert spec.mu == (0.3, 1.0) and spec.k == (10, 100) and isinstance(spec.mu[1], float)
    assert spec.to_config() == {k: v for k, v in section.items() if k != "seeds"}
    assert Theorem4Spec.from_config(spec.to_config()) == spec
    for changes, key in (({"k": []}, "matfac.theorem4.k"), ({"k": [10, 0]}, "matfac.theorem4.k\\[1\\]"),
                         ({"mu": [-1.0]}, "matfac.theorem4.mu\\[0\\]"), ({"mu": 0.5}, "matfac.theorem4.mu"),
                         ({"loss_rtol": 0}, "matfac.theorem4.loss_rtol"), ({"d": None}, "matfac.theorem4.d")):
        with pytest.raises(ValueError, match=key):
            Theorem4Spec.from_config({**section, **changes})
    with pytest.raises(ValueError, match="matfac.theorem4.flow_t_max is required"):
        Theorem4Spec.from_config({k: v for k, v in section.items() if k != "flow_t_max"})


def test_aggregate_grid_attaches_each_seeds_references(tmp_path) -> None:
    """matfac_grid = the point tables, left-joined on seed with the refs (``ref_`` columns), every header kept."""
    from kr.experiments.matfac.tables import aggregate_grid
    from kr.results import read_table, write_table

    points = []
    for i, (k, seed) in enumerate(((10, 0), (100, 0), (10, 1))):
        points.append(str(tmp_path / f"p{i}.csv"))
        write_table(pd.DataFrame([{"k": k, "seed": seed, "excess_nuclear": 0.1 * i, "converged": True}]),
                    points[-1], {"k": k, "seed": seed})
    refs = [str(tmp_path / "r0.csv"), str(tmp_path / "r1.csv")]
    for seed, path in enumerate(refs):
        write_table(pd.DataFrame([{"seed": seed, "min_nuclear_excess": 1e-8 * (seed + 1), "converged": seed == 0}]),
                    path, {"seed": seed})
    out = tmp_path / "grid.csv"
    meta = aggregate_grid(points, refs, out)
    grid = read_table(out)
    assert list(grid.columns) == ["k", "seed", "excess_nuclear", "converged", "ref_min_nuclear_excess",
                                  "ref_converged"]
    assert grid["ref_min_nuclear_excess"].tolist() == [1e-8, 1e-8, 2e-8]
    assert meta["converged"] and not grid["ref_converged"].iloc[2]  # a failed reference is flagged, not merged
    assert set(grid.attrs["meta"]["sources"]) == set(points) | set(refs)
    with pytest.raises(pd.errors.MergeError):  # two references for one seed
        aggregate_grid(points, refs + [refs[0]], tmp_path / "bad.csv")
