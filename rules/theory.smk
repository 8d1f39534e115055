# Closed-form theory tables (Sections 4-5).  Each table is milliseconds to
# seconds of numpy, so it is one job (see docs/architecture.md).


from kr.experiments.theory import THEORY_TABLES


def theory_spec(wildcards):
    """The ``theory:`` sub-section a table is built from."""
    return config["theory"][THEORY_TABLES[wildcards.table][0]]


rule theory_table:
    """One tidy table of kr.theory values, parametrised by config['theory']."""
    wildcard_constraints:
        table="|".join(THEORY_TABLES),
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
