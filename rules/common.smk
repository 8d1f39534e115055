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
from kr.registry import FIGURE_TABLES, THEORY_TABLES, tables_for_figures

# Numbers given with --config arrive as strings; restore them, then check
# everything against the schema (filling defaults) before any job runs.
config.update(coerce_scalars(dict(config)))
validate(config, schema="../schemas/config.schema.yaml", set_default=True)

RESULTS = config["results"]


wildcard_constraints:
    table="|".join(THEORY_TABLES),
    fig="|".join(FIGURE_TABLES),


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


def claims_targets():
    return [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md"]
