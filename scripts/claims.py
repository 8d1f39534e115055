"""Write the claims ledger, CSV and Markdown (rule claims)."""

from kr.experiments import all_claims
from kr.ledger import build_ledger, to_markdown
from kr.results import read_table, write_table, write_text
from kr.runlog import log_to
from kr.version import code_version

with log_to(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    tables = {name: read_table(path) for name, path in snakemake.input.items()}  # noqa: F821
    thresholds = dict(snakemake.params.thresholds)  # noqa: F821
    ledger = build_ledger(tables, thresholds, all_claims())
    write_table(ledger, snakemake.output.csv, {"thresholds": thresholds, "tables": sorted(tables)})  # noqa: F821
    write_text(snakemake.output.md, to_markdown(ledger, code_version()))  # noqa: F821
    log.info("%s", ledger["verdict"].value_counts().to_dict())
