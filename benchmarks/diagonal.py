"""Benchmarks of the Section 4-5 diagonal networks.

Default: exact flow vs Newton vs cvxpy vs GD on the Section 4 problem.  Prints one
table: for d = 1000, N = 100 and alpha in {1, 0.1, 0.01, 0.001}, the wall time of each
route run to relative error <= 1e-4 against the Newton solution (GD with its largest
stable step; it stops when it gets there or at its step cap), and the ratio GD / flow.

    python benchmarks/diagonal.py [--d 1000] [--n 100] [--device cpu] [--gd-max-steps 2000000]

``--flows``: the exact gradient flow (:func:`kr.experiments.diagonal.flow.diagonal_flow`,
``tol = 1e-9`` as ``diagonal.flow_tol``) against Newton min-Q
(:func:`kr.reference.min_Q`, Theorems 1 and 3) on the paper-preset problem
(``sparse_regression(d=1000, n=100, r_star=5, seed=0, noise_var=0.01)``) for D in {3, 5}
x alpha in {1e-3, 1e-6} and D in {2, 4} x alpha in {1e-6, 1, 100}: flow wall and CPU
time, steps, Newton time, the cost ratio flow / Newton (CPU) and the relative distance
``||beta_flow - beta_newton|| / ||beta_newton||``.  ``--old REV`` runs the integrator of
``kr/experiments/diagonal/flow.py`` at git revision REV instead (loaded with ``git
show``; everything else from the working tree), ``--compare REV`` runs both, case by
case, for before/after comparisons under the same machine load.  Run with one thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/diagonal.py --flows [--compare 52a0075] [--cases 3,1e-3 5,1e-6]

Measured on the development machine (x86_64, 2 cores shared with other
jobs: wall times varied up to 2x with the load, the process's CPU time much less; that
day the old integrator took ~1.2-1.3x the seconds quoted for it on a quieter day,
3.6 / 41 / 71 / 113 s for the first four rows), with::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/diagonal.py --flows --compare 52a0075

(52a0075: the scipy-Radau integrator before this change; "rel dist" is the same
before and after: ``tol = 1e-9`` times the conditioning, not the integrator)

=  =====  ====================  ==================  =========  ===================  =========
D  alpha  before: CPU s, steps  after: CPU s, steps  Newton ms  flow/Newton (CPU)    rel dist
=  =====  ====================  ==================  =========  ===================  =========
3  1e-3   4.71, 3157            1.55, 758            28.6       165 -> 54            1.9e-9
3  1e-6   50.61, 33726          6.67, 6356           37.3       1358 -> 179          7.3e-9
5  1e-3   88.47, 58263          9.92, 10325          40.9       2164 -> 243          6.7e-9
5  1e-6   135.79, 81774         12.75, 14989         51.7       2626 -> 247          6.7e-9
2  1e-6   1.19, 986             0.18, 104            18.9       63 -> 10             3.8e-10
2  1      0.14, 97              0.02, 13             6.5        22 -> 3              1.4e-10
2  100    0.15, 97              0.02, 13             5.6        26 -> 3              1.4e-10
4  1e-6   93.70, 58243          8.62, 11335          43.8       2141 -> 197          6.9e-9
4  1      0.14, 97              0.02, 13             6.9        20 -> 3              1.4e-10
4  100    0.14, 97              0.02, 13             5.2        26 -> 3              1.4e-10
=  =====  ====================  ==================  =========  ===================  =========

The goal (every flow of the paper preset within 5 s on one core, flow/Newton <= 100)
is reached for D = 2, for D = 3 at alpha = 1e-3 and for every D at alpha >= 1, not for
D >= 3 at small alpha (6.7-12.8 s).  Where the time goes there: ~1e4 accepted steps
(D = 5, alpha = 1e-6: 14989 steps, 1040 frame rotations, ~42000 Newton iterations),
~100-150 per plateau-and-transition of the saddle-to-saddle dynamics (~100 of them,
one per support coordinate; each transition relaxes the whole active set with rates
over many decades), at ~0.9 ms a step, two thirds of it O(N d) numpy work outside the
Newton iteration (a dozen vector-matrix products and elementwise passes over d, the
frame rotations at ~2.5 ms each): interpreter-bound.  The old integrator needed ~600
steps per transition (an O(h^4) error estimate, a scipy solver restarted with a fresh
step-size history at each of 677 re-anchorings, an LU factorisation at nearly every
step).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from kr.experiments.diagonal.data import sparse_regression
from kr.experiments.diagonal.flow import diagonal_flow, diagonal_gd
from kr.reference import min_Q

ROOT = Path(__file__).resolve().parents[1]
FLOW_PATH = "kr/experiments/diagonal/flow.py"
FLOW_CASES = ["3,1e-3", "3,1e-6", "5,1e-3", "5,1e-6", "2,1e-6", "2,1", "2,100", "4,1e-6", "4,1", "4,100"]


def rel_err(beta: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(beta - ref) / np.linalg.norm(ref))


def gd_to_accuracy(X, y, alpha, ref, max_steps, device, target=1e-4):
    """GD until rel. error <= target: tighten the residual tolerance until it holds."""
    start = time.perf_counter()
    tol, res = 1e-3 * np.linalg.norm(y), None
    while True:
        res = diagonal_gd(X, y, [alpha], D=2, max_steps=max_steps, tol=tol, device=device)
        err = rel_err(res.beta[0], ref)
        if err <= target or not res.converged[0] or tol < 1e-12:
            return time.perf_counter() - start, err, int(res.steps[0]), bool(res.converged[0] and err <= target)
        tol /= 10


def load_flow_module(rev: str) -> ModuleType:
    """``kr/experiments/diagonal/flow.py`` as of git revision ``rev``, as a fresh module."""
    src = subprocess.run(
        ["git", "show", f"{rev}:{FLOW_PATH}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    tmp = Path(tempfile.mkdtemp(prefix="kr-flow-")) / "flow_old.py"
    tmp.write_text(src)
    name = f"_kr_flow_{rev.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, tmp)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


def flows_table(args: argparse.Namespace) -> None:
    """Flow vs Newton min-Q, one row per (D, alpha) and integrator."""
    integrators = [(args.old or "working tree", diagonal_flow if args.old is None else load_flow_module(args.old).diagonal_flow)]
    if args.compare is not None:  # both, case by case (the same machine load for both)
        integrators = [(args.compare, load_flow_module(args.compare).diagonal_flow), ("working tree", diagonal_flow)]
    p = sparse_regression(d=args.d, n=args.n, r_star=5, seed=args.seed, noise_var=0.01)
    threads = {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    print("command:", " ".join(f"{k}={v}" for k, v in threads.items()), sys.executable, *sys.argv)
    print(f"integrator(s): {FLOW_PATH} at {', '.join(n for n, _ in integrators)}; "
          f"d={args.d} N={args.n} seed={args.seed} tol={args.tol:g}")
    print(f"{'D':>2} {'alpha':>7} {'flow.py':>12} {'flow wall s':>11} {'flow cpu s':>10} {'steps':>6} "
          f"{'newton ms':>9} {'cpu ratio':>9} {'rel dist':>9}  message")
    for case in args.cases:
        D_s, a_s = case.split(",")
        D, alpha = int(D_s), float(a_s)
        newton_s = np.inf
        for _ in range(args.newton_repeat):
            t0 = time.process_time()
            ref = min_Q(p.X, p.y, alpha, D=D, solver="newton")
            newton_s = min(newton_s, time.process_time() - t0)
        for name, flow in integrators:
            w0, c0 = time.perf_counter(), time.process_time()
            res = flow(p.X, p.y, alpha, D=D, tol=args.tol)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            dist = rel_err(res.beta, ref.beta)
            print(f"{D:>2} {alpha:>7.0e} {name[:12]:>12} {wall:>11.2f} {cpu:>10.2f} {res.steps:>6d} "
                  f"{1e3 * newton_s:>9.1f} {cpu / newton_s:>9.0f} {dist:>9.1e}  {res.message}", flush=True)


def gd_table(args: argparse.Namespace) -> None:
    """The default table: flow, Newton, cvxpy and GD at D = 2."""
    p = sparse_regression(d=args.d, n=args.n, r_star=5, seed=args.seed)
    print(f"d={args.d} N={args.n} seed={args.seed} device={args.device}")
    header = f"{'alpha':>8} {'newton s':>9} {'flow s':>8} {'flow err':>9} {'cvxpy s':>8} {'cvxpy err':>9} " \
             f"{'GD s':>9} {'GD err':>9} {'GD steps':>9} {'GD/flow':>8}"
    print(header)
    for alpha in args.alphas:
        t0 = time.perf_counter()
        ref = min_Q(p.X, p.y, alpha, D=2, solver="newton")
        t_newton = time.perf_counter() - t0
        t0 = time.perf_counter()
        flow = diagonal_flow(p.X, p.y, alpha, D=2, tol=1e-8)
        t_flow = time.perf_counter() - t0
        if args.skip_cvxpy:
            t_cvx, e_cvx = float("nan"), float("nan")
        else:
            t0 = time.perf_counter()
            cvx = min_Q(p.X, p.y, alpha, D=2, solver="cvxpy")
            t_cvx, e_cvx = time.perf_counter() - t0, rel_err(cvx.beta, ref.beta)
        t_gd, e_gd, steps, ok = gd_to_accuracy(p.X, p.y, alpha, ref.beta, args.gd_max_steps, args.device)
        flag = "" if ok else "*"
        print(f"{alpha:8.3g} {t_newton:9.3f} {t_flow:8.3f} {rel_err(flow.beta, ref.beta):9.1e} {t_cvx:8.3f} "
              f"{e_cvx:9.1e} {t_gd:9.2f} {e_gd:9.1e} {steps:9d}{flag} {t_gd / t_flow:8.0f}")
    print("* GD did not reach rel. error 1e-4 within --gd-max-steps (time is a lower bound)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=1000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alphas", type=float, nargs="+", default=[1.0, 0.1, 0.01, 0.001])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--gd-max-steps", type=int, default=2_000_000)
    ap.add_argument("--skip-cvxpy", action="store_true")
    ap.add_argument("--flows", action="store_true", help="flow vs Newton min-Q over depths and alphas")
    ap.add_argument("--old", metavar="REV", default=None, help="--flows with flow.py at git revision REV")
    ap.add_argument("--compare", metavar="REV", default=None,
                    help="--flows with flow.py at REV and the working tree's, case by case")
    ap.add_argument("--cases", nargs="+", default=FLOW_CASES, metavar="D,ALPHA", help="--flows cases")
    ap.add_argument("--tol", type=float, default=1e-9, help="--flows: the flow's residual tolerance")
    ap.add_argument("--newton-repeat", type=int, default=3, help="--flows: best of this many Newton runs")
    args = ap.parse_args()
    if args.flows:
        flows_table(args)
    else:
        gd_table(args)


if __name__ == "__main__":
    main()
