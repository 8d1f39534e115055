"""The data section of the config, as the workflow reads it (no numpy: rules/data.smk imports it).

A dataset's *content* is decided by its source and where that source reads
from; only those keys go into the rule's params, so changing, say, the
download root of an embedded dataset does not rerun it.

>>> cfg = {"root": "datasets", "mirror": None, "timeout_s": 20, "mnist": {"source": "embedded"}}
>>> content_spec(cfg, "mnist")
{'source': 'embedded'}
>>> content_spec({**cfg, "mnist": {"source": "download"}}, "mnist")
{'source': 'download', 'root': 'datasets'}
>>> content_spec({**cfg, "mnist": {"source": "mirror"}}, "mnist")
Traceback (most recent call last):
...
ValueError: data.mnist.source is 'mirror' but data.mirror is not set: give the root of a torchvision-layout copy, e.g. --config 'data={mirror: /datasets/torchvision}'
>>> embedded_inputs(cfg | {"cifar10": {"source": "embedded"}}, "cifar10", "/repo")
{'embedded': '/repo/data/cifar10_mini.npz'}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DATASETS = ("mnist", "cifar10")
SOURCES = ("embedded", "download", "mirror")

#: Sub-folder of a torchvision root that holds each dataset's files.
SUBDIRS: Mapping[str, str] = {"mnist": "MNIST/raw", "cifar10": "cifar-10-batches-py"}

#: The shipped mini CIFAR-10, relative to the repository root.
EMBEDDED_FILES: Mapping[str, str] = {"cifar10": os.path.join("data", "cifar10_mini.npz")}


def content_spec(data_config: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The keys of config ``data`` that decide ``dataset``'s arrays (the rule's params)."""
    source = data_config[dataset]["source"]
    spec: dict[str, Any] = {"source": source}
    if source == "download":
        spec["root"] = data_config["root"]
    elif source == "mirror":
        if not data_config.get("mirror"):
            raise ValueError(
                f"data.{dataset}.source is 'mirror' but data.mirror is not set: give the root of a "
                "torchvision-layout copy, e.g. --config 'data={mirror: /datasets/torchvision}'"
            )
        spec["mirror"] = data_config["mirror"]
    return spec


def embedded_inputs(data_config: Mapping[str, Any], dataset: str, basedir: str) -> dict[str, str]:
    """``{"embedded": path}`` when ``dataset`` comes from a file shipped in the repository, else ``{}``."""
    if data_config[dataset]["source"] == "embedded" and dataset in EMBEDDED_FILES:
        return {"embedded": os.path.join(basedir, EMBEDDED_FILES[dataset])}
    return {}


#: Training images of each (dataset, source): the embedded subsets, or the full sets.
TRAIN_SIZES: Mapping[tuple[str, str], int] = {
    ("mnist", "embedded"): 4000, ("mnist", "download"): 60000, ("mnist", "mirror"): 60000,
    ("cifar10", "embedded"): 820, ("cifar10", "download"): 50000, ("cifar10", "mirror"): 50000,
}


def check_source(data_config: Mapping[str, Any], dataset: str) -> None:
    """Start-up check of one dataset's source: a mirror must be set and be an existing folder."""
    content_spec(data_config, dataset)
    if data_config[dataset]["source"] == "mirror":
        folder = os.path.join(str(data_config["mirror"]), SUBDIRS[dataset])
        if not os.path.isdir(str(data_config["mirror"])):
            raise ValueError(f"data.mirror = {data_config['mirror']!r} is not an existing directory "
                             f"(data.{dataset}.source is 'mirror'); point it at a torchvision-layout root")
        if not os.path.isdir(folder):
            raise ValueError(f"data.mirror = {data_config['mirror']!r} has no {SUBDIRS[dataset]}/ folder "
                             f"for data.{dataset}.source 'mirror'")
