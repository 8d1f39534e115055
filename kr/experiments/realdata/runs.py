"""The MNIST and CIFAR-10 experiments, from a config section to result tables (Section 7, Appendix A).

One *run* is one SGD training (:func:`kr.experiments.realdata.training.train`) at one
``(dataset, model, alpha, c, seed, init)``: ``model`` is ``"full"`` (every layer
trained) or ``"output"`` (hidden layers frozen: the kernel proxy of Figures
6(c), 6(d)); ``init`` the MNIST initialisation (``he``, ``paired``,
``centred``, :mod:`kr.experiments.realdata.models`; CIFAR-10: ``he`` or
``centred``).  Its table has one row per evaluated epoch (the training curve
of Figure 8) and the run's outcome in every row.

Learning rates.  The paper tunes the MNIST step size per alpha on the grid
``(0.5, 0.01, 0.05, ...)`` (Appendix A).  A network homogeneous of degree
``L`` in its weights (``L = 2`` for the MLP, ``9`` for the VGG11-like net,
biases excluded, see :mod:`kr.experiments.realdata.models`) has initial outputs of size
``alpha^L``; in the normalised weights ``w / alpha`` SGD with step ``lr``
moves the outputs by ``lr alpha^(2L-2)`` times a size-one quantity, so at large
alpha a fixed grid either diverges or crawls.  Our grid is therefore
``lr = c / alpha^p`` with the constants ``c`` and the power ``p`` from config
(:func:`learning_rate`; ``p = 2`` for MNIST: the output-change rate per
step in the 2-homogeneous net then grows like ``alpha^2 lr = c``).  This is a deviation from the
paper's listed grid (which it does not list in full).  CIFAR-10 uses the
paper's fixed ``lr = 1e-4`` (``c = [1e-4]``, ``p = 0``) unless configured;
the quick preset scales it only above ``alpha_floor = 1``
(``lr = c / max(alpha, 1)^16``, ``p = 2L - 2``): a fixed step below, where the
weights grow to size one and set the curvature, and a fixed output-change
rate above, where they barely move (docs/realdata.md, "CIFAR-10 range").

Selection (:func:`select_learning_rates`): for each ``(model, alpha, seed, init)``
the run with the lowest *validation* error (images held out of the training
set, :func:`kr.experiments.realdata.training.split_validation`) among the converged runs -
among all non-diverged runs when none converged, and the choice is then
marked not converged.  Its *test* error is the reported result.

>>> learning_rate(0.2, alpha=10.0, power=2)
0.002
>>> lr_grid({"c": [1.0, 0.2], "alpha_power": 2}, alpha=0.5)
[4.0, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kr.experiments.realdata.plan import (
    CIFAR_INITS,
    DATASET_TABLES,
    DEFAULT_INIT,
    MODELS,
    NON_GRID_DEFAULTS,
    model_section,
)

__all__ = [
    "CIFAR_INITS",
    "DATASET_TABLES",
    "MODELS",
    "learning_rate",
    "lr_floor",
    "lr_grid",
    "mark_selected_runs",
    "run_summary",
    "select_learning_rates",
    "train_spec",
]

SELECTION_KEYS = ["dataset", "model", "alpha", "seed", "init"]


def with_init(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with an ``init`` column (``"he"`` where absent: tables written before the init switch)."""
    if "init" not in df.columns:
        return df.assign(init=DEFAULT_INIT)
    return df.assign(init=df["init"].fillna(DEFAULT_INIT))


def learning_rate(c: float, alpha: float, power: float, floor: float = 0.0) -> float:
    """``lr = c / max(alpha, floor)^power`` (see the module docstring), rounded to 12 significant digits.

    >>> learning_rate(0.01, 2.0, 16, floor=1.0), learning_rate(0.01, 0.5, 16, floor=1.0)
    (1.52587890625e-07, 0.01)
    """
    if not (c > 0 and alpha > 0 and math.isfinite(c * alpha)):
        raise ValueError(f"need c > 0 and alpha > 0, got c={c!r}, alpha={alpha!r}")
    if not floor >= 0:
        raise ValueError(f"need alpha_floor >= 0, got {floor!r}")
    return float(f"{c / max(alpha, floor) ** power:.12g}")


def lr_floor(spec: Mapping[str, Any]) -> float:
    """``alpha_floor`` of an ``lr`` spec (absent: 0, i.e. ``c / alpha^alpha_power`` at every alpha)."""
    return float(spec.get("alpha_floor", 0.0))


def lr_grid(spec: Mapping[str, Any], alpha: float) -> list[float]:
    """The learning rates tried at ``alpha``: ``c / max(alpha, alpha_floor)^alpha_power`` for each ``c``."""
    return [learning_rate(float(c), alpha, float(spec["alpha_power"]), lr_floor(spec)) for c in spec["c"]]


def train_spec(section: Mapping[str, Any], model: str, alpha: float, c: float, seed: int,
               progress: bool = True) -> Any:
    """The :class:`kr.experiments.realdata.training.TrainSpec` of one run from its config section."""
    from kr.experiments.realdata.training import TrainSpec

    s = model_section(section, model)
    return TrainSpec(
        lr=learning_rate(c, alpha, float(s["lr"]["alpha_power"]), lr_floor(s["lr"])),
        batch_size=int(s["batch_size"]),
        max_epochs=int(s["max_epochs"]),
        seed=int(seed),
        stop_at_fit=bool(s["stop_at_fit"]),
        eval_every=int(s["eval_every"]),
        eval_batch_size=int(s["eval_batch_size"]),
        plateau_rtol=s.get("plateau_rtol") if model == "output" else None,
        plateau_window=int(s.get("plateau_window", 5)),
        chance_window=None if s.get("chance_window") is None else int(s["chance_window"]),
        checkpoint_every=int(s["checkpoint_every"]),
        device=str(s["device"]),
        tf32=bool(s["tf32"]),
        progress=progress,
    )


def build_model(dataset: str, section: Mapping[str, Any], model: str, alpha: float, seed: int,
                image_shape: Sequence[int], n_classes: int, init: str = DEFAULT_INIT) -> Any:
    """The network of one run (MLP for MNIST, VGG11-like for CIFAR-10), frozen for ``model="output"``.

    MNIST reads ``init_scale`` and ``bias`` from ``section`` (absent: the
    defaults); CIFAR-10 takes ``init`` ``"he"`` or ``"centred"``
    (:data:`CIFAR_INITS`).
    """
    from kr.experiments.realdata.models import centred, mlp, output_layer_only, vgg11

    c, h, w = (int(v) for v in image_shape)
    if dataset == "mnist":
        net = mlp(c * h * w, int(section["width"]), n_classes, alpha, seed, init=init,
                  init_scale=str(section.get("init_scale", NON_GRID_DEFAULTS["init_scale"])),
                  bias=bool(section.get("bias", NON_GRID_DEFAULTS["bias"])))
    elif dataset == "cifar":
        if init not in CIFAR_INITS:
            raise ValueError(f"the CIFAR-10 network takes init {' or '.join(map(repr, CIFAR_INITS))}, got {init!r}")
        if h != w:
            raise ValueError(f"CIFAR images must be square, got {h}x{w}")
        net = vgg11(c, n_classes, alpha, seed, width=float(section["width_multiplier"]), image_size=h)
        if init == "centred":
            net = centred(net)
    else:
        raise ValueError(f"unknown dataset {dataset!r} (expected 'mnist' or 'cifar')")
    return output_layer_only(net) if model == "output" else net


def run_summary(records: pd.DataFrame) -> pd.DataFrame:
    """The last evaluated epoch of each run (run tables concatenated): one row per run."""
    keys = SELECTION_KEYS + ["lr_c"]
    last = with_init(records).sort_values("epoch").groupby(keys, sort=True).tail(1)
    return last.sort_values(keys).reset_index(drop=True)


def mark_selected_runs(curves: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """``curves`` (per-epoch rows of every run) with ``selected``: the run's lr was chosen.

    >>> keys = dict(dataset="cifar", model="full", alpha=1.0, seed=0, init="he")
    >>> curves = pd.DataFrame({**keys, "lr_c": [0.1, 0.1, 1.0], "epoch": [1, 2, 1]})
    >>> chosen = pd.DataFrame({**keys, "lr_c": [0.1, 1.0], "selected": [True, False]})
    >>> mark_selected_runs(curves, chosen)["selected"].tolist()
    [True, True, False]
    """
    keys = SELECTION_KEYS + ["lr_c"]
    chosen = with_init(chosen)
    picked = chosen.loc[chosen["selected"].astype(bool), keys].assign(selected=True)
    out = with_init(curves).merge(picked, on=keys, how="left")
    out["selected"] = out["selected"].fillna(False).astype(bool)
    return out


def select_learning_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """Mark with ``selected`` the run of each ``(dataset, model, alpha, seed, init)`` with the best validation error.

    ``runs``: one row per run (:func:`run_summary`) with ``val_error``,
    ``converged``, ``diverged``.  Converged runs are preferred; ties go to the
    lower training loss, then the smaller lr.  A group with several candidates
    but no validation error is an error.

    >>> runs = pd.DataFrame({"dataset": "mnist", "model": "full", "alpha": 1.0, "seed": 0, "init": "he",
    ...     "lr_c": [1.0, 0.2, 0.05], "lr": [1.0, 0.2, 0.05], "val_error": [0.02, 0.01, 0.015],
    ...     "train_loss": 0.0, "converged": [True, False, True], "diverged": False})
    >>> select_learning_rates(runs)["selected"].tolist()
    [False, False, True]
    """
    out = with_init(runs)
    out["selected"] = False
    for _, g in out.groupby(SELECTION_KEYS, sort=False):
        ok = g[~g["diverged"].astype(bool)]
        if not len(ok):
            ok = g
        conv = ok[ok["converged"].astype(bool)]
        pool = conv if len(conv) else ok
        if len(g) > 1 and pool["val_error"].isna().all():
            raise ValueError(f"cannot select among {len(g)} learning rates without a validation error "
                             f"({dict(zip(SELECTION_KEYS, g.iloc[0][SELECTION_KEYS]))})")
        best = pool.assign(_v=pool["val_error"].fillna(np.inf), _l=pool["train_loss"].fillna(np.inf)) \
                   .sort_values(["_v", "_l", "lr"], kind="stable").index[0]
        out.loc[best, "selected"] = True
    return out


def scale_note(meta: Mapping[str, Any]) -> str:
    """The data set's human-readable scale note (from the prepared data's provenance)."""
    params = meta.get("parameters", {})
    return str(params.get("scale") or params.get("source") or "scale not recorded")


def load_data(path: str, section: Mapping[str, Any], device: str) -> tuple[Any, dict[str, Any]]:
    """The prepared data set at ``path`` (rule ``data_prepare``) as device tensors, and its provenance.

    ``section["validation"]`` training images (fixed by ``validation_seed``)
    are held out for learning-rate selection; ``train_subset`` (when set)
    keeps only that many of the remaining training images, ``test_subset``
    that many test images.
    """
    from kr.results import read_arrays
    from kr.experiments.realdata.training import prepare_data, split_validation

    arrays, meta = read_arrays(path)
    missing = {"train_x", "train_y", "test_x", "test_y"} - set(arrays)
    if missing:
        raise ValueError(f"{path} lacks arrays {sorted(missing)}; was it written by rule data_prepare?")
    tx, ty, vx, vy = split_validation(arrays["train_x"], arrays["train_y"], int(section["validation"]),
                                      int(section["validation_seed"]))
    if section.get("train_subset"):
        tx, ty = tx[: int(section["train_subset"])], ty[: int(section["train_subset"])]
    ex, ey = arrays["test_x"], arrays["test_y"]
    if section.get("test_subset"):
        ex, ey = ex[: int(section["test_subset"])], ey[: int(section["test_subset"])]
    data = prepare_data(tx, ty, ex, ey, val_x=vx if len(vy) else None, val_y=vy if len(vy) else None,
                        device=device)
    info = {"n_train": len(ty), "n_val": len(vy), "n_test": len(ey),
            "n_classes": int(max(ty.max(), ey.max()) + 1), "image_shape": list(tx.shape[1:]),
            "scale": scale_note(meta), "data_source": str(meta.get("parameters", {}).get("source", "")),
            "data_code_version": meta.get("code_version", ""), "normalisation_mean": list(data.mean),
            "normalisation_std": list(data.std)}
    return data, info


def run_training(dataset: str, section: Mapping[str, Any], model: str, alpha: float, c: float, seed: int, *,
                 data_path: str, checkpoint: str | None = None, progress: bool = True, init: str = DEFAULT_INIT
                 ) -> tuple[pd.DataFrame, dict[str, Any], Any]:
    """Train one run; return its table (one row per evaluated epoch), its parameters, the TrainResult.

    The checkpoint (when given) is resumed from if it matches this run.
    The table records ``init`` (and for MNIST ``init_scale``, ``bias``).
    """
    from kr.experiments.realdata.training import train

    s = model_section(section, model)
    spec = train_spec(section, model, alpha, c, seed, progress=progress)
    data, info = load_data(data_path, s, spec.device)
    net = build_model(dataset, s, model, alpha, seed, info["image_shape"], info["n_classes"], init=init)
    size = {"width": s["width"]} if dataset == "mnist" else {"width_multiplier": s["width_multiplier"]}
    if dataset == "mnist":
        size |= {"init_scale": str(s.get("init_scale", NON_GRID_DEFAULTS["init_scale"])),
                 "bias": bool(s.get("bias", NON_GRID_DEFAULTS["bias"]))}
    run = {"dataset": dataset, "model": model, "init": init, "alpha": float(alpha), "lr_c": float(c), "lr": spec.lr,
           "lr_alpha_power": float(s["lr"]["alpha_power"]), "lr_alpha_floor": lr_floor(s["lr"]), "seed": int(seed),
           **size,
           "batch_size": spec.batch_size, "max_epochs": spec.max_epochs}
    fingerprint = {**run, "n_train": info["n_train"], "n_val": info["n_val"], "n_test": info["n_test"],
                   "data_source": info["data_source"]}
    res = train(net, data, spec, checkpoint=checkpoint, fingerprint=fingerprint)
    df = res.records.assign(**run, n_train=info["n_train"], n_val=info["n_val"], n_test=info["n_test"],
                            scale=info["scale"], converged=res.converged, diverged=res.diverged,
                            stop_reason=res.reason, epochs=res.epochs, device=res.device, tf32=res.tf32)
    params = {**run, **{k: v for k, v in info.items() if k != "image_shape"},
              "image_shape": info["image_shape"], "spec": dict(s) | {"claims": None},
              "resumed_from": res.resumed_from, "device": res.device, "tf32": res.tf32}
    return df, params, res


def binomial_ci(errors: int | float, n: int | float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (95% at the default ``z``) of an error rate ``errors / n``, as fractions.

    A test error measured on ``n`` images is a binomial proportion; the Wilson
    interval stays inside [0, 1] and is sensible at 0 errors.

    >>> lo, hi = binomial_ci(14, 1000)
    >>> round(lo, 4), round(hi, 4)
    (0.0084, 0.0234)
    >>> binomial_ci(0, 0)
    (nan, nan)
    """
    n = float(n)
    if not n > 0:
        return float("nan"), float("nan")
    p = float(errors) / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z * z / (4.0 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pooled_test_error(runs: pd.DataFrame) -> tuple[float, float, float, int]:
    """(error, CI low, CI high, images) of ``runs`` pooled: their misclassified test images over all of them.

    Each row's errors are ``round(test_error * n_test)``; the interval is
    :func:`binomial_ci` of the pooled count (NaN without an ``n_test`` column or rows).

    >>> pooled_test_error(pd.DataFrame({"test_error": [0.01, 0.03], "n_test": [1000, 1000]}))[0]
    0.02
    """
    if not len(runs) or "n_test" not in runs.columns:
        err = float(runs["test_error"].mean()) if len(runs) else float("nan")
        return err, float("nan"), float("nan"), 0
    n = runs["n_test"].astype(float)
    k = float(np.round(runs["test_error"].astype(float) * n).sum())
    total = int(n.sum())
    lo, hi = binomial_ci(k, total)
    return k / total, lo, hi, total
