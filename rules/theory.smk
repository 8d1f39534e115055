# Closed-form theory tables (Sections 4-5).  Each table is milliseconds to
# seconds of numpy, so it is one job (see docs/architecture.md).


from kr.experiments.theory import THEORY_TABLES
from kr.experiments.theory import plan as theory_plan


rule theory_table:
    """One tidy table of kr.theory values, parametrised by config['theory']."""
    wildcard_constraints:
        table="|".join(THEORY_TABLES),
    output:
        f"{RESULTS}/tables/{{table}}.csv",
    params:
        spec=lambda w: theory_plan.spec(config["theory"], w.table),
    log:
        f"{RESULTS}/logs/theory_table/{{table}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/theory_table/{{table}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/theory_table.py"
