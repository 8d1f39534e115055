"""Real-data networks and their training (kr.experiments.realdata.models, kr.experiments.realdata.training, kr.experiments.realdata.runs).

CPU only, offline: data are small synthetic arrays in the prepared-data format.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from kr.experiments.realdata import claims as rd_claims
from kr.experiments.realdata.plots import FIGURES
from kr.experiments.realdata.plan import check_section
from kr.experiments.realdata.runs import (build_model, learning_rate, lr_grid, run_summary, run_training,
                                          select_learning_rates, train_spec)
from kr.configuration import default_config
from kr.results import write_arrays
from kr.experiments.realdata.models import hidden_parameters, mlp, output_layer, output_layer_only, vgg11
from kr.experiments.realdata.training import TrainSpec, prepare_data, resolve_device, split_validation, train

from .conftest import REPO

torch.set_num_threads(1)


def _defaults(overrides: dict | None = None) -> dict:
    return default_config(overrides or {})


def _images(n: int, shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable synthetic images: the label is the brightest of 4 image quadrants (x2 by channel parity)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 120, size=(n, *shape), dtype=np.uint8)
    y = rng.integers(0, 4, size=n)
    c, h, w = shape
    for i, k in enumerate(y):
        r, s = divmod(int(k), 2)
        x[i, :, r * h // 2:(r + 1) * h // 2, s * w // 2:(s + 1) * w // 2] += 120
    return x, y.astype(np.int64)


def _prepared_file(path: Path, shape: tuple[int, int, int], n_train: int = 200, n_test: int = 60) -> Path:
    tx, ty = _images(n_train, shape, 0)
    ex, ey = _images(n_test, shape, 1)
    write_arrays(path, {"train_x": tx, "train_y": ty, "test_x": ex, "test_y": ey},
                 {"source": "synthetic", "scale": "synthetic test data"}, converged=True)
    return path


def _data(n: int = 128, shape: tuple[int, int, int] = (1, 8, 8), label_noise: float = 0.0):
    tx, ty = _images(n, shape, 0)
    flip = np.random.default_rng(2).random(n) < label_noise  # random labels: fitting them takes memorisation
    ty = np.where(flip, np.random.default_rng(3).integers(0, 4, n), ty)
    ex, ey = _images(64, shape, 1)
    return prepare_data(tx, ty, ex, ey, val_x=ex[:32], val_y=ey[:32], device="cpu")


# --------------------------------------------------------------------------- #
# models
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("alpha", [0.01, 0.37, 3.0, 50.0])
def test_alpha_scales_initial_weights_exactly(alpha: float) -> None:
    x = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for make, degree in ((lambda a: mlp(3 * 32 * 32, 40, 10, a, seed=3), 2),
                         (lambda a: vgg11(3, 10, a, seed=3, width=1 / 16), 9)):
        ref, net = make(1.0), make(alpha)
        for p0, p in zip(ref.parameters(), net.parameters()):
            assert torch.equal(p, alpha * p0)  # bitwise: w = alpha * w0, same w0
        # a homogeneous net: initial outputs scale like alpha^degree (up to float32 rounding)
        with torch.no_grad():
            want = alpha**degree * ref(x)
            torch.testing.assert_close(net(x), want, rtol=1e-4, atol=1e-4 * want.abs().max().item())


def test_he_initialisation_statistics() -> None:
    net = mlp(784, 4000, 10, alpha=1.0, seed=0)
    w1, w2 = net[1].weight, net[3].weight
    assert abs(w1.std().item() / math.sqrt(2 / 784) - 1) < 0.01
    assert abs(w2.std().item() / math.sqrt(2 / 4000) - 1) < 0.05
    assert abs(w1.mean().item()) < 1e-3
    vgg = vgg11(3, 10, alpha=1.0, seed=0, width=0.25)
    convs = [m for m in vgg if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 64, 128, 128, 128, 128]
    assert all(c.bias is None for c in convs) and output_layer(vgg).bias is None
    for conv in convs[2:]:
        fan_in = conv.in_channels * 9
        bound = math.sqrt(6 / fan_in)
        assert conv.weight.abs().max().item() <= bound
        assert abs(conv.weight.var().item() / (2 / fan_in) - 1) < 0.1  # uniform He: variance 2/fan_in
    # different seeds give different weights, the same seed the same
    assert not torch.equal(mlp(4, 3, 2, 1.0, 0)[1].weight, mlp(4, 3, 2, 1.0, 1)[1].weight)
    assert torch.equal(vgg11(3, 10, 1.0, 5, width=1 / 16)[0].weight, vgg11(3, 10, 1.0, 5, width=1 / 16)[0].weight)


def test_bad_model_arguments() -> None:
    with pytest.raises(ValueError, match="alpha"):
        mlp(4, 3, 2, alpha=0.0, seed=0)
    with pytest.raises(ValueError, match="alpha"):
        vgg11(3, 10, alpha=float("nan"), seed=0)
    with pytest.raises(ValueError, match="image_size"):
        vgg11(3, 10, alpha=1.0, seed=0, image_size=28)


# --------------------------------------------------------------------------- #
# training
# --------------------------------------------------------------------------- #
def test_output_layer_only_training_leaves_hidden_weights_unchanged() -> None:
    data = _data()
    for net in (mlp(64, 32, 4, alpha=1.0, seed=0),
                vgg11(1, 4, alpha=1.0, seed=0, width=1 / 32, image_size=32)):
        d = data if isinstance(net[0], torch.nn.Flatten) else _data(shape=(1, 32, 32))
        output_layer_only(net)
        hidden0 = [p.detach().clone() for p in hidden_parameters(net)]
        out0 = output_layer(net).weight.detach().clone()
        res = train(net, d, TrainSpec(lr=0.1, batch_size=32, max_epochs=3, stop_at_fit=False, device="cpu",
                                      progress=False))
        assert len(res.records) == 3
        assert all(torch.equal(a, b) for a, b in zip(hidden0, hidden_parameters(net)))
        assert not torch.equal(out0, output_layer(net).weight)


def test_training_fits_and_records() -> None:
    data = _data(label_noise=0.3)
    res = train(mlp(64, 128, 4, alpha=0.3, seed=0), data,
                TrainSpec(lr=0.05, batch_size=16, max_epochs=200, device="cpu", progress=False))
    assert len(res.records) > 3
    assert res.converged and res.reason == "fit" and not res.diverged
    rec = res.records
    assert rec["train_acc"].iloc[-1] == 1.0 and (rec["train_acc"].iloc[:-1] < 1.0).all()  # stops at first fit
    assert list(rec["epoch"]) == list(range(1, len(rec) + 1))
    assert rec["val_error"].notna().all() and rec["test_error"].between(0, 1).all()
    assert rec["train_loss"].iloc[-1] < rec["train_loss"].iloc[0]
    assert res.device == "cpu" and res.tf32 is False


def test_same_seed_same_run_and_divergence() -> None:
    data = _data()
    spec = TrainSpec(lr=0.1, batch_size=32, max_epochs=4, stop_at_fit=False, device="cpu", progress=False)
    a = train(mlp(64, 32, 4, 1.0, seed=1), data, spec).records.drop(columns="elapsed_s")
    b = train(mlp(64, 32, 4, 1.0, seed=1), data, spec).records.drop(columns="elapsed_s")
    pd.testing.assert_frame_equal(a, b)
    bad = train(mlp(64, 32, 4, 50.0, seed=1), data, TrainSpec(lr=1e6, batch_size=32, max_epochs=20, device="cpu",
                                                              progress=False))
    assert bad.diverged and not bad.converged and bad.reason == "diverged" and bad.epochs < 20


def test_output_only_plateau_counts_as_converged() -> None:
    data = _data(label_noise=0.3)
    net = output_layer_only(mlp(64, 4, 4, alpha=1.0, seed=0))  # 4 random features cannot fit the data
    res = train(net, data, TrainSpec(lr=0.5, batch_size=128, max_epochs=400, plateau_rtol=1e-3, plateau_window=5,
                                     device="cpu", progress=False))
    assert res.reason == "plateau" and res.converged and res.records["train_acc"].iloc[-1] < 1.0
    assert res.epochs < 400


class _Interrupt(Exception):
    pass


def test_checkpoint_resume_identical_to_uninterrupted(tmp_path: Path) -> None:
    data = _data()
    spec = TrainSpec(lr=0.05, batch_size=16, max_epochs=9, stop_at_fit=False, checkpoint_every=2, device="cpu",
                     progress=False)
    full_net = mlp(64, 32, 4, alpha=2.0, seed=0)
    full = train(full_net, data, spec)
    assert full.resumed_from == 0

    ckpt = tmp_path / "run.pt"

    def stop_after_5(epoch: int) -> None:
        if epoch == 5:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(mlp(64, 32, 4, alpha=2.0, seed=0), data, spec, checkpoint=ckpt, on_epoch_end=stop_after_5)
    assert ckpt.exists() and not list(tmp_path.glob("*.tmp"))
    net = mlp(64, 32, 4, alpha=2.0, seed=0)
    resumed = train(net, data, spec, checkpoint=ckpt)
    assert resumed.resumed_from == 4  # the last checkpoint before the interruption
    pd.testing.assert_frame_equal(full.records.drop(columns="elapsed_s"), resumed.records.drop(columns="elapsed_s"))
    for a, b in zip(full_net.parameters(), net.parameters()):
        assert torch.equal(a, b)

    # a checkpoint of another run (other lr) is not resumed from
    other = train(mlp(64, 32, 4, alpha=2.0, seed=0), data,
                  TrainSpec(**{**spec.__dict__, "lr": 0.01}), checkpoint=ckpt)
    assert other.resumed_from == 0


def test_resume_after_kill(tmp_path: Path) -> None:
    """A process killed by SIGKILL after checkpoint 3 resumes to the uninterrupted result."""
    arrays = _prepared_file(tmp_path / "mnist.npz", (1, 8, 8))
    section = _defaults({"mnist": {"width": 32, "validation": 40, "max_epochs": 7, "stop_at_fit": False,
                                   "checkpoint_every": 1, "device": "cpu"}})["mnist"]
    (tmp_path / "section.yaml").write_text(yaml.safe_dump(section))
    ckpt = tmp_path / "ckpt.pt"
    script = textwrap.dedent(f"""
        import os, signal, yaml, torch
        import kr.experiments.realdata.training as vt
        from kr.experiments.realdata.runs import run_training
        torch.set_num_threads(1)
        real = vt.train
        def killer(epoch):
            if epoch == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        vt.train = lambda *a, **k: real(*a, **k, on_epoch_end=killer)
        import kr.experiments.realdata.runs
        section = yaml.safe_load(open({str(tmp_path / 'section.yaml')!r}))
        run_training("mnist", section, "full", 2.0, 0.2, 0, data_path={str(arrays)!r},
                     checkpoint={str(ckpt)!r}, progress=False)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert ckpt.exists()
    df, params, res = run_training("mnist", section, "full", 2.0, 0.2, 0, data_path=str(arrays),
                                   checkpoint=str(ckpt), progress=False)
    assert res.resumed_from == 3 and params["resumed_from"] == 3
    ref, _, ref_res = run_training("mnist", section, "full", 2.0, 0.2, 0, data_path=str(arrays), progress=False)
    assert ref_res.resumed_from == 0
    pd.testing.assert_frame_equal(df.drop(columns="elapsed_s"), ref.drop(columns="elapsed_s"))


def test_spec_and_device_errors() -> None:
    with pytest.raises(ValueError, match="lr"):
        TrainSpec(lr=0.0, batch_size=1, max_epochs=1)
    with pytest.raises(ValueError, match="device"):
        TrainSpec(lr=0.1, batch_size=1, max_epochs=1, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")
        assert resolve_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="uint8"):
        prepare_data(np.zeros((2, 1, 4, 4)), np.zeros(2, int), np.zeros((2, 1, 4, 4), np.uint8), np.zeros(2, int))
    with pytest.raises(ValueError, match="validation size"):
        split_validation(np.zeros((5, 1)), np.zeros(5), 5)


# --------------------------------------------------------------------------- #
# config -> runs -> selection
# --------------------------------------------------------------------------- #
def test_learning_rate_grid_and_selection() -> None:
    assert learning_rate(1.0, 50.0, 2) == 4e-4
    assert lr_grid({"c": [1e-4], "alpha_power": 0}, alpha=7.0) == [1e-4]
    runs = pd.DataFrame({
        "dataset": "mnist", "model": "full", "seed": 0,
        "alpha": [1.0, 1.0, 1.0, 50.0, 50.0],
        "lr_c": [1.0, 0.2, 5.0, 1.0, 5.0], "lr": [1.0, 0.2, 5.0, 4e-4, 2e-3],
        "val_error": [0.03, 0.02, np.nan, 0.2, 0.1],
        "train_loss": [0.0, 0.0, np.nan, 1.0, 2.0],
        "converged": [True, True, False, False, False], "diverged": [False, False, True, False, False],
    })
    sel = select_learning_rates(runs)
    assert sel.loc[sel["selected"], "lr_c"].tolist() == [0.2, 5.0]  # best converged; best non-diverged
    with pytest.raises(ValueError, match="validation"):
        select_learning_rates(runs.assign(val_error=np.nan))
    bad = _defaults({"cifar": {"validation": 0, "lr": {"c": [1e-4, 1e-3], "alpha_power": 0}}})["cifar"]
    with pytest.raises(ValueError, match="validation"):
        check_section("cifar", bad)


def test_run_training_both_datasets(tmp_path: Path) -> None:
    cfg = _defaults({
        "mnist": {"width": 16, "validation": 40, "max_epochs": 2, "device": "cpu", "output_only": {"max_epochs": 2}},
        "cifar": {"width_multiplier": 1 / 32, "max_epochs": 2, "device": "cpu", "train_subset": 64,
                  "output_only": {"max_epochs": 2}},
    })
    for name, shape in (("mnist", (1, 8, 8)), ("cifar", (3, 32, 32))):
        path = _prepared_file(tmp_path / f"{name}.npz", shape)
        for model in ("full", "output"):
            df, params, res = run_training(name, cfg[name], model, 2.0, 0.1, 0, data_path=str(path), progress=False)
            assert len(df) == 2 and (df["model"] == model).all() and (df["alpha"] == 2.0).all()
            assert params["scale"] == "synthetic test data" and (df["scale"] == "synthetic test data").all()
            expected_power = cfg[name]["lr"]["alpha_power"] if model == "full" else \
                cfg[name]["output_only"]["lr"]["alpha_power"]
            assert params["lr"] == pytest.approx(0.1 / 2.0**expected_power)
            assert params["n_train"] == (160 if name == "mnist" else 64)
            assert params["n_val"] == (40 if name == "mnist" else 0)
            summary = run_summary(df)
            assert len(summary) == 1 and summary["epoch"].iloc[0] == 2
    spec = train_spec(cfg["mnist"], "output", 1.0, 0.2, 0)
    assert spec.plateau_rtol == cfg["mnist"]["output_only"]["plateau_rtol"]
    net = build_model("mnist", cfg["mnist"], "output", 1.0, 0, (1, 8, 8), 10)
    assert [p.requires_grad for p in net.parameters()] == [False, True]


# --------------------------------------------------------------------------- #
# claims and figures on hand-made tables
# --------------------------------------------------------------------------- #
def _table(errors: dict[float, float], output_error: float, converged: bool = True) -> pd.DataFrame:
    rows = [{"dataset": "mnist", "model": "full", "alpha": a, "seed": 0, "lr_c": 1.0, "lr": 1.0 / a**2,
             "test_error": e, "val_error": e, "train_acc": 1.0, "train_loss": 1e-3, "epochs": 10,
             "converged": converged, "diverged": False, "selected": True, "scale": "toy"}
            for a, e in errors.items()]
    rows.append({**rows[0], "model": "output", "alpha": 1.0, "test_error": output_error, "train_acc": 0.9,
                 "converged": True})
    rows.append({**rows[0], "lr_c": 5.0, "test_error": 0.5, "selected": False})  # a candidate not selected
    return pd.DataFrame(rows)


def test_claims_follow_the_tables() -> None:
    th = {**_defaults()["mnist"]["claims"], **_defaults()["cifar"]["claims"]}
    by_id = {c.claim_id: c for c in rd_claims.CLAIMS}
    good = _table({0.5: 0.014, 2.0: 0.015, 10.0: 0.02, 50.0: 0.024}, output_error=0.027)
    m = by_id["mnist-small-alpha-better"].check({"mnist": good}, th)
    assert m.reproduced and m.value == pytest.approx(2.4 - 1.45)
    assert "1.4%" in m.detail and "toy" in m.detail  # paper numbers and scale beside ours
    assert by_id["mnist-large-alpha-kernel-like"].check({"mnist": good}, th).reproduced
    assert by_id["mnist-all-fit"].check({"mnist": good}, th).value == 1.0
    flipped = _table({0.5: 0.03, 2.0: 0.03, 50.0: 0.01}, output_error=0.027)
    assert not by_id["mnist-small-alpha-better"].check({"mnist": flipped}, th).reproduced
    assert not by_id["mnist-large-alpha-kernel-like"].check({"mnist": flipped}, th).reproduced
    unfit = _table({0.5: 0.014, 50.0: 0.024}, output_error=0.027, converged=False)
    m = by_id["mnist-all-fit"].check({"mnist": unfit}, th)
    assert not m.reproduced and m.value == 0.0
    assert not by_id["mnist-small-alpha-better"].check({"mnist": unfit}, th).reproduced  # nothing converged

    def curves(epochs_to_fit: dict[float, int]) -> pd.DataFrame:
        rows = [{"alpha": a, "seed": 0, "model": "full", "selected": True, "epoch": e, "scale": "toy",
                 "train_loss": 1.0 if e < k else 0.01, "converged": True}
                for a, k in epochs_to_fit.items() for e in range(1, 11)]
        return pd.DataFrame(rows)

    m = by_id["fig8-small-alpha-slower"].check({"cifar_curves": curves({0.5: 8, 1.0: 5, 2.0: 2})}, th)
    assert m.reproduced and m.value == 6
    assert not by_id["fig8-small-alpha-slower"].check({"cifar_curves": curves({0.5: 2, 1.0: 5})}, th).reproduced
    never = curves({0.5: 99, 1.0: 5})
    assert by_id["fig8-small-alpha-slower"].check({"cifar_curves": never}, th).value == np.inf


def test_figures_draw_converged_and_mark_the_rest() -> None:
    table = _table({0.5: 0.014, 2.0: 0.015, 50.0: 0.024}, output_error=0.027)
    table.loc[table["alpha"] == 50.0, "converged"] = False
    fig = FIGURES["fig6c"]({"mnist": table})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "not converged" in labels and any("output layer only" in s for s in labels)
    assert ax.get_xscale() == "log"
    assert any("toy" in t.get_text() for t in fig.texts)  # the scale note
    matplotlib.pyplot.close(fig)
    curves = pd.DataFrame([{"alpha": a, "seed": 0, "model": m, "selected": True, "epoch": e, "train_loss": 1.0 / e,
                            "train_acc": min(1.0, e / 5), "converged": a != 0.5, "scale": "toy"}
                           for a, m in ((0.5, "full"), (1.0, "full"), (1.0, "output")) for e in range(1, 6)])
    fig = FIGURES["fig8"]({"cifar_curves": curves})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "alpha=0.5 (not converged)" in labels and "alpha=1" in labels and "output layer only" in labels
    matplotlib.pyplot.close(fig)
