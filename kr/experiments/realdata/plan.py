"""Job planning of rules/realdata.smk: paths, grids and job params from a config section.

Import-light (no numpy, no torch): the Snakefile imports it at start-up.

>>> run_path("results", "mnist", "full", 2.0, 0.2, 0)
'results/realdata/mnist/full/a2_c0.2_s0.csv'
>>> run_path("results", "mnist", "full", 2.0, 0.2, 0, "paired")
'results/realdata/mnist/full/a2_c0.2_s0_paired.csv'

The initialisation (``mnist.init``, a grid like alpha: one name or a list) is
part of every run's path; the default ``he`` keeps the paths (and the job
params) the runs had before the switch existed, so the quick preset's jobs
and results are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kr.grids import value_id

MODELS = ("full", "output")
"""``full``: every layer trained; ``output``: only the output layer (hidden layers frozen at init)."""

DEFAULT_INIT = "he"
"""The paper's initialisation (independent He draws); its runs' paths carry no init suffix."""

CIFAR_INITS = ("he", "centred")
"""Initialisations of the CIFAR-10 network (``cifar.init``): uniform He x alpha, or its centred version."""

NON_GRID_DEFAULTS = {"init_scale": "std", "bias": False, "chance_window": None}
"""Section keys left out of a training job's params while at these values (see :func:`run_params`)."""

DATASET_TABLES = {"mnist": "mnist", "cifar": "cifar"}
"""Config section / dataset -> its result table (kr.experiments.realdata.EXPERIMENT.tables)."""


def model_section(section: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The settings of ``model`` runs: the section itself, or its ``output_only`` overrides."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "full":
        return dict(section)
    out = dict(section)
    out.update({k: v for k, v in section["output_only"].items() if k != "enabled"})
    return out

def check_section(name: str, section: Mapping[str, Any]) -> None:
    """Errors the schema cannot express, raised before any job runs."""
    for model in MODELS:
        if model == "output" and not section["output_only"]["enabled"]:
            continue
        s = model_section(section, model)
        if int(s["validation"]) == 0 and len(s["lr"]["c"]) > 1:
            raise ValueError(f"{name}: {len(s['lr']['c'])} learning rates to choose from but validation is 0; "
                             f"hold out images (`{name}.validation`) or give one lr constant")
        key = f"{name}.init" if model == "full" else f"{name}.output_only.init"
        if len(set(inits(s))) != len(inits(s)):
            raise ValueError(f"{key} = {s.get('init')!r} lists an initialisation twice")
        if model == "output" and not set(inits(s)) <= set(inits(section)):
            raise ValueError(f"{key} = {s.get('init')!r} must be among {name}.init = {section.get('init')!r}: "
                             "the ledger compares the kernel proxy with the full net of the same init")
        if "paired" in inits(s) and int(s.get("width", 0)) % 2:
            raise ValueError(f"{key} = {s.get('init')!r}: init 'paired' needs an even {name}.width "
                             f"(hidden units come in pairs), got {s.get('width')}")

def gpu_resource(section: Mapping[str, Any]) -> int:
    """The `gpu` resource of a training job (:func:`kr.devices.gpu_resource` of its device)."""
    from kr.devices import gpu_resource as _gpu

    return _gpu(str(section["device"]))


def inits(section: Mapping[str, Any]) -> list[str]:
    """The initialisations of a (model) section's grid: ``init`` as a list (absent: ``["he"]``).

    >>> inits({"init": "paired"}), inits({"init": ["he", "paired"]}), inits({})
    (['paired'], ['he', 'paired'], ['he'])
    """
    value = section.get("init", DEFAULT_INIT)
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def init_suffix(init: str) -> str:
    """``""`` for the default init, else ``"_<init>"`` (file names of runs and selections)."""
    return "" if init == DEFAULT_INIT else f"_{init}"


def run_params(section: Mapping[str, Any]) -> dict[str, Any]:
    """The section minus its grids (alpha, seeds, lr constants, init) and claims: a training job's params.

    Changing a grid then adds or drops jobs without rerunning the others.
    ``init_scale``, ``bias``, ``chance_window`` and ``lr.alpha_floor`` are left out while at their
    defaults (:data:`NON_GRID_DEFAULTS`, the paper's reading; no floor), so the params of a
    default run are those it had before these switches existed (not rerun);
    any other value is in the params (a change reruns the jobs).
    """
    sec = {k: v for k, v in section.items() if k not in ("alpha", "seeds", "claims", "init")
           and not (k in NON_GRID_DEFAULTS and v == NON_GRID_DEFAULTS[k])}
    sec["lr"] = _lr_params(sec["lr"])
    out = {k: v for k, v in sec["output_only"].items() if k not in ("alpha", "seeds", "init")}
    out["lr"] = _lr_params(out["lr"])
    sec["output_only"] = out
    return sec

def _lr_params(lr: Mapping[str, Any]) -> dict[str, Any]:
    """An ``lr`` spec minus its grid ``c`` and minus ``alpha_floor`` while 0 (its default: no floor)."""
    return {k: v for k, v in lr.items() if k != "c" and not (k == "alpha_floor" and float(v) == 0.0)}


def models(section: Mapping[str, Any]) -> list[str]:
    """The models run for a section: full, plus output when the baseline is enabled."""
    return ["full", "output"] if section["output_only"]["enabled"] else ["full"]

def run_path(results: str, dataset: str, model: str, alpha: float | str, c: float | str, seed: int | str,
             init: str = DEFAULT_INIT) -> str:
    """The table of one training run."""
    return f"{results}/realdata/{dataset}/{model}/a{value_id(alpha)}_c{value_id(c)}_s{seed}{init_suffix(init)}.csv"

def candidate_runs(section: Mapping[str, Any], results: str, dataset: str, model: str, alpha: str,
                   seed: str, init: str = DEFAULT_INIT) -> list[str]:
    """The runs a selection job at (model, alpha, seed, init) chooses among: one per lr constant."""
    return [run_path(results, dataset, model, alpha, c, seed, init) for c in model_section(section, model)["lr"]["c"]]

def selection_points(section: Mapping[str, Any]) -> list[tuple[str, float, int, str]]:
    """(model, alpha, seed, init) of every selection job of a section."""
    return [(m, a, s, i) for m in models(section) for i in inits(model_section(section, m))
            for a in model_section(section, m)["alpha"] for s in model_section(section, m)["seeds"]]

def selection_path(results: str, dataset: str, model: str, alpha: float | str, seed: int | str,
                   init: str = DEFAULT_INIT) -> str:
    """The table of one selection job."""
    return f"{results}/realdata/{dataset}/select/{model}_a{value_id(alpha)}_s{seed}{init_suffix(init)}.csv"

def selection_paths(section: Mapping[str, Any], results: str, dataset: str) -> list[str]:
    """The tables of a section's selection jobs (one per (model, alpha, seed, init))."""
    return [selection_path(results, dataset, m, a, s, i) for m, a, s, i in selection_points(section)]

def all_runs(section: Mapping[str, Any], results: str, dataset: str) -> list[str]:
    """Every training run of a section (all lr constants of every selection job)."""
    return [p for m, a, s, i in selection_points(section)
            for p in candidate_runs(section, results, dataset, m, value_id(a), str(s), i)]


SECTION_DATASETS = {"mnist": "mnist", "cifar": "cifar10"}
"""Config section -> the ``data:`` entry it trains on."""


def check_config(config: Mapping[str, Any], *, local: bool = True) -> None:
    """Start-up checks of ``mnist:``, ``cifar:`` and the ``data:`` they use.

    Every section is checked for what its jobs would reject (validation
    images against the training set, learning-rate selection without
    validation); the data sources of the configured figures are checked on
    this machine (a ``mirror`` folder must exist) when jobs run ``local``ly.
    """
    from kr.experiments.realdata import EXPERIMENT
    from kr.experiments.realdata.dataspec import TRAIN_SIZES, check_source

    figures = set(config.get("figures", []))
    for name, dataset in SECTION_DATASETS.items():
        section = config[name]
        check_section(name, section)
        source = config["data"][dataset]["source"]
        n_train = TRAIN_SIZES[(dataset, source)]
        for model in models(section):
            s = model_section(section, model)
            key = name if model == "full" else f"{name}.output_only"
            n_val = int(s["validation"])
            if n_val >= n_train:
                raise ValueError(f"{name}.validation = {n_val} must be below the {n_train} training images of "
                                 f"data.{dataset}.source {source!r}")
            subset = s.get("train_subset")
            if subset and int(subset) > n_train - n_val:
                raise ValueError(f"{key}.train_subset = {subset} exceeds the {n_train - n_val} training images "
                                 f"left after {name}.validation = {n_val} (data.{dataset}.source {source!r})")
        used = figures & {f for t, figs in EXPERIMENT.tables.items() if t.startswith(name) for f in figs}
        if used and local:
            check_source(config["data"], dataset)
