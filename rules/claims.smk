# The claims ledger: one row per claim of the paper, computed from the tables.


rule claims:
    """results/claims.csv and results/claims.md (kr.ledger)."""
    input:
        unpack(lambda wildcards: claim_tables()),
    output:
        csv=report(f"{RESULTS}/claims.csv", caption="report/claims.rst", category="Claims"),
        md=f"{RESULTS}/claims.md",
    params:
        thresholds=claim_thresholds(),
    log:
        f"{RESULTS}/logs/claims.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/claims.py"


rule datapackage:
    """results/datapackage.json: every table's columns, types, meaning and units (Frictionless)."""
    input:
        unpack(lambda wildcards: claim_tables()),
        claims=f"{RESULTS}/claims.csv",
    output:
        f"{RESULTS}/datapackage.json",
    log:
        f"{RESULTS}/logs/datapackage.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/datapackage.py"
