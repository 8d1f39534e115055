"""Tangent-kernel tools (Section 3; Figure 6(b); the kernel limit of Figures 6(a), 7).

For a model f(w, x) the tangent feature map is phi_w(x) = grad_w f(w, x) and
the tangent kernel K_w(x, x') = <phi_w(x), phi_w(x')>.  Here ``Phi(w)`` is the
matrix of features on a set of inputs (one row per input, one column per
parameter), computed with :func:`torch.func.grad` vmapped over inputs (per
example gradients), one model of a stack at a time so memory stays
``n x P``.

* :func:`grad_distance` - Figure 6(b): the cosine distance
  1 - <Phi(w0), Phi(w_inf)>_F / (||Phi(w0)||_F ||Phi(w_inf)||_F).
* :func:`kernel_predictor` - kernel ridge-less regression with the tangent
  kernel at initialisation, f0 + K(x, X) K(X, X)^{-1} (y - f0(X)): where
  gradient flow on the linearised model converges (the alpha -> infinity
  limit, Section 3).
* :func:`linearised_gd` - the linearised model f0 + <Phi0(x), w - w0> trained
  by the *same* GD (step, tolerance, step cap) as the network, in closed form:
  the alpha -> infinity limit of a run stopped at loss <= tol, which differs
  from the ridgeless predictor when K(X, X) is ill-conditioned.
* :func:`gauss_newton_top` - the largest eigenvalue of the Gauss-Newton
  matrix (2/N) Phi^T Phi of the mean squared loss (the step-size limit of GD
  in the kernel regime).

>>> import torch
>>> from kr.experiments.relu.network import init_mlp, mlp_forward
>>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=torch.float64)
>>> p = init_mlp(D=2, width=4, d_in=2, alphas=[1.0, 2.0], seed=0)
>>> tuple(tangent_features(mlp_forward, p, X).shape)    # B, n, P = 4*2 + 4
(2, 3, 12)
>>> grad_distance(tangent_features(mlp_forward, p, X), tangent_features(mlp_forward, p, X)).abs().max().item() < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from kr.experiments.relu.network import Params

Forward = Callable[["Params", "torch.Tensor"], "torch.Tensor"]


def _features_one(forward: Forward, params: "Params", X: "torch.Tensor") -> "torch.Tensor":
    """Phi ``[n, P]`` of one model (params without batch dimension)."""
    import torch
    from torch.func import grad, vmap

    def f_single(p: tuple, x: torch.Tensor) -> torch.Tensor:
        return forward(tuple(t.unsqueeze(0) for t in p), x.unsqueeze(0))[0, 0]

    grads = vmap(grad(f_single), in_dims=(None, 0))(tuple(params), X)
    return torch.cat([g.reshape(X.shape[0], -1) for g in grads], dim=1)


def tangent_features(forward: Forward, params: "Params", X: "torch.Tensor") -> "torch.Tensor":
    """Phi ``[B, n, P]``: d f(w_b, x_i) / d w for every model b of a stack and input x_i.

    Parameters are flattened in the order of ``params`` (each tensor
    row-major).  Gradients are taken with :mod:`torch.func`; ``params`` are
    not modified.
    """
    import torch

    B = params[0].shape[0]
    with torch.enable_grad():
        return torch.stack([_features_one(forward, tuple(t[b].detach() for t in params), X) for b in range(B)])


def grad_distance(phi0: "torch.Tensor", phi1: "torch.Tensor") -> "torch.Tensor":
    """Cosine distance of feature maps per model (Figure 6(b)): ``[B]``.

    1 - <Phi0, Phi1>_F / (||Phi0||_F ||Phi1||_F), in [0, 2]; 0 when the
    feature maps are parallel (the kernel regime).

    >>> import torch
    >>> a = torch.tensor([[[1.0, 0.0]]]); b = torch.tensor([[[1.0, 1.0]]])
    >>> round(grad_distance(a, b).item(), 6)    # 1 - 1/sqrt(2)
    0.292893
    """
    import torch

    inner = (phi0 * phi1).flatten(1).sum(1)
    norms = torch.linalg.vector_norm(phi0.flatten(1), dim=1) * torch.linalg.vector_norm(phi1.flatten(1), dim=1)
    return 1.0 - inner / norms


def gauss_newton_top(phi_train: "torch.Tensor") -> "torch.Tensor":
    """Largest eigenvalue of (2/N) Phi^T Phi per model (= (2/N) lambda_max K(X, X)): ``[B]``."""
    import torch

    K = phi_train @ phi_train.transpose(1, 2)
    return (2.0 / phi_train.shape[1]) * torch.linalg.eigvalsh(K)[:, -1]


def linearised_gd(K: "torch.Tensor", K_test: "torch.Tensor", y: "torch.Tensor", f0_train: "torch.Tensor",
                  f0_test: "torch.Tensor", lr: float, tol: float, max_steps: int) -> tuple["torch.Tensor", int, bool]:
    """Test predictions of GD on the linearised model, stopped like :func:`kr.experiments.relu.training.train_gd`.

    One model: ``K`` = K0(X, X) ``[N, N]``, ``K_test`` = K0(x, X) ``[n, N]``.
    With K = U diag(lam) U^T and a_i = lr (2/N) lam_i the residual is
    r_t = U (1 - a)^t U^T r_0, and the weights move as Phi0(X)^T c_t with
    c_t = U diag((1 - (1 - a)^t) / lam) U^T (-r_0).  The stopping step is the
    first t with (1/N)||r_t||^2 <= tol (bisection: the loss is non-increasing
    when every a_i <= 2), capped at ``max_steps``.  Returns (predictions,
    steps, converged).

    >>> import torch
    >>> K = torch.eye(2, dtype=torch.float64); y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> z = torch.zeros(2, dtype=torch.float64)
    >>> pred, t, ok = linearised_gd(K, K, y, z, z, lr=0.5, tol=1e-12, max_steps=1000)
    >>> t, ok, torch.allclose(pred, y, atol=1e-5)
    (20, True, True)
    """
    import torch

    N = K.shape[0]
    lam, U = torch.linalg.eigh(K)
    lam = lam.clamp_min(0.0)
    r0 = U.T @ (f0_train - y)
    a = lr * (2.0 / N) * lam
    if bool((a > 2.0).any()):
        raise ValueError(f"lr={lr:g} is unstable for the linearised model (lr * top GN eigenvalue > 2)")
    small = a < 1.0
    log1m = torch.log1p(-torch.where(small, a, torch.zeros_like(a)))  # exact for tiny a

    def decay(t: int) -> tuple["torch.Tensor", "torch.Tensor"]:  # (1 - a)^t, and 1 - (1 - a)^t
        big = (1.0 - a) ** t
        return (torch.where(small, torch.exp(t * log1m), big),
                torch.where(small, -torch.expm1(t * log1m), 1.0 - big))

    def loss(t: int) -> float:
        return float(((decay(t)[0] * r0) ** 2).sum() / N)

    if loss(max_steps) > tol:
        t, ok = max_steps, False
    else:
        lo, hi = -1, max_steps  # loss(lo) > tol (lo = -1: before step 0), loss(hi) <= tol
        if loss(0) <= tol:
            hi = 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if loss(mid) <= tol:
                hi = mid
            else:
                lo = mid
        t, ok = hi, True
    grow = decay(t)[1]
    safe = torch.where(lam > 0, lam, torch.ones_like(lam))
    coef = torch.where(lam > 0, grow / safe, t * lr * (2.0 / N) * torch.ones_like(lam)) * (-r0)
    return f0_test + K_test @ (U @ coef), int(t), ok


def kernel_predictor(forward: Forward, params: "Params", X_train: "torch.Tensor", y: "torch.Tensor",
                     X_test: "torch.Tensor") -> "torch.Tensor":
    """f0(x) + K(x, X) K(X, X)^{-1} (y - f0(X)) per model, at ``X_test``: ``[B, n_test]``.

    K is the tangent kernel at ``params`` (the initialisation), f0 the
    model there (0 for the unbiased models of :mod:`kr.experiments.relu.network`).  Computed
    one model at a time in the dtype of ``params`` (use float64).
    """
    import torch

    out = []
    with torch.no_grad():
        f0_tr = forward(params, X_train)
        f0_te = forward(params, X_test)
    for b in range(params[0].shape[0]):
        p = tuple(t[b].detach() for t in params)
        with torch.enable_grad():
            phi_tr = _features_one(forward, p, X_train)
            phi_te = _features_one(forward, p, X_test)
        K = phi_tr @ phi_tr.T
        coef = torch.linalg.solve(K, (y - f0_tr[b])[:, None])[:, 0]
        out.append(f0_te[b] + phi_te @ (phi_tr.T @ coef))
    return torch.stack(out)


def kernel_references(forward: Forward, params: "Params", X_train: "torch.Tensor", y: "torch.Tensor",
                      X_test: "torch.Tensor", lr: "list[float]", tol: float, max_steps: int) -> dict:
    """Both kernel-regime references per model, at ``X_test``.

    ``predictor`` - :func:`kernel_predictor` (ridgeless, the tol -> 0 limit);
    ``gd`` - :func:`linearised_gd` with model b's step ``lr[b]`` and the
    network's tolerance and step cap; ``gd_steps``, ``gd_converged``.
    """
    import torch

    with torch.no_grad():
        f0_tr = forward(params, X_train)
        f0_te = forward(params, X_test)
    pred, gd, steps, ok = [], [], [], []
    for b in range(params[0].shape[0]):
        p = tuple(t[b].detach() for t in params)
        with torch.enable_grad():
            phi_tr = _features_one(forward, p, X_train)
            phi_te = _features_one(forward, p, X_test)
        K, K_te = phi_tr @ phi_tr.T, phi_te @ phi_tr.T
        coef = torch.linalg.solve(K, (y - f0_tr[b])[:, None])[:, 0]
        pred.append(f0_te[b] + K_te @ coef)
        g, t, c = linearised_gd(K, K_te, y, f0_tr[b], f0_te[b], float(lr[b]), tol, max_steps)
        gd.append(g)
        steps.append(t)
        ok.append(c)
    return {"predictor": torch.stack(pred), "gd": torch.stack(gd), "gd_steps": steps, "gd_converged": ok}
