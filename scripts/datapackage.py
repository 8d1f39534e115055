"""Describe every result table in results/datapackage.json (rule datapackage)."""

from kr.datapackage import build_datapackage
from kr.experiments import column_descriptions
from kr.runlog import log_to

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    tables = dict(snakemake.input.items())  # noqa: F821
    package = build_datapackage(tables, column_descriptions(), snakemake.output[0])  # noqa: F821
    missing = [f"{r['title']}.{f['name']}" for r in package["resources"] for f in r["schema"]["fields"]
               if not f["description"]]
    log.info("%d tables described; columns without a description: %s", len(tables), missing or "none")
