"""Networks of the real-data experiments (Section 7, Appendix A, Figures 6(c), 6(d), 8).

* :func:`mlp` - MNIST: one hidden ReLU layer (5,000 units in the paper),
  He-normal weights ``w0 ~ N(0, 2/n_in)`` for both layers, multiplied by
  ``alpha`` (Appendix A, "MNIST").
* :func:`vgg11` - CIFAR-10: the VGG11-like
  ``64-M-128-M-256-256-M-512-512-M-512-512-M-FC`` network, convolutions without
  bias, ReLU, 2x2 max-pooling for ``M``; uniform He weights
  ``U(-sqrt(6/fan_in), sqrt(6/fan_in))`` multiplied by ``alpha`` (Appendix A,
  "CIFAR10"); ``width`` multiplies every channel count.
* :func:`output_layer_only` - the kernel proxy of Figures 6(c), 6(d): the hidden
  layers frozen at their (alpha-scaled) random initialisation, only the output
  layer trained.

Choice (the paper does not say): no layer has a bias, so both networks are
positively homogeneous in their weights (of degree 2 and 9): scaling the
initialisation by ``alpha`` scales the initial output by ``alpha^2``
(``alpha^9``) exactly, as in the paper's analysis, and the learning rate can be
rescaled exactly with ``alpha`` (see :mod:`kr.lr_selection`).

Initial weights are drawn on the CPU from a ``torch.Generator`` seeded with
``seed`` as ``w0``, then multiplied by ``alpha``: the same seed gives the same
``w0`` on every device, and ``alpha`` scales the weights exactly.

>>> net = mlp(in_features=4, width=3, n_classes=2, alpha=2.0, seed=0)
>>> ref = mlp(in_features=4, width=3, n_classes=2, alpha=1.0, seed=0)
>>> bool((net[1].weight == 2.0 * ref[1].weight).all())
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported lazily (kr must import without it)
    import torch
    from torch import nn

__all__ = ["VGG11_LAYOUT", "hidden_parameters", "mlp", "output_layer", "output_layer_only", "vgg11"]

VGG11_LAYOUT: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
"""Channels of the VGG11-like network of Appendix A ("M": 2x2 max-pooling), before the FC layer."""


def _check(alpha: float, seed: int) -> tuple[float, int]:
    a = float(alpha)
    if not (math.isfinite(a) and a > 0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return a, int(seed)


def _init_(weight: torch.Tensor, fan_in: int, alpha: float, gen: torch.Generator, kind: str) -> None:
    """``weight <- alpha * w0``, ``w0`` He-normal or He-uniform for ReLU (gain sqrt 2)."""
    import torch

    with torch.no_grad():
        if kind == "normal":
            w0 = torch.randn(weight.shape, generator=gen, dtype=torch.float32) * math.sqrt(2.0 / fan_in)
        else:
            bound = math.sqrt(6.0 / fan_in)
            w0 = (torch.rand(weight.shape, generator=gen, dtype=torch.float32) * 2.0 - 1.0) * bound
        weight.copy_(alpha * w0)


def mlp(in_features: int, width: int, n_classes: int, alpha: float, seed: int) -> nn.Sequential:
    """Depth-2 ReLU network ``x -> W2 relu(W1 x)`` with ``W = alpha * He-normal`` (Appendix A, MNIST).

    Layers: ``[Flatten, Linear(in, width), ReLU, Linear(width, n_classes)]``, no biases.

    >>> net = mlp(784, 50, 10, alpha=1.0, seed=0)
    >>> [tuple(p.shape) for p in net.parameters()]
    [(50, 784), (10, 50)]
    """
    import torch
    from torch import nn

    alpha, seed = _check(alpha, seed)
    if width < 1 or in_features < 1 or n_classes < 2:
        raise ValueError(f"need width >= 1, in_features >= 1, n_classes >= 2; got {width}, {in_features}, {n_classes}")
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, width, bias=False),
        nn.ReLU(),
        nn.Linear(width, n_classes, bias=False),
    )
    hidden, output = net[1], net[3]
    assert isinstance(hidden, nn.Linear) and isinstance(output, nn.Linear)
    _init_(hidden.weight, in_features, alpha, gen, "normal")
    _init_(output.weight, width, alpha, gen, "normal")
    return net


def vgg11(in_channels: int, n_classes: int, alpha: float, seed: int, width: float = 1.0,
          image_size: int = 32) -> nn.Sequential:
    """The VGG11-like network of Appendix A with ``W = alpha * uniform He``.

    ``width`` multiplies every channel count (at least one channel per layer).
    The FC layer maps the flattened last feature map (``512 width`` channels
    of ``image_size / 32`` squared pixels) to the classes.

    >>> net = vgg11(3, 10, alpha=1.0, seed=0, width=1 / 8)
    >>> sum(isinstance(m, __import__("torch").nn.Conv2d) for m in net), net[-1].in_features
    (8, 64)
    """
    import torch
    from torch import nn

    alpha, seed = _check(alpha, seed)
    if not (width > 0) or image_size % 32:
        raise ValueError(f"need width > 0 and image_size a multiple of 32; got {width}, {image_size}")
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    c_in = in_channels
    for item in VGG11_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        c_out = max(1, round(int(item) * width))
        conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False)
        _init_(conv.weight, c_in * 9, alpha, gen, "uniform")
        layers += [conv, nn.ReLU()]
        c_in = c_out
    n_flat = c_in * (image_size // 32) ** 2
    fc = nn.Linear(n_flat, n_classes, bias=False)
    _init_(fc.weight, n_flat, alpha, gen, "uniform")
    layers += [nn.Flatten(), fc]
    return nn.Sequential(*layers)


def output_layer(model: nn.Sequential) -> nn.Module:
    """The output (last) layer of :func:`mlp` or :func:`vgg11`."""
    last = model[-1]
    if not hasattr(last, "weight"):
        raise ValueError("the model's last module has no weights; expected a Linear output layer")
    return last


def hidden_parameters(model: nn.Sequential) -> list[torch.nn.Parameter]:
    """Every parameter but the output layer's."""
    out_ids = {id(p) for p in output_layer(model).parameters()}
    return [p for p in model.parameters() if id(p) not in out_ids]


def output_layer_only(model: nn.Sequential) -> nn.Sequential:
    """Freeze every hidden layer (``requires_grad = False``); return ``model``.

    The frozen network is the paper's kernel proxy: a linear predictor on the
    fixed random features of the hidden layers (Appendix A, last paragraph).

    >>> net = output_layer_only(mlp(4, 3, 2, alpha=1.0, seed=0))
    >>> [p.requires_grad for p in net.parameters()]
    [False, True]
    """
    for p in hidden_parameters(model):
        p.requires_grad_(False)
    return model
