"""Benchmark: training throughput of the real-data networks (issue 6 "GPU check").

1. One SGD epoch of the MNIST network (width 5,000, 60,000 images, batch 256)
   on synthetic uint8 tensors of MNIST's shape, data on the device.
2. One SGD epoch of the VGG11-like CIFAR-10 network (width x1, 50,000 images,
   batch 128) on synthetic tensors of CIFAR's shape, with TF32 on and off (CUDA).
3. A short real-data MNIST training from a mirror copy of the original files
   (``<mirror>/MNIST/raw/*.gz``, MD5-checked by kr.experiments.realdata.datasets): a few epochs of
   the full pipeline (kr.experiments.realdata.runs: hold-out, normalisation, exact per-epoch
   evaluation), with its test error.

Each epoch is timed with the project's own loop (kr.experiments.realdata.training.sgd_epoch,
the one kr.experiments.realdata.training.train runs) after a warm-up epoch; images/s is
training images per second of that epoch (evaluation passes are timed
separately).  Targets on one H200 (issue 6): MNIST epoch <= 0.3 s, VGG11 epoch
<= 2 s with TF32.

    PYTHONPATH=. python benchmarks/realdata.py                     # GPU: full sizes
    PYTHONPATH=. python benchmarks/realdata.py --device cpu --mnist-n 10000 \\
        --mnist-width 5000 --cifar-n 1000 --cifar-width 1.0 --real-width 1000 --real-epochs 2   # CPU, reduced
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from kr.experiments.realdata.models import mlp, vgg11
from kr.experiments.realdata.training import evaluate, prepare_data, resolve_device, sgd_epoch


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def time_epoch(model: torch.nn.Module, x_u8: np.ndarray, y: np.ndarray, batch: int, device: str,
               tf32: bool, lr: float = 1e-3) -> dict[str, float]:
    """Seconds per training epoch (second of two) and per full evaluation pass, on synthetic data."""
    data = prepare_data(x_u8, y, x_u8[:1000], y[:1000], device=device)
    dev = data.train_x.device
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = True
    model.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    sgd_epoch(model, opt, data.train_x, data.train_y, batch, gen)  # warm-up (cuDNN autotuning, allocator)
    _sync(dev)
    t0 = time.perf_counter()
    total = sgd_epoch(model, opt, data.train_x, data.train_y, batch, gen)
    float(total)
    _sync(dev)
    t_epoch = time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluate(model, data.train_x, data.train_y, 4096 if dev.type == "cuda" else 1024)
    _sync(dev)
    t_eval = time.perf_counter() - t0
    n = len(y)
    return {"epoch_s": t_epoch, "images_per_s": n / t_epoch, "train_eval_s": t_eval, "n": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--mnist-n", type=int, default=60000)
    ap.add_argument("--mnist-width", type=int, default=5000)
    ap.add_argument("--cifar-n", type=int, default=50000)
    ap.add_argument("--cifar-width", type=float, default=1.0)
    ap.add_argument("--mirror", default="", help="torchvision-layout root holding MNIST/raw/*.gz (empty: skip the real-data run)")
    ap.add_argument("--real-width", type=int, default=5000)
    ap.add_argument("--real-epochs", type=int, default=3)
    ap.add_argument("--real-alpha", type=float, default=1.0)
    ap.add_argument("--real-c", type=float, default=0.2, help="lr = c / alpha^2")
    ap.add_argument("--out", default="", help="also write the results as JSON here")
    args = ap.parse_args()

    dev = resolve_device(args.device)
    gpu = torch.cuda.get_device_name(0) if dev.type == "cuda" else ""
    print(f"device={dev.type} {gpu} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"cpu={platform.processor() or platform.machine()}")
    rng = np.random.default_rng(0)
    out: dict[str, object] = {"device": dev.type, "gpu": gpu, "torch": torch.__version__,
                              "threads": torch.get_num_threads()}

    x = rng.integers(0, 256, size=(args.mnist_n, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=args.mnist_n).astype(np.int64)
    for tf32 in ([True, False] if dev.type == "cuda" else [False]):
        r = time_epoch(mlp(784, args.mnist_width, 10, 1.0, 0), x, y, 256, dev.type, tf32)
        out[f"mnist_tf32={tf32}"] = r
        print(f"MNIST MLP width {args.mnist_width}, {args.mnist_n} images, batch 256, tf32={tf32}: "
              f"{r['epoch_s']:.3f} s/epoch, {r['images_per_s']:.0f} images/s; train-set eval {r['train_eval_s']:.3f} s")
    del x, y

    x = rng.integers(0, 256, size=(args.cifar_n, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, 10, size=args.cifar_n).astype(np.int64)
    for tf32 in ([True, False] if dev.type == "cuda" else [False]):
        r = time_epoch(vgg11(3, 10, 1.0, 0, width=args.cifar_width), x, y, 128, dev.type, tf32, lr=1e-4)
        out[f"vgg11_tf32={tf32}"] = r
        print(f"VGG11 width x{args.cifar_width:g}, {args.cifar_n} images, batch 128, tf32={tf32}: "
              f"{r['epoch_s']:.3f} s/epoch, {r['images_per_s']:.0f} images/s; train-set eval {r['train_eval_s']:.3f} s")
    del x, y

    if args.mirror:
        from kr.configuration import default_config
        from kr.experiments.realdata.datasets import load_mnist_raw
        from kr.experiments.realdata.runs import run_training
        from kr.results import write_arrays

        t0 = time.perf_counter()
        data = load_mnist_raw(Path(args.mirror) / "MNIST" / "raw")
        t_load = time.perf_counter() - t0
        cfg = default_config({"mnist": {"device": dev.type, "width": args.real_width,
                                        "max_epochs": args.real_epochs, "stop_at_fit": True,
                                        "validation": 10000, "eval_batch_size": 10000}})
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "mnist.npz"
            write_arrays(path, {k: getattr(data, k) for k in ("train_x", "train_y", "test_x", "test_y")},
                         data.meta, converged=True)
            t0 = time.perf_counter()
            df, params, res = run_training("mnist", cfg["mnist"], "full", args.real_alpha, args.real_c, 0,
                                           data_path=str(path), progress=False)
            wall = time.perf_counter() - t0
        last = df.iloc[-1]
        r = {"load_s": t_load, "wall_s": wall, "epochs": res.epochs, "train_s": float(last["elapsed_s"]),
             "images_per_s_incl_eval": params["n_train"] * res.epochs / float(last["elapsed_s"]),
             "train_acc": float(last["train_acc"]), "val_error": float(last["val_error"]),
             "test_error": float(last["test_error"]), "lr": params["lr"], "alpha": args.real_alpha,
             "width": args.real_width, "n_train": params["n_train"], "tf32": res.tf32}
        out["mnist_real"] = r
        print(f"real MNIST from {args.mirror} (load+MD5 {t_load:.1f} s): width {args.real_width}, alpha "
              f"{args.real_alpha:g}, lr {params['lr']:g}, {params['n_train']} train / 10000 val, {res.epochs} epochs "
              f"in {r['train_s']:.1f} s incl. per-epoch evaluation ({r['images_per_s_incl_eval']:.0f} images/s): "
              f"train acc {r['train_acc']:.4f}, val error {r['val_error']:.4f}, test error {r['test_error']:.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
