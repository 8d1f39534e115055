# kr: "Kernel and Rich Regimes in Overparametrized Models", reproduced.
#
#   snakemake --cores all figures                      # quick preset (config.yaml)
#   snakemake --cores all figures --configfile presets/paper.yaml --profile profiles/slurm
#
# Stages: data (rules/data.smk) -> result tables (one rule file per experiment
# of kr/experiments/) -> figures (rules/figures.smk) -> claims ledger
# (rules/claims.smk).  All numerics live in the `kr` package; scripts/ only
# wire Snakemake to it.

import os

from snakemake.utils import min_version

min_version("9.0")


# The quick preset, found next to this Snakefile even when the working
# directory (-d/--directory) is elsewhere.  --configfile files and --config
# values are applied on top of it.
configfile: os.path.join(workflow.basedir, "config.yaml")


include: "rules/common.smk"


# Each experiment's rule files, as declared in kr/experiments/<name>/__init__.py
# (no list to keep by hand here).
for _rule_file in experiment_rule_files():

    include: _rule_file


include: "rules/figures.smk"
include: "rules/claims.smk"


rule figures:
    """Every configured figure (PDF + PNG) and the claims ledger."""
    input:
        figure_targets(),
        claims_targets(),
    default_target: True
