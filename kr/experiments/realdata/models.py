"""Networks of the real-data experiments (Section 7, Appendix A, Figures 6(c), 6(d), 8).

* :func:`mlp` - MNIST: one hidden ReLU layer (5,000 units in the paper),
  He-normal weights ``w0 ~ N(0, 2/n_in)`` for both layers, multiplied by
  ``alpha`` (Appendix A, "MNIST").  Three readings of Appendix A are switches
  (``mnist.init``, ``mnist.init_scale``, ``mnist.bias``; docs/realdata.md,
  "Initialisation ablation"):

  - ``init="he"`` (default, the paper's): every weight drawn independently.
    The net starts at ``f(alpha w0) = alpha^2 f(w0)``, random logits of size
    ``alpha^2``.
  - ``init="paired"`` (unbiased, Chizat's pairing as in
    :func:`kr.experiments.relu.network.he_uniform_shape`): hidden units come
    in pairs with identical input weights, their output weights are ``(a, -a)``
    (``width`` even), so ``f(alpha w0) = 0`` for every alpha (up to float
    rounding) while every weight is still marginally He-normal at this width.
    Tangent kernel at init: exactly ``2 x`` that of the unpaired net of the
    first ``width / 2`` units; in expectation over ``w0`` equal to that of
    ``init="he"`` at the same width (tests/test_vision.py).
  - ``init="centred"``: the he net minus a frozen copy of itself,
    ``f(w) - f(alpha w0)`` (:func:`centred`): zero at init exactly, the same
    tangent kernel as ``he`` at the same seed, exactly.
  - ``init_scale="std"`` (default): ``N(0, sqrt(2/n_in))`` read as the standard
    deviation, i.e. variance ``2/n_in`` (He et al.); ``"variance"``: read
    literally as the variance, standard deviation ``(2/n_in)^(1/4)``.
  - ``bias=True``: PyTorch's default biases ``U(+-1/sqrt(n_in))`` in both
    layers, drawn after the weights (the weights stay those of ``bias=False``)
    and multiplied by ``alpha`` like every parameter.  The output bias is of
    degree 1 in ``alpha``, so the net is *not* alpha-homogeneous then (its
    hidden layer still is).  With ``init="paired"`` the hidden biases are
    paired too and the output bias starts at 0, so ``f(alpha w0) = 0`` holds.

* :func:`vgg11` - CIFAR-10: the VGG11-like
  ``64-M-128-M-256-256-M-512-512-M-512-512-M-FC`` network, convolutions without
  bias, ReLU, 2x2 max-pooling for ``M``; uniform He weights
  ``U(-sqrt(6/fan_in), sqrt(6/fan_in))`` multiplied by ``alpha`` (Appendix A,
  "CIFAR10").  The switches above are MNIST-only: the paper's CIFAR init is
  unambiguous (uniform He, no bias), and a paired VGG (identical channels of
  the last convolution, opposite FC weights) is not implemented.
* :func:`output_layer_only` - the kernel proxy of Figures 6(c), 6(d): the hidden
  layers frozen at their (alpha-scaled) random initialisation, only the output
  layer trained.

Choice (the paper does not say): by default no layer has a bias, so both
networks are positively homogeneous in their weights (of degree 2 and 9):
scaling the initialisation by ``alpha`` scales the initial output by
``alpha^2`` (``alpha^9``) exactly, as in the paper's analysis, and the learning
rate can be rescaled exactly with ``alpha`` (see :mod:`kr.lr_selection`).

Initial weights are drawn on the CPU from a ``torch.Generator`` seeded with
``seed`` as ``w0``, then multiplied by ``alpha``: the same seed gives the same
``w0`` on every device, and ``alpha`` scales the weights exactly.

>>> net = mlp(in_features=4, width=3, n_classes=2, alpha=2.0, seed=0)
>>> ref = mlp(in_features=4, width=3, n_classes=2, alpha=1.0, seed=0)
>>> bool((net[1].weight == 2.0 * ref[1].weight).all())
True
>>> import torch
>>> paired = mlp(4, 6, 2, alpha=50.0, seed=0, init="paired")
>>> bool(paired(torch.randn(3, 4)).abs().max() < 1e-3)
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported lazily (kr must import without it)
    import torch
    from torch import nn

__all__ = ["INITS", "INIT_SCALES", "VGG11_LAYOUT", "centred", "he_std", "hidden_parameters", "mlp", "output_layer",
           "output_layer_only", "vgg11"]

VGG11_LAYOUT: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
"""Channels of the VGG11-like network of Appendix A ("M": 2x2 max-pooling), before the FC layer."""

INITS = ("he", "paired", "centred")
"""Initialisations of :func:`mlp` (the ``mnist.init`` grid): see the module docstring."""

INIT_SCALES = ("std", "variance")
"""Readings of Appendix A's ``N(0, sqrt(2/n_in))``: the standard deviation (He et al.) or the variance."""


def _check(alpha: float, seed: int) -> tuple[float, int]:
    a = float(alpha)
    if not (math.isfinite(a) and a > 0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return a, int(seed)


def he_std(fan_in: int, init_scale: str = "std") -> float:
    """Standard deviation of a He-normal weight: ``sqrt(2/fan_in)``, or ``(2/fan_in)^(1/4)`` for ``"variance"``.

    >>> he_std(2), he_std(8, "variance")
    (1.0, 0.7071067811865476)
    """
    if init_scale not in INIT_SCALES:
        raise ValueError(f"init_scale must be one of {INIT_SCALES}, got {init_scale!r}")
    var = 2.0 / fan_in if init_scale == "std" else math.sqrt(2.0 / fan_in)
    return math.sqrt(var)


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


def _normal(rows: int, cols: int, std: float, gen: torch.Generator) -> torch.Tensor:
    import torch

    return torch.randn((rows, cols), generator=gen, dtype=torch.float32) * std


def _uniform(n: int, bound: float, gen: torch.Generator) -> torch.Tensor:
    import torch

    return (torch.rand((n,), generator=gen, dtype=torch.float32) * 2.0 - 1.0) * bound


def mlp(in_features: int, width: int, n_classes: int, alpha: float, seed: int, init: str = "he",
        init_scale: str = "std", bias: bool = False) -> nn.Sequential:
    """Depth-2 ReLU network ``x -> W2 relu(W1 x)`` with ``W = alpha * He-normal`` (Appendix A, MNIST).

    Layers: ``[Flatten, Linear(in, width), ReLU, Linear(width, n_classes)]``, no
    biases unless ``bias``.  ``init``, ``init_scale``, ``bias``: see the module
    docstring (``init="paired"`` needs an even ``width``; ``"centred"`` returns
    the :func:`centred` wrapper).  The default (``he``, ``std``, no bias) draws
    exactly the weights it drew before these switches existed.

    >>> net = mlp(784, 50, 10, alpha=1.0, seed=0)
    >>> [tuple(p.shape) for p in net.parameters()]
    [(50, 784), (10, 50)]
    """
    import torch
    from torch import nn

    alpha, seed = _check(alpha, seed)
    if width < 1 or in_features < 1 or n_classes < 2:
        raise ValueError(f"need width >= 1, in_features >= 1, n_classes >= 2; got {width}, {in_features}, {n_classes}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "paired" and width % 2:
        raise ValueError(f"init 'paired' needs an even width (units come in pairs), got {width}")
    std1, std2 = he_std(in_features, init_scale), he_std(width, init_scale)
    gen = torch.Generator().manual_seed(seed)
    if init == "paired":
        half = width // 2
        w1 = _normal(half, in_features, std1, gen)
        w2 = _normal(n_classes, half, std2, gen)
        w1, w2 = torch.cat([w1, w1], dim=0), torch.cat([w2, -w2], dim=1)
    else:
        w1 = _normal(width, in_features, std1, gen)
        w2 = _normal(n_classes, width, std2, gen)
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, width, bias=bool(bias)),
        nn.ReLU(),
        nn.Linear(width, n_classes, bias=bool(bias)),
    )
    hidden, output = net[1], net[3]
    assert isinstance(hidden, nn.Linear) and isinstance(output, nn.Linear)
    with torch.no_grad():
        hidden.weight.copy_(alpha * w1)
        output.weight.copy_(alpha * w2)
        if bias:  # PyTorch's default U(+-1/sqrt(fan_in)), drawn after the weights
            if init == "paired":
                b1 = _uniform(width // 2, 1.0 / math.sqrt(in_features), gen)
                b1, b2 = torch.cat([b1, b1]), torch.zeros(n_classes)  # f(alpha w0) = 0 kept
            else:
                b1 = _uniform(width, 1.0 / math.sqrt(in_features), gen)
                b2 = _uniform(n_classes, 1.0 / math.sqrt(width), gen)
            assert hidden.bias is not None and output.bias is not None
            hidden.bias.copy_(alpha * b1)
            output.bias.copy_(alpha * b2)
    return centred(net) if init == "centred" else net


def centred(net: nn.Sequential) -> nn.Sequential:
    """``x -> net(x) - net0(x)``: ``net0`` a frozen copy of ``net``'s current weights (buffers, not parameters).

    The returned module is ``net``'s layers in a :class:`torch.nn.Sequential`
    subclass (indexing, :func:`output_layer`, :func:`hidden_parameters`,
    ``state_dict`` and ``.to`` work as for ``net``); the frozen weights are
    buffers ``w0_<layer>_<name>``, saved in checkpoints and moved with the
    model.  Zero at init exactly; its gradients, hence its tangent kernel, are
    ``net``'s; ``f(alpha w; alpha w0) = alpha^L f(w; w0)`` for an L-homogeneous
    ``net`` (the MLP: L = 2; :func:`vgg11`: L = 9).  Any layer works (the frozen
    pass calls each layer with its buffers, ``torch.func.functional_call``).

    >>> import torch
    >>> c = centred(mlp(4, 3, 2, alpha=5.0, seed=0))
    >>> bool((c(torch.randn(2, 4)) == 0).all()), [n for n, _ in c.named_buffers()]
    (True, ['w0_1_weight', 'w0_3_weight'])
    """
    return _centred_class()(net)


_CENTRED: type | None = None


def _centred_class() -> type:
    """The :func:`centred` module class, defined on first use (torch is imported lazily)."""
    global _CENTRED
    if _CENTRED is not None:
        return _CENTRED
    import torch
    from torch import nn
    from torch.func import functional_call

    class CentredSequential(nn.Sequential):
        """``Sequential(x) - Sequential_w0(x)``, the second with frozen weights held as buffers."""

        def __init__(self, net: nn.Sequential) -> None:
            super().__init__(*net)
            self._frozen: list[tuple[int, dict[str, str]]] = []
            for i, m in enumerate(net):
                names: dict[str, str] = {}
                for pname, p in m.named_parameters():
                    bname = f"w0_{i}_{pname.replace('.', '_')}"
                    self.register_buffer(bname, p.detach().clone())
                    names[pname] = bname
                if names:
                    self._frozen.append((i, names))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = super().forward(x)
            frozen = dict(self._frozen)
            with torch.no_grad():
                h = x
                for i, m in enumerate(self):
                    if i in frozen:
                        h = functional_call(m, {p: getattr(self, b) for p, b in frozen[i].items()}, (h,))
                    else:
                        h = m(h)
            return out - h

    _CENTRED = CentredSequential
    return _CENTRED


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
