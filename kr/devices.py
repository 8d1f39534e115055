"""Torch devices from config: ``cpu``, ``cuda``, or ``auto`` (a GPU where there is one).

Import-light: torch is imported only to resolve ``auto``/``cuda``.  The
``gpu`` resource a rule asks for is decided when the workflow is planned,
on the machine that plans it (:func:`gpu_resource`); the device itself is
resolved inside the job, on the machine that runs it (:func:`resolve_device`).

>>> resolve_device("cpu")
'cpu'
>>> gpu_resource("cpu")
0
"""

from __future__ import annotations

import os
import shutil

DEVICES = ("auto", "cpu", "cuda")
"""Allowed values of every ``device`` config key."""


def check_device(device: str, key: str = "device") -> str:
    """``device`` if allowed, else ValueError naming ``key``."""
    if device not in DEVICES:
        raise ValueError(f"{key} must be one of {', '.join(DEVICES)}, got {device!r}")
    return device


def resolve_device(device: str) -> str:
    """The torch device a job uses: ``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``.

    ``cuda`` without a GPU is an error that says how to fix it.
    """
    check_device(device)
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ValueError("device 'cuda' was requested but torch sees no CUDA device; use device: auto or cpu, "
                         "or run on a GPU node")
    return "cpu"


def gpu_resource(device: str) -> int:
    """The ``gpu`` resource of a job: 1 for ``cuda``, and for ``auto`` where an NVIDIA GPU is visible.

    On a cluster the login node planning the workflow may have no GPU while
    the compute nodes do: ``KR_GPU_NODES=1`` in the environment makes every
    ``auto`` job ask for a GPU (docs/slurm.md).
    """
    check_device(device)
    if device == "auto" and os.environ.get("KR_GPU_NODES") == "1":
        return 1
    if device == "auto":
        return int(os.path.exists(os.path.join(os.sep, "dev", "nvidiactl")) or shutil.which("nvidia-smi") is not None)
    return int(device == "cuda")
