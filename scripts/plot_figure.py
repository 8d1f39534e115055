"""Draw one paper figure from its result tables (rule plot_figure)."""

from kr.experiments import figure_function
from kr.plotting import apply_style, save_figure
from kr.results import read_table
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    apply_style()
    tables = {name: read_table(path) for name, path in snakemake.input.items()}  # noqa: F821
    fig = figure_function(snakemake.wildcards.fig)(tables)  # noqa: F821
    save_figure(fig, snakemake.output.pdf, snakemake.output.png)  # noqa: F821
    log.info("drew %s from %s", snakemake.wildcards.fig, ", ".join(tables))  # noqa: F821
