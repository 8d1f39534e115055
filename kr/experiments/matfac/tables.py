"""The matfac experiment's drivers (Section 6): one Figure 5 point, the Theorem 4 rows, the grid table.

* :func:`run_point` -- one ``(k, alpha, seed)`` cell of Figure 5 run by one
  simulator (:mod:`.simulators`), as a tidy row of :mod:`.metrics`
  (rule ``matfac_point``);
* :func:`run_points` -- many cells of one seed, lifted GD batched
  (:func:`~.simulators.lifted_gd_batch`), the same rows bitwise (rule ``matfac_batch``);
* :func:`theorem4_rows` -- Theorem 4's check for one seed: ``diag(M_inf)``
  of the lifted flow against ``argmin Q_mu`` for every ``(mu, k)``
  (rule ``matfac_theorem4``);
* :func:`aggregate_grid` -- table ``matfac_grid``: the batch and per-point
  tables with each seed's cvxpy references (rule ``matfac_aggregate``).

Settings come as validated :class:`~.specs.PointSpec` /
:class:`~.specs.Theorem4Spec`.  torch is imported only by the direct
simulator.

>>> spec = PointSpec.from_config({"simulator": "lifted", "d": 4, "N": 10, "loss_rtol": 1e-6,
...                               "lr_scale": 0.01, "max_steps": 100000, "check_every": 10})
>>> row = run_point(spec, k=8, alpha=0.05, seed=0)
>>> row["converged"], row["steps"] > 0, round(row["alpha2k"], 12)
(True, True, 0.02)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from kr.experiments.matfac.metrics import completion_metrics
from kr.experiments.matfac.problems import (
    Array,
    CompletionProblem,
    Problem,
    check_int,
    make_completion_problem,
    make_diagonal_problem,
)
from kr.experiments.matfac.simulators import (
    RunResult,
    auto_lr,
    direct_gd,
    init_factors,
    lifted_flow,
    lifted_gd,
    lifted_gd_batch,
    lifted_init,
    off_block,
)
from kr.experiments.matfac.specs import PointSpec, Theorem4Spec

__all__ = [
    "PointSpec",
    "Theorem4Spec",
    "aggregate_grid",
    "point_lr",
    "run_point",
    "run_points",
    "theorem4_alpha",
    "theorem4_rows",
]


def point_lr(problem: Problem, Mbar0: Array, lr: float | None, lr_scale: float | None) -> float:
    """The step used at a point: ``lr`` if given, else :func:`~.simulators.auto_lr` with ``lr_scale``."""
    if lr is not None:
        return float(lr)
    if lr_scale is None:
        raise ValueError("lr_scale is required when lr is None")
    return auto_lr(problem, Mbar0, lr_scale)


def run_point(
    spec: PointSpec,
    k: int,
    alpha: float,
    seed: int,
    *,
    progress: bool = False,
    compare_lifted: bool = False,
) -> dict[str, Any]:
    """One Figure 5 point (Section 6) with ``spec.simulator`` in {lifted, direct, flow}: a tidy row.

    Problem :func:`~.problems.make_completion_problem` ``(spec.d, spec.N, seed)``;
    ``U(0), V(0)`` :func:`~.simulators.init_factors` ``(d, k, alpha, seed)``;
    the run stops at ``L <= loss_rtol ||y||^2``.  The row holds the point
    (``alpha2k = alpha^2 k = sigma sqrt(k)``, ``sigma = alpha^2 sqrt(k)``),
    :func:`~.metrics.completion_metrics` of the final ``M`` and the run's outcome.

    With ``compare_lifted`` (direct only), lifted GD is also run for exactly
    the direct run's number of steps and ``max_abs_dev_lifted`` records
    ``max |M_direct - M_lifted|`` (and its relative version).
    """
    if not isinstance(spec, PointSpec):
        raise TypeError(f"spec must be a PointSpec (PointSpec.from_config(mapping)), got {type(spec).__name__}")
    simulator = spec.simulator
    k = check_int("k (the width)", k, 1)
    problem = make_completion_problem(spec.d, spec.N, seed)
    U0, V0 = init_factors(problem.d, k, alpha, seed)
    Mbar0 = lifted_init(U0, V0)
    M0 = off_block(Mbar0).copy()
    tol = spec.loss_rtol * float(problem.y @ problem.y)
    res: RunResult
    device = "cpu"
    if simulator == "flow":
        assert spec.flow_t_max is not None  # PointSpec checks it
        res = lifted_flow(problem, Mbar0, tol=tol, t_max=spec.flow_t_max)
    else:
        assert spec.max_steps is not None and spec.check_every is not None  # PointSpec checks them
        lr = point_lr(problem, Mbar0, spec.lr, spec.lr_scale)
        if simulator == "lifted":
            res = lifted_gd(problem, Mbar0, lr=lr, max_steps=spec.max_steps, tol=tol,
                            check_every=spec.check_every, progress=progress)
        else:
            from kr.devices import resolve_device

            device = resolve_device(spec.device)  # auto -> cuda or cpu, on the machine running the job
            res = direct_gd(problem, U0, V0, lr=lr, max_steps=spec.max_steps, tol=tol,
                            check_every=spec.check_every, device=device, progress=progress)
    row = _point_row(spec, problem, k, alpha, seed, res, M0, tol, device)
    if compare_lifted and simulator == "direct":
        ref = lifted_gd(problem, Mbar0, lr=res.lr, max_steps=max(res.steps, 1), tol=0.0)
        if res.steps == 0:
            ref = dataclasses.replace(ref, M=M0)
        dev = float(np.max(np.abs(res.M - ref.M)))
        row["max_abs_dev_lifted"] = dev
        row["rel_dev_lifted"] = dev / max(float(np.max(np.abs(ref.M))), np.finfo(float).tiny)
    return row


def _point_row(spec: PointSpec, problem: CompletionProblem, k: int, alpha: float, seed: int, res: RunResult,
               M0: Array, tol: float, device: str) -> dict[str, Any]:
    """The table row of one point (:func:`run_point`, :func:`run_points`)."""
    return {
        "simulator": spec.simulator,
        "k": k,
        "alpha": float(alpha),
        "alpha2k": float(alpha) ** 2 * k,
        "sigma": float(alpha) ** 2 * np.sqrt(k),
        "seed": int(seed),
        "d": problem.d,
        "N": problem.N,
        **completion_metrics(problem, res.M, M0),
        "steps": res.steps,
        "flow_time": res.t,
        "lr": res.lr,
        "loss_tol": tol,
        "diverged": res.diverged,
        "device": device,
        "wall_time_s": res.wall_time_s,
        "max_abs_dev_lifted": float("nan"),
        "rel_dev_lifted": float("nan"),
        "converged": bool(res.converged),
    }


def run_points(spec: PointSpec, points: Sequence[tuple[int, float]], seed: int) -> list[dict[str, Any]]:
    """Figure 5 points ``(k, alpha)`` of one seed: the rows :func:`run_point` gives, one per point, in order.

    Lifted GD runs all points at once (:func:`~.simulators.lifted_gd_batch`:
    one ``[B, 2d, 2d]`` stack, each point with its own step, stopping on
    its own), bitwise the per-point runs; ``wall_time_s`` is each point's
    share of the batch.  Other simulators run point by point.

    >>> spec = PointSpec.from_config({"simulator": "lifted", "d": 4, "N": 10, "loss_rtol": 1e-6,
    ...                               "lr_scale": 0.01, "max_steps": 100000, "check_every": 10})
    >>> rows = run_points(spec, [(8, 0.05), (80, 0.05)], seed=0)
    >>> one = run_point(spec, 80, 0.05, seed=0)
    >>> [r["k"] for r in rows], rows[1]["steps"] == one["steps"], rows[1]["excess_nuclear"] == one["excess_nuclear"]
    ([8, 80], True, True)
    """
    if not isinstance(spec, PointSpec):
        raise TypeError(f"spec must be a PointSpec (PointSpec.from_config(mapping)), got {type(spec).__name__}")
    points = [(check_int("k (the width)", k, 1), float(a)) for k, a in points]
    if spec.simulator != "lifted" or not points:
        return [run_point(spec, k, a, seed) for k, a in points]
    assert spec.max_steps is not None and spec.check_every is not None  # PointSpec checks them
    problem = make_completion_problem(spec.d, spec.N, seed)
    tol = spec.loss_rtol * float(problem.y @ problem.y)
    Mbar0 = np.stack([lifted_init(*init_factors(problem.d, k, a, seed)) for k, a in points])
    lrs = [point_lr(problem, M, spec.lr, spec.lr_scale) for M in Mbar0]
    runs = lifted_gd_batch(problem, Mbar0, lr=lrs, max_steps=spec.max_steps, tol=tol,
                           check_every=spec.check_every)
    return [_point_row(spec, problem, k, a, seed, res, off_block(M).copy(), tol, "cpu")
            for (k, a), res, M in zip(points, runs, Mbar0)]


def theorem4_alpha(mu: float, k: int) -> float:
    """``alpha`` with ``mu^2 = sigma sqrt(k) / 2 = alpha^2 k / 2`` (Theorem 4), i.e. ``sqrt(2 mu^2 / k)``.

    >>> round(theorem4_alpha(1.0, 200) ** 2 * 200 / 2, 12)
    1.0
    """
    return float(np.sqrt(2.0 * float(mu) ** 2 / int(k)))


def theorem4_rows(spec: Theorem4Spec, seed: int) -> list[dict[str, Any]]:
    """Theorem 4 check for one seed (Section 6, Theorem 4; config ``matfac.theorem4``): rows per (mu, k).

    Diagonal measurements; ``sigma(k) = 2 mu^2 / sqrt(k)`` (so ``sigma -> 0``
    and ``sigma sqrt(k) / 2 = mu^2`` exactly); gradient flow on the lifted
    matrix to ``L <= loss_rtol ||y||^2``; ``rel_gap`` =
    ``||diag(M_inf) - beta_Q|| / ||beta_Q||`` with
    ``beta_Q = min_Q(X, y, alpha=mu)`` (D = 2).
    """
    from kr.reference import min_Q

    if not isinstance(spec, Theorem4Spec):
        raise TypeError(f"spec must be a Theorem4Spec (Theorem4Spec.from_config(mapping)), "
                        f"got {type(spec).__name__}")
    problem = make_diagonal_problem(spec.d, spec.N, seed)
    tol = spec.loss_rtol * float(problem.y @ problem.y)
    rows = []
    for mu in spec.mu:
        ref = min_Q(problem.X, problem.y, mu, D=2, solver="newton")
        for k in spec.k:
            alpha = theorem4_alpha(mu, k)
            U0, V0 = init_factors(problem.d, k, alpha, seed)
            Mbar0 = lifted_init(U0, V0)
            res = lifted_flow(problem, Mbar0, tol=tol, t_max=spec.flow_t_max)
            delta = np.diagonal(res.M)
            scale = max(float(np.linalg.norm(ref.beta)), np.finfo(float).tiny)
            rows.append({
                "mu": mu, "k": k, "alpha": alpha, "sigma": alpha**2 * np.sqrt(k),
                "alpha2k": alpha**2 * k, "seed": int(seed), "d": problem.d, "N": problem.N,
                "rel_gap": float(np.linalg.norm(delta - ref.beta) / scale),
                "max_abs_gap": float(np.max(np.abs(delta - ref.beta))),
                "init_diag_deviation": float(np.max(np.abs(Mbar0 / (alpha**2 * k) - np.eye(2 * problem.d)))),
                "train_loss": res.loss, "flow_time": res.t, "rhs_evaluations": res.steps,
                "min_Q_converged": bool(ref.converged), "wall_time_s": res.wall_time_s,
                "converged": bool(res.converged and ref.converged),
            })
    return rows


def aggregate_grid(
    point_paths: list[str], ref_paths: list[str], out: str | os.PathLike[str]
) -> dict[str, Any]:
    """Table ``matfac_grid``: the point rows (batch and one-point tables), each seed's cvxpy references attached.

    Rows in the order of :func:`~.plan.point_keys` ``(simulator, k, alpha id, seed)`` (when the tables
    have those columns), whatever the tables they come from, so batching the grid leaves the table as
    it was; a left join on ``seed``
    (at most one reference row a seed) with the reference columns renamed ``ref_<name>``; the header
    keeps every source's own header (:func:`kr.results.write_derived`).  A point converged when its
    run did; a failed reference is flagged separately.
    """
    from kr.grids import value_id
    from kr.results import read_tables, write_derived

    df, sources = read_tables(point_paths)
    if {"simulator", "k", "alpha", "seed"} <= set(df.columns):
        key = [(str(s), int(k), value_id(a), int(e)) for s, k, a, e in
               zip(df["simulator"], df["k"], df["alpha"], df["seed"])]
        df = df.iloc[sorted(range(len(df)), key=key.__getitem__)].reset_index(drop=True)
    refs, ref_sources = read_tables(ref_paths)
    renamed = {c: f"ref_{c}" for c in refs.columns if c != "seed"}
    df = df.merge(refs.rename(columns=renamed), on="seed", how="left", validate="many_to_one")
    return write_derived(df, out, {**sources, **ref_sources})
