# Helpers, config validation and wildcard constraints shared by all rules.

import os
import sys

import yaml

# `kr` is importable here and in every job's software environment (conda
# included) without installing it: jobs inherit PYTHONPATH, locally and on
# the cluster.
sys.path.insert(0, workflow.basedir)
# (We set PYTHONPATH; the workflow requires no environment variable from the
# user, so there is nothing for an `envvars:` directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.getenv("PYTHONPATH")) if p)
)

from kr.configcheck import check_config as _check_config
from kr.configuration import coerce_scalars
from kr.devices import gpu_resource
from kr.experiments import check_config as _check_experiments
from kr.experiments import claim_thresholds as _claim_thresholds
from kr.experiments import figure_tables, rule_files, tables_for_figures

# Numbers given with --config arrive as strings; restore them, then check
# everything before any job runs: the schema (types, bounds; config.yaml holds
# the defaults), then what each experiment's jobs would reject.  A bad value
# stops the workflow with one line naming the key and the value.
config.update(coerce_scalars(dict(config)))


def _stop_on_config_error(err):
    sys.stderr.write(f"kr: config error: {err}\n")
    sys.exit(2)


def _jobs_run_elsewhere():
    """A cluster run: --executor (or a --profile naming one) other than local, or KR_GPU_NODES=1.

    (workflow.local_exec is not yet known while the Snakefile is parsed.)
    """
    argv = sys.argv[1:]
    executor = None
    for i, arg in enumerate(argv):
        if arg in ("--executor", "-e") and i + 1 < len(argv):
            executor = argv[i + 1]
        elif arg.startswith("--executor="):
            executor = arg.split("=", 1)[1]
        elif arg == "--profile" and i + 1 < len(argv) and executor is None:
            path = os.path.join(argv[i + 1], "config.yaml")
            if os.path.isfile(path):
                with open(path) as fh:
                    text = fh.read()
                executor = next((line.split(":", 1)[1].strip().strip("'\"") for line in text.splitlines()
                                 if line.startswith("executor:")), None)
    return (executor not in (None, "local", "dryrun", "touch")) or os.environ.get("KR_GPU_NODES") == "1"


# jobs run on this machine: only then are its devices checked at start-up
_LOCAL = workflow.local_exec and not workflow.remote_exec and not _jobs_run_elsewhere()
try:
    with open(os.path.join(workflow.basedir, "schemas", "config.schema.yaml")) as _fh:
        _check_config(config, yaml.safe_load(_fh), local=_LOCAL)
    _check_experiments(config, local=_LOCAL)
except ValueError as err:
    _stop_on_config_error(err)

RESULTS = config["results"]


wildcard_constraints:
    fig="|".join(figure_tables()),
    N=r"[1-9][0-9]*",
    D=r"[2-9]|10",
    seed=r"[0-9]+",
    alpha=r"[0-9][0-9.]*(e[-+][0-9]+)?",


def experiment_rule_files():
    """The experiments' rule files, relative to the Snakefile (kr.experiments.rule_files)."""
    return rule_files()


def table_path(name):
    return f"{RESULTS}/tables/{name}.csv"


def figure_targets():
    return expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=config["figures"], ext=("pdf", "png"))


def figure_inputs(wildcards):
    return {name: table_path(name) for name in figure_tables()[wildcards.fig]}


def claim_tables():
    """Tables of every configured experiment, by name (the ledger's input)."""
    return {name: table_path(name) for name in tables_for_figures(config["figures"])}


def claim_thresholds():
    """The ledger thresholds: ``claims:`` plus each experiment section's own ``claims:``."""
    return _claim_thresholds(config)


def claims_targets():
    return [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md", f"{RESULTS}/datapackage.json"]
