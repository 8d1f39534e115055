"""Full-batch gradient descent on a stack of models (Section 7, Appendix A).

Every model b of a stack (:mod:`kr.experiments.relu.network`) minimises its own mean squared
loss L_b(w) = (1/N) sum_n (f(w_b, x_n) - y_n)^2 with its own step size
``lr[b]``; the summed loss is differentiated once per step (the models are
independent, so each receives exactly its own gradient).  Model b is frozen
from the first step at which ``L_b <= tol`` (converged), or when its loss
is not finite (diverged); the loop ends when every model is frozen or after
``max_steps`` updates (then the remaining ones *hit the cap* and are
recorded ``converged=False``).  Host syncs happen only every ``check_every``
steps.

>>> import torch
>>> from kr.experiments.relu.network import init_mlp, mlp_forward
>>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8]], dtype=torch.float64)
>>> y = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
>>> p = init_mlp(D=2, width=20, d_in=2, alphas=[1.0, 2.0], seed=0)
>>> res = train_gd(mlp_forward, p, X, y, lr=[0.2, 0.05], tol=1e-6, max_steps=20000)
>>> res.converged.tolist(), bool((res.loss <= 1e-6).all())
([True, True], True)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

    from kr.experiments.relu.network import Params
    from kr.experiments.relu.tangent import Forward

    LossGrad = Callable[[Params, torch.Tensor, torch.Tensor], tuple[torch.Tensor, Params]]


@dataclass
class TrainResult:
    """Outcome of :func:`train_gd`, one entry per model of the stack."""

    params: "Params"
    loss: NDArray[np.float64]
    steps: NDArray[np.int64]
    converged: NDArray[np.bool_]
    diverged: NDArray[np.bool_]
    hit_cap: NDArray[np.bool_]
    lr: NDArray[np.float64]
    wall_time_s: float

    def message(self) -> str:
        n = len(self.loss)
        return (f"{int(self.converged.sum())}/{n} converged, {int(self.hit_cap.sum())} hit the step cap, "
                f"{int(self.diverged.sum())} diverged; steps {int(self.steps.min())}..{int(self.steps.max())}")


def mse(forward: "Forward", params: "Params", X: "torch.Tensor", y: "torch.Tensor") -> "torch.Tensor":
    """Per-model mean squared loss ``[B]``."""
    r = forward(params, X) - y
    return (r * r).mean(dim=1)


def train_gd(
    forward: "Forward",
    params: "Params",
    X: "torch.Tensor",
    y: "torch.Tensor",
    lr: float | Sequence[float] | NDArray[np.float64],
    tol: float = 1e-9,
    max_steps: int = 1_000_000,
    check_every: int = 200,
    progress: bool = False,
    desc: str = "GD",
    loss_grad: "LossGrad | None" = None,
) -> TrainResult:
    """Full-batch GD on every model of the stack until ``loss <= tol`` or ``max_steps``.

    ``lr``: one step size, or one per model.  ``loss_grad``: a hand-written
    ``(params, X, y) -> (loss, grads)`` (:data:`kr.experiments.relu.network.LOSS_GRADS`); without
    it autograd differentiates ``forward``.  ``params`` are copied, not
    modified.  Deterministic (no randomness; CPU results are bitwise
    reproducible).
    """
    import torch

    start = time.perf_counter()
    B = params[0].shape[0]
    lr_np = np.broadcast_to(np.asarray(lr, dtype=np.float64), (B,)).copy()
    if not np.all(np.isfinite(lr_np)) or np.any(lr_np <= 0):
        raise ValueError(f"lr must be finite and positive, got {lr_np.tolist()}")
    tol = float(tol)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    max_steps = int(max_steps)
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    check_every = max(1, int(check_every))
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")

    W = [t.detach().clone().requires_grad_(loss_grad is None) for t in params]
    dev, dt = W[0].device, W[0].dtype
    lr_t = torch.as_tensor(lr_np, dtype=dt, device=dev)
    active = torch.ones(B, dtype=torch.bool, device=dev)
    steps = torch.zeros(B, dtype=torch.int64, device=dev)
    shapes = [(B,) + (1,) * (t.dim() - 1) for t in W]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=max_steps, file=sys.stderr, desc=desc, unit="step", mininterval=5.0,
                   disable=not sys.stderr.isatty())
    k = 0
    try:
        while k < max_steps:
            if loss_grad is None:
                loss = mse(forward, tuple(W), X, y)
                grads = torch.autograd.grad(loss.sum(), W)
            else:
                loss, grads = loss_grad(tuple(W), X, y)
            active &= (loss > tol) & torch.isfinite(loss)  # a diverged model is frozen too
            with torch.no_grad():
                step = torch.where(active, lr_t, torch.zeros_like(lr_t))
                for w, g, s in zip(W, grads, shapes):
                    w.sub_(step.reshape(s) * g)
            steps += active
            k += 1
            if k % check_every == 0:
                if bar is not None:
                    bar.update(k - bar.n)
                if not bool(active.any()):
                    break
    finally:
        if bar is not None:
            bar.close()
    with torch.no_grad():
        final = tuple(w.detach() for w in W)
        loss_np = mse(forward, final, X, y).cpu().numpy().astype(np.float64)
    finite = np.isfinite(loss_np)
    converged = finite & (loss_np <= tol)
    return TrainResult(
        params=final,
        loss=loss_np,
        steps=steps.cpu().numpy(),
        converged=converged,
        diverged=~finite,
        hit_cap=finite & ~converged,
        lr=lr_np,
        wall_time_s=time.perf_counter() - start,
    )
