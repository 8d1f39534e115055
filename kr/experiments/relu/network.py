"""ReLU networks of Section 7, batched over many initialisations (torch).

Two models, both *stacked*: every parameter tensor has a leading batch
dimension ``B`` (one slice per alpha, shape c or seed), so many models train
as one with :func:`torch.bmm` / :func:`torch.einsum` (:mod:`kr.experiments.relu.training`).

* :func:`init_mlp` / :func:`mlp_forward` - the depth-D fully connected ReLU
  network of Figure 6 (D counted in weight layers), **without biases**: with
  unit-circle inputs and no biases it is positively homogeneous of degree D
  in its parameters, f(alpha w0) = alpha^D f(w0) (the setting of Section 3),
  and positively homogeneous in x (on the circle that costs nothing: every
  input has norm 1).  Weights are Uniform He (``U(-sqrt(6/fan_in),
  sqrt(6/fan_in))``, every layer), then multiplied by alpha.  With
  ``unbiased=True`` the last hidden layer uses Chizat's paired units: its
  rows come in identical pairs whose output weights are opposite, so
  f(alpha w0) = 0 for every alpha while every weight is still Uniform He.
* :func:`init_univariate` / :func:`univariate_forward` - the univariate
  two-layer network of Section 7, f(x) = w2^T relu(w1 x + b1) + b2, width k,
  paired units (f(alpha w0) = 0), w1, b1 ~ N(0, 1), w2 ~ N(0, std sqrt(2/k)),
  b2 = 0 (trained).  The *shape* c multiplies the input layer (w1 and b1) by c
  and divides w2 by c, leaving the initial function unchanged (Figure 7(b, c)).

A model is a tuple of tensors ``params``; :data:`FORWARDS` maps a model name
to its batched forward ``forward(params, X) -> [B, n]``.

>>> import torch
>>> p = init_mlp(D=3, width=4, d_in=2, alphas=[0.5, 2.0], seed=0, unbiased=True)
>>> [tuple(w.shape) for w in p]
[(2, 4, 2), (2, 4, 4), (2, 1, 4)]
>>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
>>> bool(mlp_forward(p, X).abs().max() == 0)   # paired units: f(alpha w0) = 0
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported lazily: the Snakefile imports kr without it
    import torch

Params = tuple["torch.Tensor", ...]


def _dtype(dtype: "torch.dtype | str | None") -> "torch.dtype":
    import torch

    if dtype is None:
        return torch.float64
    if isinstance(dtype, str):
        dt = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
        return dt
    return dtype


def _alphas(alphas: Sequence[float] | float) -> list[float]:
    vals = [float(a) for a in (alphas if isinstance(alphas, Sequence) else [alphas])]
    if not vals:
        raise ValueError("alphas must be a non-empty sequence of positive numbers")
    for a in vals:
        if not (math.isfinite(a) and a > 0):
            raise ValueError(f"every alpha must be a positive finite number, got {a!r}")
    return vals


def he_uniform_shape(D: int, width: int, d_in: int, seed: int, unbiased: bool = True,
                     dtype: "torch.dtype | str | None" = None) -> Params:
    """The shape w0 of the depth-D network (alpha = 1), one model, no batch dimension.

    Layer l has weight ``[out, in]`` drawn Uniform He, ``U(+-sqrt(6 / in))``,
    from ``torch.Generator().manual_seed(seed)`` (on CPU, so the draw does not
    depend on the device).  ``unbiased``: the last hidden layer's second half
    of rows copies the first half and the output weights of the copies are
    negated (needs an even ``width``).
    """
    import torch

    if int(D) != D or D < 2:
        raise ValueError(f"D must be an integer >= 2 (weight layers), got {D!r}")
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if unbiased and width % 2:
        raise ValueError(f"unbiased (paired) networks need an even width, got {width}")
    if int(d_in) != d_in or d_in < 1:
        raise ValueError(f"d_in must be a positive integer, got {d_in!r}")
    dt = _dtype(dtype)
    gen = torch.Generator().manual_seed(int(seed))
    dims = [int(d_in)] + [int(width)] * (int(D) - 1) + [1]
    layers = []
    for layer, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        bound = math.sqrt(6.0 / fan_in)

        def draw(rows: int, cols: int) -> torch.Tensor:
            return (2.0 * torch.rand(rows, cols, generator=gen, dtype=torch.float64) - 1.0) * bound

        if unbiased and layer == D - 2:  # last hidden layer: identical pairs of units
            W = draw(fan_out // 2, fan_in)
            W = torch.cat([W, W], dim=0)
        elif unbiased and layer == D - 1:  # output layer: opposite weights within each pair
            W = draw(1, fan_in // 2)
            W = torch.cat([W, -W], dim=1)
        else:
            W = draw(fan_out, fan_in)
        layers.append(W.to(dt))
    return tuple(layers)


def init_mlp(D: int, width: int, d_in: int, alphas: Sequence[float] | float, seed: int,
             unbiased: bool = True, dtype: "torch.dtype | str | None" = None,
             device: str = "cpu") -> Params:
    """Stacked depth-D networks ``alpha_b * w0`` (one shape w0 per seed), ``[B, out, in]`` each."""
    import torch

    al = torch.tensor(_alphas(alphas), dtype=_dtype(dtype))
    w0 = he_uniform_shape(D, width, d_in, seed, unbiased, dtype)
    return tuple((al[:, None, None] * W[None]).to(device) for W in w0)


def mlp_forward(params: Params, X: "torch.Tensor") -> "torch.Tensor":
    """Outputs ``[B, n]`` of stacked bias-free ReLU networks at inputs ``X`` ``[n, d]``."""
    import torch

    h = torch.einsum("bij,nj->bni", params[0], X)
    for W in params[1:]:
        h = torch.bmm(torch.relu(h), W.transpose(1, 2))
    return h[..., 0]


def univariate_shape(k: int, seed: int, c: float = 1.0, dtype: "torch.dtype | str | None" = None) -> Params:
    """The shape w0 = (w1, b1, w2, b2) of the univariate network (Figure 7), one model.

    Halves: unit j + k/2 copies w1_j, b1_j of unit j and has output weight
    -w2_j.  ``c`` scales (w1, b1) by c and w2 by 1/c.
    """
    import torch

    if int(k) != k or k < 2 or k % 2:
        raise ValueError(f"k must be an even integer >= 2 (paired units), got {k!r}")
    c = float(c)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"the shape c must be a positive finite number, got {c!r}")
    gen = torch.Generator().manual_seed(int(seed))
    h = int(k) // 2
    w1 = torch.randn(h, generator=gen, dtype=torch.float64)
    b1 = torch.randn(h, generator=gen, dtype=torch.float64)
    w2 = torch.randn(h, generator=gen, dtype=torch.float64) * math.sqrt(2.0 / k)
    dt = _dtype(dtype)
    return (
        (c * torch.cat([w1, w1])).to(dt),
        (c * torch.cat([b1, b1])).to(dt),
        (torch.cat([w2, -w2]) / c).to(dt),
        torch.zeros((), dtype=dt),
    )


def init_univariate(k: int, alphas: Sequence[float] | float, seed: int, c: float = 1.0,
                    dtype: "torch.dtype | str | None" = None, device: str = "cpu") -> Params:
    """Stacked univariate networks ``alpha_b * w0(c)``: ``[B, k]`` x3 and ``[B]``.

    >>> import torch
    >>> x = torch.linspace(-2, 2, 5, dtype=torch.float64)
    >>> p = init_univariate(8, [1.0, 3.0], seed=1)
    >>> bool(univariate_forward(p, x).abs().max() < 1e-12)   # f(alpha w0) = 0 up to rounding
    True
    """
    import torch

    al = torch.tensor(_alphas(alphas), dtype=_dtype(dtype))
    w0 = univariate_shape(k, seed, c, dtype)
    return tuple((al.reshape(-1, *([1] * t.dim())) * t[None]).to(device) for t in w0)


def univariate_forward(params: Params, x: "torch.Tensor") -> "torch.Tensor":
    """Outputs ``[B, n]`` of stacked univariate networks at inputs ``x`` ``[n]`` (or ``[n, 1]``)."""
    import torch

    w1, b1, w2, b2 = params
    x = x.reshape(-1)
    h = torch.relu(w1[:, None, :] * x[None, :, None] + b1[:, None, :])
    return torch.einsum("bnk,bk->bn", h, w2) + b2[:, None]


def univariate_hidden(params: Params, x: "torch.Tensor") -> "torch.Tensor":
    """Pre-activations ``w1 x + b1`` ``[B, n, k]`` (for kink positions -b1/w1)."""
    w1, b1, _, _ = params
    return w1[:, None, :] * x.reshape(-1)[None, :, None] + b1[:, None, :]


FORWARDS: dict[str, Callable[[Params, "torch.Tensor"], "torch.Tensor"]] = {
    "mlp": mlp_forward,
    "univariate": univariate_forward,
}
"""Model name -> batched forward ``(params, X) -> [B, n]``."""


def mlp_loss_grad(params: Params, X: "torch.Tensor", y: "torch.Tensor") -> tuple["torch.Tensor", Params]:
    """Per-model mean squared loss ``[B]`` and its gradient (hand-written backward pass).

    The same numbers as autograd on :func:`mlp_forward` (tests check it), at
    about half the cost per step on CPU, where these tiny networks are
    bound by per-operation overhead.
    """
    import torch

    n = X.shape[0]
    a = X.expand(params[0].shape[0], *X.shape)
    acts, pre = [a], []
    for layer, W in enumerate(params):
        h = torch.bmm(a, W.transpose(1, 2))
        if layer < len(params) - 1:
            pre.append(h)
            a = torch.relu(h)
            acts.append(a)
    r = h[..., 0] - y
    loss = (r * r).mean(dim=1)
    d = (2.0 / n) * r[..., None]  # dL/df, [B, n, 1]
    grads: list[torch.Tensor] = [None] * len(params)  # type: ignore[list-item]
    for layer in range(len(params) - 1, -1, -1):
        grads[layer] = torch.bmm(d.transpose(1, 2), acts[layer])
        if layer > 0:
            d = torch.bmm(d, params[layer]) * (pre[layer - 1] > 0)
    return loss, tuple(grads)


def univariate_loss_grad(params: Params, x: "torch.Tensor", y: "torch.Tensor") -> tuple["torch.Tensor", Params]:
    """Per-model mean squared loss ``[B]`` and its gradient for the univariate network."""
    import torch

    w1, b1, w2, b2 = params
    x = x.reshape(-1)
    u = w1[:, None, :] * x[None, :, None] + b1[:, None, :]
    a = torch.relu(u)
    r = torch.einsum("bnk,bk->bn", a, w2) + b2[:, None] - y
    loss = (r * r).mean(dim=1)
    d = (2.0 / x.shape[0]) * r  # [B, n]
    g_w2 = torch.einsum("bn,bnk->bk", d, a)
    delta = d[:, :, None] * (u > 0) * w2[:, None, :]  # [B, n, k]
    g_w1 = torch.einsum("bnk,n->bk", delta, x)
    g_b1 = delta.sum(dim=1)
    return loss, (g_w1, g_b1, g_w2, d.sum(dim=1))


LOSS_GRADS: dict[str, Callable[[Params, "torch.Tensor", "torch.Tensor"], tuple["torch.Tensor", Params]]] = {
    "mlp": mlp_loss_grad,
    "univariate": univariate_loss_grad,
}
"""Model name -> hand-written ``(params, X, y) -> (loss [B], grads)`` of the mean squared loss."""


def select(params: Params, index: int | Sequence[int]) -> Params:
    """The models ``index`` of a stack (keeps the batch dimension)."""
    import torch

    idx = torch.as_tensor([index] if isinstance(index, int) else list(index), dtype=torch.long)
    return tuple(t[idx.to(t.device)] for t in params)


def stack(models: Sequence[Params]) -> Params:
    """Concatenate stacks along the batch dimension."""
    import torch

    return tuple(torch.cat(ts, dim=0) for ts in zip(*models))
