"""The prepared GPU check: every ``device: cuda`` path, two epoch timings, one JSON.

For any machine with an NVIDIA GPU, in at most ~8 minutes:

1. the tiny workflow with every torch path on the device (diagonal GD,
   matfac direct GD, ReLU Figures 6 and 7, MNIST, CIFAR-10): it must finish,
   and every table row must record the device it ran on;
2. one full-width 60k MNIST epoch (width 5,000, batch 256) and one VGG11
   CIFAR-10 epoch (50k images, batch 128, TF32), with the project's own
   training loop (``benchmarks/realdata.py``'s ``time_epoch``);
3. one JSON with the results and the issue's targets (one H200: MNIST epoch
   <= 0.3 s, VGG11 epoch <= 2 s with TF32).

    python benchmarks/gpu_check.py                          # on a GPU node: --device cuda
    python benchmarks/gpu_check.py --device cpu --tiny      # CPU fallback (run by the test suite)

Not part of ``make test`` on a GPU: CI has none.  The CPU fallback shrinks
the epoch timings so that it cannot rot.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent

TARGETS = {"mnist_epoch_s": 0.3, "vgg11_epoch_tf32_s": 2.0}
"""Targets on one H200 (seconds per epoch)."""


def tiny_config(device: str) -> dict[str, Any]:
    """Every torch path of the workflow at toy sizes, on ``device``."""
    return {
        "figures": ["fig1a", "fig5a", "fig6a", "fig7a", "fig6c", "fig6d"],
        "diagonal": {"d": 30, "N": 12, "seeds": [0], "alpha": [0.1, 1.0],
                     "theorem3": {"depths": [3], "seeds": [0], "alpha": [1.0]},
                     "gd": {"alpha": [1.0], "seeds": [0], "depths": [2], "max_steps": 20000, "tol": 1.0e-5,
                            "device": device},
                     "fig1c": {"N": [8, 12], "depths": [2], "bisection_iterations": 4}},
        "matfac": {"d": 5, "N": 15, "seeds": [0], "k": [5], "alpha": [0.1], "max_steps": 100000, "device": device,
                   "crosscheck": {"simulators": ["direct"], "k": [5], "alpha": [0.1], "seeds": [0]},
                   "theorem4": {"d": 4, "N": 2, "mu": [0.5], "k": [10, 100], "seeds": [0]}},
        "relu": {"device": device,
                 "fig6": {"depths": [2], "seeds": [0], "width": 10, "alpha_D": [0.01, 100.0], "lr": 0.5,
                          "tol": 1.0e-4, "max_steps": 2000, "check_every": 100},
                 "fig7": {"width": 100, "alpha": [0.1, 10.0], "shapes": {"a": 1.0, "b": 0.3, "c": 0.1},
                          "tol": 1.0e-4, "max_steps": 2000, "check_every": 100, "grid_points": 51}},
        "mnist": {"device": device, "width": 32, "alpha": [1.0], "lr": {"c": [0.5], "alpha_power": 2},
                  "max_epochs": 2, "validation": 100, "train_subset": 300, "test_subset": 100, "checkpoint_every": 1,
                  "output_only": {"alpha": [1.0], "lr": {"c": [0.5], "alpha_power": 2}, "max_epochs": 2}},
        "cifar": {"device": device, "width_multiplier": 0.0625, "alpha": [1.0], "max_epochs": 2, "train_subset": 64,
                  "test_subset": 32, "checkpoint_every": 1, "output_only": {"max_epochs": 1}},
    }


def run_workflow(device: str, cores: int, timeout_s: int) -> dict[str, Any]:
    """The tiny workflow on ``device``; which devices its tables recorded."""
    from kr.results import read_table

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "gpu_check.yaml"
        cfg.write_text(yaml.safe_dump(tiny_config(device)))
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", tmp, "--cores", str(cores),
               "figures", "--configfile", str(cfg), "--workflow-profile", "none"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=tmp)
        wall = time.perf_counter() - t0
        result: dict[str, Any] = {"returncode": out.returncode, "wall_s": wall}
        if out.returncode != 0:
            result["stderr_tail"] = out.stderr[-3000:]
            return result
        devices: dict[str, list[str]] = {}
        res = Path(tmp) / "results"
        for table, pattern in (("diagonal_gd", "diagonal/gd/*.csv"), ("matfac_direct", "matfac/direct/*.csv"),
                               ("relu_fig6", "relu/fig6/*.csv"), ("relu_fig7", "relu/fig7/*.csv"),
                               ("mnist", "realdata/mnist/full/*.csv"), ("cifar", "realdata/cifar/full/*.csv")):
            seen: set[str] = set()
            for path in res.glob(pattern):
                df = read_table(path)
                meta_device = df.attrs["meta"]["parameters"].get("device")
                if "device" in df.columns:
                    seen |= set(df["device"].astype(str))
                elif meta_device:
                    seen.add(str(meta_device))
            devices[table] = sorted(seen)
        result["devices"] = devices
        result["all_on_device"] = all(d == [device] for d in devices.values()) and all(devices.values())
        return result


def time_epochs(device: str, tiny: bool) -> dict[str, Any]:
    """One MNIST epoch (60k, width 5,000) and one VGG11 epoch (50k) on ``device`` (reduced with ``tiny``)."""
    spec = importlib.util.spec_from_file_location("kr_bench_realdata", REPO / "benchmarks" / "realdata.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from kr.experiments.realdata.models import mlp, vgg11

    n_mnist, width, n_cifar, cifar_width = (2000, 200, 128, 0.125) if tiny else (60000, 5000, 50000, 1.0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n_mnist, 1, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=n_mnist).astype(np.int64)
    mnist = bench.time_epoch(mlp(784, width, 10, 1.0, 0), x, y, 256, device, tf32=True)
    x = rng.integers(0, 256, size=(n_cifar, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, 10, size=n_cifar).astype(np.int64)
    vgg = bench.time_epoch(vgg11(3, 10, 1.0, 0, width=cifar_width), x, y, 128, device, tf32=True, lr=1e-4)
    return {"mnist": {**mnist, "width": width}, "vgg11_tf32": {**vgg, "width": cifar_width}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--tiny", action="store_true", help="reduced epoch timings (the CPU fallback)")
    ap.add_argument("--cores", type=int, default=min(8, os.cpu_count() or 1))
    ap.add_argument("--timeout", type=int, default=420, help="seconds for the workflow part")
    ap.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "gpu_check.json"))
    args = ap.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: torch sees no CUDA device; use --device cpu --tiny for the CPU fallback", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    report: dict[str, Any] = {
        "device": args.device, "tiny": args.tiny, "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else "",
    }
    report["workflow"] = run_workflow(args.device, args.cores, args.timeout)
    print(f"tiny workflow on {args.device}: rc={report['workflow']['returncode']} "
          f"{report['workflow']['wall_s']:.1f} s, devices {report['workflow'].get('devices')}")
    report["epochs"] = time_epochs(args.device, args.tiny)
    m, v = report["epochs"]["mnist"]["epoch_s"], report["epochs"]["vgg11_tf32"]["epoch_s"]
    print(f"MNIST epoch {m:.3f} s, VGG11 epoch (TF32) {v:.3f} s")
    report["targets"] = TARGETS
    report["meets_targets"] = (None if args.tiny else
                               {"mnist_epoch_s": m <= TARGETS["mnist_epoch_s"],
                                "vgg11_epoch_tf32_s": v <= TARGETS["vgg11_epoch_tf32_s"]})
    report["wall_s"] = time.perf_counter() - t0
    report["ok"] = report["workflow"]["returncode"] == 0 and bool(report["workflow"].get("all_on_device"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out} ({report['wall_s']:.0f} s); ok={report['ok']}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
