# kr: "Kernel and Rich Regimes in Overparametrized Models", reproduced.
#
#   snakemake --cores all figures                      # quick preset (config.yaml)
#   snakemake --cores all figures --configfile presets/paper.yaml --profile profiles/slurm
#
# Stages: result tables (rules/theory.smk, one job per table) -> figures
# (rules/figures.smk) -> claims ledger (rules/claims.smk).  All numerics live
# in the `kr` package; scripts/ only wire Snakemake to it.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/theory.smk"
include: "rules/figures.smk"
include: "rules/claims.smk"


rule figures:
    """Every configured figure (PDF + PNG) and the claims ledger."""
    input:
        figure_targets(),
        claims_targets(),
    default_target: True
