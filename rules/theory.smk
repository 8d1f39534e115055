# Closed-form theory tables (Sections 4-5).  Each table is milliseconds to
# seconds of numpy, so it is one job (see docs/architecture.md).


rule theory_table:
    """One tidy table of kr.theory values, parametrised by config['theory']."""
    output:
        f"{RESULTS}/tables/{{table}}.csv",
    params:
        spec=theory_spec,
    log:
        f"{RESULTS}/logs/theory_table/{{table}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/theory_table/{{table}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/theory_table.py"
