"""Direct GD on (U, V) (torch) vs exact lifted GD on Mbar = W W^T, same steps (Section 6).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/matfac.py [--steps 2000] [--device cpu]

Prints, per width k, the wall time of both simulators for the same number of
steps from the same initialisation (d = 10, N = 60, alpha^2 k = 0.1, the
quick preset's automatic step), the lifted speed-up, and the maximum
deviation max |M_direct - M_lifted|.  The lifted time includes the O(d^2 k)
initial product W W^T; its per-step cost is O(d^3), flat in k.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kr.experiments.matfac.problems import make_completion_problem
from kr.experiments.matfac.simulators import auto_lr, direct_gd, init_factors, lifted_gd, lifted_init


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--widths", type=int, nargs="+", default=[10, 100, 1000, 10000])
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
