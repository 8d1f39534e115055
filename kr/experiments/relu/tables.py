"""The ReLU experiments of Section 7: Figure 6(a, b) and Figure 7, as tidy rows.

Each takes the job's typed spec (:mod:`kr.experiments.relu.specs`).

* :func:`fig6_rows` - one (D, seed): depth-D students on the circle/teacher
  data (:func:`kr.experiments.relu.data.circle_teacher`), the whole alpha grid trained as
  one stack; per alpha the test error, the grad distance (computed on the
  *training* inputs), the tangent-kernel predictor's test error and that of
  the linearised model trained by the same GD to the same tolerance.
* :func:`fig7_rows` - one panel (shape c): the univariate network trained at
  every alpha of the grid as one stack; the learned functions on a dense grid,
  the kernel predictor at every alpha, the linear spline and the data.

Step size.  GD uses ``lr_b = min(lr, lr_gn_fraction / lambda_b)`` where
``lambda_b`` is the top eigenvalue of the Gauss-Newton matrix (2/N) Phi^T Phi
at model b's initialisation (:func:`kr.experiments.relu.tangent.gauss_newton_top`); it grows
like alpha^(2(D-1)), so large alphas (kernel regime) get the step that keeps
the linearised dynamics stable (half its stability limit 2/lambda for
fraction 1) and small alphas get ``lr`` (the paper's 0.01).
``lr_gn_fraction: null`` keeps ``lr`` everywhere.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from kr.grids import expand_grid
from kr.experiments.relu.data import check_points_1d, circle_teacher, linear_spline
from kr.experiments.relu.specs import Fig6Spec, Fig7Spec


def step_sizes(lr: float, gn_top: np.ndarray, fraction: float | None) -> np.ndarray:
    """Per-model step ``min(lr, fraction / gn_top)`` (``lr`` when ``fraction`` is None).

    >>> step_sizes(0.01, np.array([0.5, 1e3]), 1.0).tolist()
    [0.01, 0.001]
    """
    gn = np.asarray(gn_top, dtype=np.float64)
    if fraction is None:
        return np.full(gn.shape, float(lr))
    return np.minimum(float(lr), float(fraction) / np.maximum(gn, np.finfo(float).tiny))


def fig6_alphas(spec: Fig6Spec, D: int) -> np.ndarray:
    """alpha = (alpha^D)^(1/D) for the configured grid of alpha^D (Figure 6's x-axis)."""
    return expand_grid(spec.alpha_D.config()) ** (1.0 / int(D))


def fig6_rows(spec: Fig6Spec, D: int, seed: int, device: str = "cpu", progress: bool = False,
              log: Any = None) -> pd.DataFrame:
    """Figure 6 rows for one depth and student seed, all alphas trained as one stack."""
    import torch

    from kr.experiments.relu.network import LOSS_GRADS, init_mlp, mlp_forward
    from kr.experiments.relu.training import train_gd
    from kr.experiments.relu.tangent import gauss_newton_top, grad_distance, kernel_references, tangent_features

    start = time.perf_counter()
    data = circle_teacher(spec.n_train, spec.n_test, spec.teacher_hidden, spec.data_seed)
    dt = getattr(torch, spec.dtype)
    Xtr = torch.as_tensor(data.X_train, dtype=dt, device=device)
    ytr = torch.as_tensor(data.y_train, dtype=dt, device=device)
    Xte = torch.as_tensor(data.X_test, dtype=dt, device=device)
    alphas = fig6_alphas(spec, D)
    params = init_mlp(int(D), spec.width, 2, alphas.tolist(), int(seed), spec.unbiased, dt, device)
    phi0 = tangent_features(mlp_forward, params, Xtr)
    lr = step_sizes(spec.lr, gauss_newton_top(phi0).cpu().numpy(), spec.lr_gn_fraction)
    refs = kernel_references(mlp_forward, params, Xtr, ytr, Xte, lr.tolist(), spec.tol, spec.max_steps)
    kernel = refs["predictor"].cpu().numpy().astype(np.float64)
    lin = refs["gd"].cpu().numpy().astype(np.float64)
    res = train_gd(mlp_forward, params, Xtr, ytr, lr, tol=spec.tol, max_steps=spec.max_steps,
                   check_every=spec.check_every, progress=progress, desc=f"fig6 D={D} seed={seed}",
                   loss_grad=LOSS_GRADS["mlp"])
    if log is not None:
        log.info("D=%d seed=%d: %s", D, seed, res.message())
    phi1 = tangent_features(mlp_forward, res.params, Xtr)
    gdist = grad_distance(phi0, phi1).cpu().numpy()
    with torch.no_grad():
        pred = mlp_forward(res.params, Xte).cpu().numpy().astype(np.float64)
    return pd.DataFrame({
        "D": int(D), "seed": int(seed), "alpha": alphas, "alpha_D": alphas ** int(D),
        "width": spec.width, "n_train": spec.n_train, "n_test": spec.n_test,
        "test_error": data.test_error(pred),
        "kernel_test_error": data.test_error(kernel),
        "net_kernel_rms": np.sqrt(np.mean((pred - kernel) ** 2, axis=1)),
        "linearised_test_error": data.test_error(lin),
        "linearised_steps": refs["gd_steps"], "linearised_converged": refs["gd_converged"],
        "net_linearised_rms": np.sqrt(np.mean((pred - lin) ** 2, axis=1)),
        "y_test_rms": float(np.sqrt(np.mean(data.y_test**2))),
        "grad_distance": gdist,
        "train_loss": res.loss, "steps": res.steps, "lr": res.lr,
        "converged": res.converged, "hit_cap": res.hit_cap, "diverged": res.diverged,
        "device": str(device), "dtype": spec.dtype, "wall_time_s": time.perf_counter() - start,
    })


def fig7_grid(spec: Fig7Spec) -> np.ndarray:
    """The dense evaluation grid: the data range widened by ``grid_margin`` on each side."""
    x, _ = check_points_1d(spec.x, spec.y)
    pad = spec.grid_margin * (x[-1] - x[0])
    return np.linspace(x[0] - pad, x[-1] + pad, spec.grid_points)


def fig7_rows(spec: Fig7Spec, device: str = "cpu", progress: bool = False, log: Any = None) -> pd.DataFrame:
    """Figure 7 rows for one panel (``spec.panel``, shape ``spec.c``): curves ``network``/``kernel`` per alpha,
    ``spline``, ``data``."""
    import torch

    from kr.experiments.relu.network import LOSS_GRADS, init_univariate, univariate_forward
    from kr.experiments.relu.training import train_gd
    from kr.experiments.relu.tangent import gauss_newton_top, kernel_predictor, tangent_features

    start = time.perf_counter()
    panel, c = spec.panel, spec.c
    x_np, y_np = check_points_1d(spec.x, spec.y)
    grid_np = fig7_grid(spec)
    dt = getattr(torch, spec.dtype)
    x = torch.as_tensor(x_np, dtype=dt, device=device)
    y = torch.as_tensor(y_np, dtype=dt, device=device)
    grid = torch.as_tensor(grid_np, dtype=dt, device=device)
    alphas = expand_grid(spec.alpha.config())
    params = init_univariate(spec.width, alphas.tolist(), spec.seed, c, dt, device)
    phi0 = tangent_features(univariate_forward, params, x)
    lr = step_sizes(spec.lr, gauss_newton_top(phi0).cpu().numpy(), spec.lr_gn_fraction)
    kernel = kernel_predictor(univariate_forward, params, x, y, grid).cpu().numpy()
    res = train_gd(univariate_forward, params, x, y, lr, tol=spec.tol, max_steps=spec.max_steps,
                   check_every=spec.check_every, progress=progress, desc=f"fig7{panel} c={c:g}",
                   loss_grad=LOSS_GRADS["univariate"])
    if log is not None:
        log.info("panel %s (c=%g): %s", panel, c, res.message())
    with torch.no_grad():
        f = univariate_forward(res.params, grid).cpu().numpy().astype(np.float64)
    common = {"panel": panel, "c": c, "width": spec.width, "seed": spec.seed}
    frames = []
    for i, a in enumerate(alphas):
        run = {"alpha": a, "train_loss": res.loss[i], "steps": res.steps[i], "lr": res.lr[i],
               "hit_cap": res.hit_cap[i], "diverged": res.diverged[i]}
        frames.append(pd.DataFrame({"curve": "network", "x": grid_np, "f": f[i], **run,
                                    "converged": bool(res.converged[i])}))
        frames.append(pd.DataFrame({"curve": "kernel", "x": grid_np, "f": kernel[i], **run, "converged": True}))
    frames.append(pd.DataFrame({"curve": "spline", "x": grid_np, "f": linear_spline(x_np, y_np, grid_np),
                                "converged": True}))
    frames.append(pd.DataFrame({"curve": "data", "x": x_np, "f": y_np, "converged": True}))
    df = pd.concat(frames, ignore_index=True)
    for k, v in common.items():
        df[k] = v
    df["device"], df["dtype"], df["wall_time_s"] = str(device), spec.dtype, time.perf_counter() - start
    return df
