"""SGD training of the real-data networks (Section 7, Appendix A; Figures 6(c), 6(d), 8).

:func:`train` runs plain minibatch SGD (no momentum, no weight decay, no
augmentation) on the cross-entropy loss, with the whole data set held as
normalised float32 tensors on the device (no data loader, no per-batch worker
overhead).  After every ``eval_every`` epochs (and after the last one) it
records the exact training loss and accuracy (a full pass over the training
set at the current weights), and the validation and test errors.

Stopping: at 100% training accuracy (``stop_at_fit``; MNIST, as in the paper),
or after ``max_epochs`` (CIFAR-10: the paper runs 2,000 epochs), or when the
training loss stops changing (``plateau_rtol``; the output-layer-only
baseline, whose convex problem cannot reach 100% training accuracy), or when
the loss turns non-finite (``diverged``), or - with ``chance_window`` set -
when the network has collapsed to chance (``chance``: the last
``chance_window`` evaluations all at chance-level loss and accuracy, see
:func:`_at_chance`; e.g. every ReLU dead after a too-large step).  (Plateau:
the mean training loss of the last ``plateau_window`` evaluations within
``plateau_rtol`` of the mean of the ``plateau_window`` before, robust to SGD
noise.)  ``converged`` is True when the run fitted the training set, or
reached its plateau criterion; never after a divergence or a collapse.

Long runs checkpoint every ``checkpoint_every`` epochs (model, optimiser,
shuffling-RNG state, records; written atomically) and :func:`train` resumes
from the checkpoint when called again with the same ``fingerprint``: on the
CPU the resumed run is bit-identical to an uninterrupted one.

Device: ``"auto"`` picks CUDA when available; TF32 matmuls/convolutions are
allowed on CUDA when ``tf32`` is set, and recorded in the result.

>>> import numpy as np
>>> from kr.experiments.realdata.models import mlp
>>> rng = np.random.default_rng(0)
>>> x = rng.integers(0, 256, size=(64, 1, 4, 4), dtype=np.uint8)
>>> y = (x.reshape(64, -1).mean(1) > 127).astype(np.int64)
>>> data = prepare_data(x, y, x[:16], y[:16], device="cpu")
>>> res = train(mlp(16, 64, 2, alpha=1.0, seed=0), data,
...             TrainSpec(lr=0.5, batch_size=16, max_epochs=200, device="cpu", progress=False))
>>> res.converged, res.reason, float(res.records["train_acc"].iloc[-1])
(True, 'fit', 1.0)
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kr.results import atomic_open

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "RECORD_COLUMNS",
    "Tensors",
    "TrainResult",
    "TrainSpec",
    "checkpoint_fingerprint",
    "evaluate",
    "prepare_data",
    "resolve_device",
    "sgd_epoch",
    "split_validation",
    "train",
]

log = logging.getLogger("kr")

PLATEAU_MIN_DROP = 0.1
"""A loss plateau counts as convergence only after the loss fell by this fraction from its first evaluation."""

CHANCE_LOSS_RTOL = 0.05
"""At chance: the training loss within this fraction of ln(n_classes) (the loss of uniform predictions)."""

CHANCE_ACC_FACTOR = 2.0
"""At chance: the training accuracy at most this multiple of 1 / n_classes."""

RECORD_COLUMNS = ["epoch", "train_loss", "train_acc", "running_loss", "val_error", "test_loss", "test_error",
                  "elapsed_s"]
"""Columns of :attr:`TrainResult.records` (``elapsed_s``: training time so far, resumes included)."""


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """Hyper-parameters of one SGD run (Appendix A: batch 256 MNIST, 128 CIFAR-10)."""

    lr: float
    batch_size: int
    max_epochs: int
    seed: int = 0
    stop_at_fit: bool = True
    eval_every: int = 1
    eval_batch_size: int = 4096
    plateau_rtol: float | None = None
    plateau_window: int = 5
    chance_window: int | None = None
    checkpoint_every: int = 0
    device: str = "auto"
    tf32: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        for name in ("batch_size", "max_epochs", "eval_every", "eval_batch_size", "plateau_window"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0 (0: never), got {self.checkpoint_every!r}")
        if self.chance_window is not None and int(self.chance_window) < 1:
            raise ValueError(f"chance_window must be an integer >= 1 or None, got {self.chance_window!r}")
        if self.plateau_rtol is not None and not self.plateau_rtol > 0:
            raise ValueError(f"plateau_rtol must be > 0 or None, got {self.plateau_rtol!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")


@dataclasses.dataclass
class Tensors:
    """A data set on the device: normalised float32 images, int64 labels."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    val_x: torch.Tensor | None = None
    val_y: torch.Tensor | None = None
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()


@dataclasses.dataclass
class TrainResult:
    """Outcome of :func:`train`."""

    records: pd.DataFrame
    converged: bool
    diverged: bool
    reason: str  # "fit", "plateau", "max_epochs", "diverged" or "chance"
    epochs: int
    device: str
    tf32: bool
    resumed_from: int
    wall_time_s: float

    def summary(self) -> dict[str, Any]:
        """The last record and the run's outcome, as one flat dict."""
        last = self.records.iloc[-1].to_dict() if len(self.records) else {}
        return {**last, "converged": self.converged, "diverged": self.diverged, "stop_reason": self.reason,
                "epochs": self.epochs, "device": self.device, "tf32": self.tf32,
                "resumed_from": self.resumed_from}


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
def resolve_device(device: str) -> torch.device:
    """:func:`kr.devices.resolve_device` as a ``torch.device``: ``"auto"`` -> CUDA when available, else CPU."""
    import torch

    from kr.devices import resolve_device as _resolve

    return torch.device(_resolve(device))


def split_validation(x: np.ndarray, y: np.ndarray, n_val: int, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``n_val`` random training images (fixed by ``seed``): ``(x_tr, y_tr, x_val, y_val)``.

    >>> x, y = np.arange(10)[:, None], np.arange(10)
    >>> xt, yt, xv, yv = split_validation(x, y, 3)
    >>> len(yt), len(yv), sorted(np.concatenate([yt, yv]).tolist()) == list(range(10))
    (7, 3, True)
    """
    n = len(y)
    if not 0 <= n_val < n:
        raise ValueError(f"validation size must be in [0, {n}), got {n_val}")
    perm = np.random.default_rng(seed).permutation(n)
    val, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return x[tr], y[tr], x[val], y[val]


def _check_images(name: str, x: np.ndarray, y: np.ndarray | None) -> None:
    if x.ndim != 4 or x.dtype != np.uint8:
        raise ValueError(f"{name}_x must be uint8 images of shape [N, C, H, W], got {x.dtype} {x.shape}")
    if y is None or y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        shape = None if y is None else (y.dtype, y.shape)
        raise ValueError(f"{name}_y must be integer labels of shape ({x.shape[0]},), got {shape}")


def prepare_data(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, *,
                 val_x: np.ndarray | None = None, val_y: np.ndarray | None = None,
                 device: str = "auto") -> Tensors:
    """Scale uint8 images to [0, 1], standardise per channel with the training set's mean/std, move to device."""
    import torch

    _check_images("train", train_x, train_y)
    _check_images("test", test_x, test_y)
    if val_x is not None:
        _check_images("val", val_x, val_y)
    if len(train_y) == 0:
        raise ValueError("the training set is empty")
    dev = resolve_device(device)
    x = train_x.astype(np.float64) / 255.0
    mean = x.mean(axis=(0, 2, 3))
    std = x.std(axis=(0, 2, 3))
    std = np.where(std > 0, std, 1.0)

    def conv(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(a).to(dev, dtype=torch.float32).div_(255.0)
        m = torch.tensor(mean, dtype=torch.float32, device=dev).view(1, -1, 1, 1)
        s = torch.tensor(std, dtype=torch.float32, device=dev).view(1, -1, 1, 1)
        return t.sub_(m).div_(s).contiguous()

    def lab(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(dev)

    return Tensors(conv(train_x), lab(train_y), conv(test_x), lab(test_y),
                   None if val_x is None else conv(val_x), None if val_y is None else lab(val_y),
                   tuple(float(v) for v in mean), tuple(float(v) for v in std))


# --------------------------------------------------------------------------- #
# training
# --------------------------------------------------------------------------- #
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on ``(x, y)``, summed in float64."""
    import torch
    import torch.nn.functional as F

    total, correct = torch.zeros((), dtype=torch.float64, device=x.device), torch.zeros((), dtype=torch.int64,
                                                                                       device=x.device)
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(x[i:i + batch_size])
            yb = y[i:i + batch_size]
            total += F.cross_entropy(out.double(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
    n = len(y)
    return float(total) / n, int(correct) / n


def checkpoint_fingerprint(spec: TrainSpec, **extra: Any) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: the spec (minus progress/checkpointing) and ``extra``."""
    d = dataclasses.asdict(spec)
    for k in ("progress", "checkpoint_every"):
        d.pop(k)
    if d["chance_window"] is None:  # off: the fingerprint of checkpoints written before the switch existed
        d.pop("chance_window")
    return {**d, **{k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
                    for k, v in extra.items()}}


def _set_tf32(dev: torch.device, enabled: bool) -> bool:
    import torch

    if dev.type != "cuda":
        return False
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    return enabled


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    with atomic_open(path, "wb") as fh:
        torch.save(state, fh)


def _load_checkpoint(path: Path, fingerprint: Mapping[str, Any]) -> dict[str, Any] | None:
    import torch

    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or corrupt file (zip / unpickling errors): move it aside, start afresh
        aside = path.with_name(path.name + ".corrupt")
        os.replace(path, aside)
        log.warning("checkpoint %s is unreadable (%s: %s); moved it to %s and starting the run from scratch",
                    path, type(err).__name__, err, aside.name)
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != dict(fingerprint):
        log.warning("checkpoint %s was written for another run; starting afresh", path)
        return None
    return state


def _plateaued(losses: list[float], rtol: float | None, window: int) -> bool:
    """Mean of the last ``window`` losses within ``rtol`` of the mean of the ``window`` before.

    Only once the loss fell by ``PLATEAU_MIN_DROP`` from its first evaluation.

    >>> _plateaued([2.0, 1.0, 1.0, 1.0, 1.0], 0.01, 2), _plateaued([4.0, 3.0, 2.0, 1.0], 0.01, 2)
    (True, False)
    >>> _plateaued([2.3, 2.3, 2.3, 2.3], 0.01, 2)  # stuck at chance level: not a converged optimum
    False
    """
    if rtol is None or len(losses) < 2 * window:
        return False
    old = float(np.mean(losses[-2 * window:-window]))
    new = float(np.mean(losses[-window:]))
    fell = new <= (1.0 - PLATEAU_MIN_DROP) * losses[0]  # a run stuck at its initial loss has not converged
    return fell and abs(old - new) <= rtol * abs(old)


def _at_chance(records: list[dict[str, float]], window: int | None, n_classes: int) -> bool:
    """The last ``window`` evaluations all at chance: train loss within ``CHANCE_LOSS_RTOL`` of
    ln(n_classes) and train accuracy at most ``CHANCE_ACC_FACTOR / n_classes``.

    A net that learns has a falling loss and a rising accuracy; one stuck at
    uniform predictions (a dead or saturated net) sits at ln(K) and ~1/K.

    >>> at = {"train_loss": 2.30, "train_acc": 0.10}
    >>> _at_chance([at] * 3, 3, 10), _at_chance([at] * 2, 3, 10), _at_chance([at] * 3, None, 10)
    (True, False, False)
    >>> _at_chance([at, at, {"train_loss": 2.30, "train_acc": 0.35}], 3, 10)  # learning
    False
    >>> _at_chance([{"train_loss": 1e4, "train_acc": 0.11}] * 3, 3, 10)  # a large-alpha start: not at chance
    False
    """
    if window is None or len(records) < window:
        return False
    chance_loss = math.log(n_classes)
    return all(abs(r["train_loss"] - chance_loss) <= CHANCE_LOSS_RTOL * chance_loss
               and r["train_acc"] <= CHANCE_ACC_FACTOR / n_classes for r in records[-window:])


def sgd_epoch(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, batch_size: int,
              gen: torch.Generator) -> torch.Tensor:
    """One epoch of minibatch SGD in the order ``randperm(n, generator=gen)``; returns the summed loss.

    The sum stays on the device (no per-batch host synchronisation); the
    last batch may be smaller.
    """
    import torch
    import torch.nn.functional as F

    n = len(y)
    perm = torch.randperm(n, generator=gen).to(x.device)
    running = torch.zeros((), dtype=torch.float64, device=x.device)
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += loss.detach().double() * len(idx)
    return running


def train(
    model: nn.Module,
    data: Tensors,
    spec: TrainSpec,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    fingerprint: Mapping[str, Any] | None = None,
    on_epoch_end: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place by SGD on the cross-entropy loss (see the module docstring).

    ``checkpoint``: file to save to every ``spec.checkpoint_every`` epochs and
    to resume from (when its fingerprint - ``spec`` plus ``fingerprint`` -
    matches).  Only parameters with ``requires_grad`` are trained (see
    :func:`kr.experiments.realdata.models.output_layer_only`).  ``on_epoch_end(epoch)`` is
    called after each epoch's bookkeeping (checkpoint included).
    """
    import torch
    from tqdm.auto import tqdm

    dev = data.train_x.device
    if spec.device != "auto" and dev.type != spec.device:
        raise ValueError(f"data are on {dev.type} but spec.device is {spec.device!r}")
    tf32 = _set_tf32(dev, spec.tf32)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    opt = torch.optim.SGD(params, lr=spec.lr, momentum=0.0, weight_decay=0.0)
    gen = torch.Generator().manual_seed(int(spec.seed) + 1_000_003)  # minibatch order only
    fp = checkpoint_fingerprint(spec, **dict(fingerprint or {}))
    ckpt_path = Path(checkpoint) if checkpoint is not None else None

    records: list[dict[str, float]] = []
    start_epoch, elapsed0, resumed_from = 1, 0.0, 0
    state = _load_checkpoint(ckpt_path, fp) if ckpt_path is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        records = [dict(r) for r in state["records"]]
        resumed_from = int(state["epoch"])
        start_epoch = resumed_from + 1
        elapsed0 = float(state["elapsed_s"])
        log.info("resumed from %s after epoch %d", ckpt_path, resumed_from)

    n = len(data.train_y)
    n_classes = int(data.train_y.max()) + 1 if spec.chance_window is not None else 0
    t0 = time.perf_counter()
    reason, diverged, fitted = "max_epochs", False, bool(records and records[-1]["train_acc"] == 1.0)
    done = False
    epoch = start_epoch - 1
    bar = tqdm(range(start_epoch, spec.max_epochs + 1), disable=not spec.progress, mininterval=5.0,
               desc=f"lr={spec.lr:.3g}", initial=start_epoch - 1, total=spec.max_epochs)
    for epoch in bar:
        running_loss = float(sgd_epoch(model, opt, data.train_x, data.train_y, spec.batch_size, gen)) / n
        if not math.isfinite(running_loss):
            diverged, reason, done = True, "diverged", True
        last = done or epoch == spec.max_epochs
        if last or epoch % spec.eval_every == 0:
            rec = _record(model, data, spec, epoch, running_loss, elapsed0 + time.perf_counter() - t0)
            records.append(rec)
            fitted = rec["train_acc"] == 1.0
            bar.set_postfix(loss=f"{rec['train_loss']:.3g}", acc=f"{rec['train_acc']:.4f}",
                            test_err=f"{rec['test_error']:.4f}", refresh=False)
            if not diverged and not math.isfinite(rec["train_loss"]):
                diverged, reason, done = True, "diverged", True
            elif not diverged and fitted and spec.stop_at_fit:
                reason, done = "fit", True
            elif not diverged and _plateaued([r["train_loss"] for r in records], spec.plateau_rtol,
                                             spec.plateau_window):
                reason, done = "plateau", True
            elif not diverged and _at_chance(records, spec.chance_window, n_classes):
                reason, done = "chance", True
        if ckpt_path is not None and spec.checkpoint_every and epoch % spec.checkpoint_every == 0 and not done:
            _save_checkpoint(ckpt_path, {
                "fingerprint": fp, "epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "generator": gen.get_state(), "records": records,
                "elapsed_s": elapsed0 + time.perf_counter() - t0,
            })
        if on_epoch_end is not None:
            on_epoch_end(epoch)
        if done:
            break
    bar.close()
    if reason == "max_epochs" and fitted:
        reason = "fit"
    converged = not diverged and (fitted or reason == "plateau")
    df = pd.DataFrame(records, columns=RECORD_COLUMNS).astype({"epoch": int})
    return TrainResult(df, converged, diverged, reason, int(epoch), dev.type, tf32, resumed_from,
                       elapsed0 + time.perf_counter() - t0)


def _record(model: nn.Module, data: Tensors, spec: TrainSpec, epoch: int, running_loss: float,
            elapsed: float) -> dict[str, float]:
    train_loss, train_acc = evaluate(model, data.train_x, data.train_y, spec.eval_batch_size)
    test_loss, test_acc = evaluate(model, data.test_x, data.test_y, spec.eval_batch_size)
    val_error = float("nan")
    if data.val_x is not None and data.val_y is not None and len(data.val_y):
        val_error = 1.0 - evaluate(model, data.val_x, data.val_y, spec.eval_batch_size)[1]
    return {"epoch": float(epoch), "train_loss": train_loss, "train_acc": train_acc, "running_loss": running_loss,
            "val_error": val_error, "test_loss": test_loss, "test_error": 1.0 - test_acc, "elapsed_s": elapsed}
