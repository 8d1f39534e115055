"""Benchmark: batched vs one-at-a-time GD training on the Figure 6 grid.

For every depth D, the alpha^D grid x seeds of the Figure 6 experiment
(width 30, 10 circle points) is trained for a fixed number of GD steps
(``--steps``; the loss tolerance is set to 0 so no model stops early and both
ways do the same arithmetic; steps as in the workflow, min(0.2, 1 / top
Gauss-Newton eigenvalue at init)): once as one stacked model (kr.experiments.relu.training),
once one model at a time.  Prints the wall times and the speed-up, with the
hand-written gradient (what the workflow uses) and with autograd.

    OMP_NUM_THREADS=1 python benchmarks/relu.py [--steps 2000] [--num 11] [--seeds 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from kr.experiments.relu.network import LOSS_GRADS, init_mlp, mlp_forward, select, stack
from kr.experiments.relu.data import circle_teacher
from kr.experiments.relu.tables import step_sizes
from kr.experiments.relu.tangent import gauss_newton_top, tangent_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--num", type=int, default=11, help="alpha^D grid points in [1e-2, 1e3]")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--depths", type=int, nargs="+", default=[2, 3, 5])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    from kr.experiments.relu.training import train_gd

    data = circle_teacher(10, 1000, seed=0)
    X = torch.tensor(data.X_train, device=args.device)
    y = torch.tensor(data.y_train, device=args.device)
    aD = np.logspace(-2, 3, args.num)
    print(f"Figure 6 grid: {args.num} alpha^D x {args.seeds} seeds per depth, {args.steps} GD steps each, "
          f"device={args.device}, torch threads={torch.get_num_threads()}")
    print(f"{'D':>2} {'grad':>9} {'models':>6} {'batched s':>10} {'one-by-one s':>13} {'speed-up':>9}")
    for D in args.depths:
        params = stack([init_mlp(D, 30, 2, (aD ** (1 / D)).tolist(), s, device=args.device)
                        for s in range(args.seeds)])
        B = params[0].shape[0]
        # the workflow's steps: min(0.2, 1 / top Gauss-Newton eigenvalue at init), per model
        lr = step_sizes(0.2, gauss_newton_top(tangent_features(mlp_forward, params, X)).cpu().numpy(), 1.0)
        for name, lg in (("hand", LOSS_GRADS["mlp"]), ("autograd", None)):
            t0 = time.perf_counter()
            batched = train_gd(mlp_forward, params, X, y, lr, tol=1e-300, max_steps=args.steps, loss_grad=lg)
            t_b = time.perf_counter() - t0
            t0 = time.perf_counter()
            singles = [train_gd(mlp_forward, select(params, i), X, y, lr[i], tol=1e-300, max_steps=args.steps,
                                loss_grad=lg) for i in range(B)]
            t_s = time.perf_counter() - t0
            same = all(torch.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True) for i, one in enumerate(singles)
                       for a, b in zip(one.params, select(batched.params, i)))
            print(f"{D:>2} {name:>9} {B:>6} {t_b:>10.2f} {t_s:>13.2f} {t_s / t_b:>8.1f}x"
                  + ("" if same else "  (results differ!)"))


if __name__ == "__main__":
    main()
