"""Matrix factorisation simulators (Section 6): direct vs lifted GD, batched vs per-point lifted GD, the grid.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/matfac.py [--mode direct] [--steps 2000] [--device cpu]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/matfac.py --mode batch [--steps 2000]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/matfac.py --mode grid [--preset paper] [--seeds 0 1]

``direct`` (the default): per width k, the wall time of direct GD on (U, V)
(torch) and of exact lifted GD on Mbar = W W^T for the same number of steps
from the same initialisation (d = 10, N = 60, alpha^2 k = 0.1, the quick
preset's automatic step), the lifted speed-up and max |M_direct - M_lifted|.
The lifted time includes the O(d^2 k) initial product W W^T; its per-step
cost is O(d^3), flat in k.

``batch``: the cost of a step of :func:`lifted_gd_batch` for B points at
once against B runs of :func:`lifted_gd` (fixed steps, no point stops), and
whether the results are bitwise equal.

``grid``: a preset's Figure 5 grid exactly as its batch jobs (rule
``matfac_batch``) run it, one job after another on one thread: each job's
points, steps, CPU and wall time; then the estimated wall time of the grid on
``--cores`` cores (the jobs dealt longest first to the least busy core, plus
the ~0.7 s a Snakemake job costs).  For the quick preset ``--per-point``
also runs every point as its own :func:`run_point` and checks that the rows
are bitwise the batch rows.
"""

from __future__ import annotations

import argparse
import heapq
import time
from pathlib import Path

import numpy as np

from kr.experiments.matfac.problems import make_completion_problem
from kr.experiments.matfac.simulators import (
    auto_lr,
    direct_gd,
    init_factors,
    lifted_gd,
    lifted_gd_batch,
    lifted_init,
)

JOB_COST_S = 0.7
"""Wall time a ``script:`` job costs before any work (docs/architecture.md, "Job granularity")."""


def direct_vs_lifted(args: argparse.Namespace) -> None:
    import torch

    p = make_completion_problem(10, 60, seed=0)
    print(f"d=10 N=60 steps={args.steps} device={args.device} torch threads={torch.get_num_threads()}")
    print(f"{'k':>6} {'direct_s':>10} {'lifted_s':>10} {'speedup':>8} {'max|dM|':>10} {'rel':>9} {'loss':>9}")
    for k in args.widths:
        U, V = init_factors(10, k, alpha=np.sqrt(0.1 / k), seed=0)
        lr = auto_lr(p, lifted_init(U, V), 0.01)
        direct_gd(p, U, V, lr=lr, max_steps=10, tol=0.0, device=args.device)  # warm-up
        t0 = time.perf_counter()
        b = direct_gd(p, U, V, lr=lr, max_steps=args.steps, tol=0.0, device=args.device)
        t_direct = time.perf_counter() - t0
        t0 = time.perf_counter()
        a = lifted_gd(p, lifted_init(U, V), lr=lr, max_steps=args.steps, tol=0.0)
        t_lifted = time.perf_counter() - t0
        dev = float(np.max(np.abs(a.M - b.M)))
        print(f"{k:>6} {t_direct:>10.3f} {t_lifted:>10.3f} {t_direct / t_lifted:>8.1f} {dev:>10.2e} "
              f"{dev / np.max(np.abs(a.M)):>9.1e} {a.loss:>9.2e}")


def batch_vs_point(args: argparse.Namespace) -> None:
    """Per-step cost of B points batched vs one at a time (B different widths and scales, fixed steps)."""
    p = make_completion_problem(10, 60, seed=0)
    rng = np.random.default_rng(0)
    print(f"d=10 N=60 steps={args.steps} (no point stops; B points of random k in 10..1e4, alpha^2 k in 1e-3..1e2)")
    print("CPU seconds of this process (one thread; the machine may be shared)")
    print(f"{'B':>5} {'batched_s':>10} {'per_point_s':>12} {'speedup':>8} {'us/point-step':>14} {'bitwise':>8}")
    for B in args.batch:
        ks = rng.choice([10, 100, 1000, 10000], size=B)
        a2k = 10.0 ** rng.uniform(-3, 2, size=B)
        Mb = np.stack([lifted_init(*init_factors(10, int(k), float(np.sqrt(s / k)), seed=0)) for k, s in zip(ks, a2k)])
        lrs = [auto_lr(p, M, 0.001) for M in Mb]
        t0 = time.process_time()
        runs = lifted_gd_batch(p, Mb, lr=lrs, max_steps=args.steps, tol=0.0, check_every=10)
        t_batch = time.process_time() - t0
        n_single = min(B, args.per_point_max)  # one-at-a-time runs timed (the rest extrapolated)
        t0 = time.process_time()
        singles = [lifted_gd(p, Mb[i], lr=lrs[i], max_steps=args.steps, tol=0.0, check_every=10)
                   for i in range(n_single)]
        t_point = (time.process_time() - t0) * B / n_single
        same = all(np.array_equal(r.Mbar, s.Mbar) and r.steps == s.steps for r, s in zip(runs, singles))
        print(f"{B:>5} {t_batch:>10.3f} {t_point:>12.3f} {t_point / t_batch:>8.1f} "
              f"{t_batch / (B * args.steps) * 1e6:>14.2f} {str(same):>8}")


def lpt_makespan(times: list[float], cores: int) -> float:
    """Wall time of jobs dealt longest first to the least busy of ``cores`` (each plus :data:`JOB_COST_S`)."""
    load = [0.0] * cores
    for t in sorted(times, reverse=True):
        heapq.heappush(load, heapq.heappop(load) + t + JOB_COST_S)
    return max(load)


def grid(args: argparse.Namespace) -> None:
    """A preset's grid, batch job by batch job, as the workflow runs it."""
    import yaml

    from kr.configuration import default_config
    from kr.experiments.matfac import plan
    from kr.experiments.matfac.specs import PointSpec
    from kr.experiments.matfac.tables import run_point, run_points

    repo = Path(__file__).resolve().parent.parent
    overrides = [yaml.safe_load((repo / "presets" / f"{args.preset}.yaml").read_text())] if args.preset != "quick" else []
    mf = default_config(*overrides)["matfac"]
    spec = PointSpec.from_config(plan.point_params(mf, "lifted"))
    seeds = args.seeds if args.seeds is not None else [int(s) for s in mf["seeds"]]
    keys = [(s, c) for s, c in plan.batch_keys(mf) if s in seeds]
    print(f"preset {args.preset}: {len(plan.grid_points(mf))} points a seed, batch_size {mf['batch_size']}, "
          f"{plan.batch_count(mf)} jobs a seed; seeds {seeds}; {spec.to_config()}")
    print(f"{'seed':>4} {'chunk':>5} {'points':>6} {'steps_sum':>10} {'steps_max':>10} {'cpu_s':>8} {'wall_s':>8} "
          f"{'converged':>9}")
    cpu, wall, steps_sum = [], [], 0
    rows_all = {}
    for seed, chunk in keys:
        pts = [(int(k), float(a)) for k, a in plan.batch_points(mf, seed, chunk)]
        c0, t0 = time.process_time(), time.perf_counter()
        rows = run_points(spec, pts, seed)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
        steps = [r["steps"] for r in rows]
        steps_sum += sum(steps)
        rows_all.update({(seed, k, a): r for (k, a), r in zip(pts, rows)})
        print(f"{seed:>4} {chunk:>5} {len(pts):>6} {sum(steps):>10} {max(steps):>10} {cpu[-1]:>8.1f} "
              f"{wall[-1]:>8.1f} {str(all(r['converged'] for r in rows)):>9}", flush=True)
    print(f"{len(keys)} jobs, {len(rows_all)} points, {steps_sum:.3g} steps: CPU {sum(cpu):.1f} s, "
          f"wall {sum(wall):.1f} s one after another on one thread")
    for cores in sorted({1, args.cores}):
        print(f"estimated wall time on {cores} core(s), {JOB_COST_S} s a job: {lpt_makespan(wall, cores):.0f} s "
              f"(from the wall times; {lpt_makespan(cpu, cores):.0f} s from the CPU times)")
    if args.per_point:
        t0 = time.perf_counter()
        same = True
        for (seed, k, a), row in rows_all.items():
            one = run_point(spec, k, a, seed)
            same &= all(row[c] == one[c] or (row[c] != row[c] and one[c] != one[c]) for c in row if c != "wall_time_s")
        print(f"per point (rule matfac_point's run_point, one after another): {time.perf_counter() - t0:.1f} s "
              f"+ {JOB_COST_S * len(rows_all):.0f} s of job cost; rows bitwise equal to the batch rows: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="direct", choices=["direct", "batch", "grid"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--widths", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 5, 25, 64, 125, 250], help="batch sizes (batch)")
    parser.add_argument("--per-point-max", type=int, default=25,
                        help="batch: one-at-a-time runs timed per B (the rest extrapolated)")
    parser.add_argument("--preset", default="quick", help="grid: quick (config.yaml) or a presets/ name")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="grid: seeds (default: the preset's)")
    parser.add_argument("--cores", type=int, default=2, help="grid: cores of the wall-time estimate")
    parser.add_argument("--per-point", action="store_true", help="grid: also run every point on its own")
    args = parser.parse_args()
    {"direct": direct_vs_lifted, "batch": batch_vs_point, "grid": grid}[args.mode](args)


if __name__ == "__main__":
    main()
