# Helpers, config validation and wildcard constraints shared by all rules.

import os
import sys

from snakemake.utils import validate

# `kr` is importable here and in every job's software environment (conda
# included) without installing it: jobs inherit PYTHONPATH, locally and on
# the cluster.
sys.path.insert(0, workflow.basedir)
# (We set PYTHONPATH; the workflow requires no environment variable from the
# user, so there is nothing for an `envvars:` directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.getenv("PYTHONPATH")) if p)
)

from kr.configuration import coerce_scalars
from kr.grids import expand_grid, value_id
from kr.registry import DIAGONAL_TABLES, FIGURE_TABLES, THEORY_TABLES, tables_for_figures

# Numbers given with --config arrive as strings; restore them, then check
# everything against the schema (filling defaults) before any job runs.
config.update(coerce_scalars(dict(config)))
validate(config, schema="../schemas/config.schema.yaml", set_default=True)

RESULTS = config["results"]


wildcard_constraints:
    table="|".join(THEORY_TABLES),
    fig="|".join(FIGURE_TABLES),
    N=r"[1-9][0-9]*",
    D=r"[2-9]|10",
    seed=r"[0-9]+",
    alpha=r"[0-9][0-9.]*(e[-+][0-9]+)?",


def theory_spec(wildcards):
    return config["theory"][THEORY_TABLES[wildcards.table][0]]


def table_path(name):
    return f"{RESULTS}/tables/{name}.csv"


def figure_targets():
    return expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=config["figures"], ext=("pdf", "png"))


def figure_inputs(wildcards):
    return {name: table_path(name) for name in FIGURE_TABLES[wildcards.fig]}


def claim_tables():
    """Tables of every configured experiment, by name (the ledger's input)."""
    return {name: table_path(name) for name in tables_for_figures(config["figures"])}


def diagonal_ref_tables():
    dg = config["diagonal"]
    return expand(f"{RESULTS}/diagonal/refs/N{{N}}_s{{seed}}.csv", N=dg["N"], seed=dg["seeds"])


def diagonal_sweep_tables():
    """Figure 1 sweeps (depths x seeds) plus the Theorem 3 sweeps."""
    dg, th3 = config["diagonal"], config["diagonal"]["theorem3"]
    pattern = f"{RESULTS}/diagonal/sweep/N{{N}}_D{{D}}_s{{seed}}.csv"
    paths = expand(pattern, N=dg["N"], D=dg["depths"], seed=dg["seeds"])
    paths += expand(pattern, N=dg["N"], D=th3["depths"], seed=th3["seeds"])
    return sorted(set(paths))


def sweep_alphas(wildcards):
    """The alpha grid of a sweep: Figure 1's, or the Theorem 3 grid for extra depths."""
    dg = config["diagonal"]
    grid = dg["alpha"] if int(wildcards.D) in dg["depths"] else dg["theorem3"]["alpha"]
    return expand_grid(grid).tolist()


def diagonal_gd_tables():
    dg, gd = config["diagonal"], config["diagonal"]["gd"]
    return expand(
        f"{RESULTS}/diagonal/gd/N{{N}}_D{{D}}_a{{alpha}}_s{{seed}}.csv",
        N=dg["N"], D=gd["depths"], alpha=[value_id(a) for a in gd["alpha"]], seed=gd["seeds"],
    )


def diagonal_threshold_tables():
    dg = config["diagonal"]
    return expand(f"{RESULTS}/diagonal/threshold/D{{D}}_s{{seed}}.csv", D=dg["fig1c"]["depths"], seed=dg["seeds"])


EXPERIMENT_SECTIONS = ("matfac", "relu", "mnist", "cifar")
"""Config sections whose ``claims:`` sub-mapping holds that experiment's ledger thresholds."""


def claim_thresholds():
    """The ledger thresholds: ``claims:`` plus each experiment's own ``claims:``."""
    out = dict(config["claims"])
    for section in EXPERIMENT_SECTIONS:
        out.update(config.get(section, {}).get("claims", {}))
    return out


def claims_targets():
    return [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md"]
