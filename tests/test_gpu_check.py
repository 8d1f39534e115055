"""The prepared GPU check's CPU fallback runs, so the script cannot rot (no GPU in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def test_gpu_check_cpu_fallback(tmp_path: Path) -> None:
    out_json = tmp_path / "gpu_check.json"
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--tiny",
                          "--cores", "2", "--out", str(out_json)], capture_output=True, text=True, timeout=900,
                         cwd=REPO)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    report = json.loads(out_json.read_text())
    assert report["ok"] and report["workflow"]["returncode"] == 0
    assert set(report["workflow"]["devices"]) == {"diagonal_gd", "matfac_direct", "relu_fig6", "relu_fig7",
                                                  "mnist", "cifar"}
    assert all(d == ["cpu"] for d in report["workflow"]["devices"].values())
    assert report["epochs"]["mnist"]["epoch_s"] > 0 and report["epochs"]["vgg11_tf32"]["epoch_s"] > 0
