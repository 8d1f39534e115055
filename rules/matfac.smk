# Matrix factorisation, width vs scale (Section 6, Figure 5, Theorem 4).
# Job granularity: one job per (simulator, k, alpha, seed) point (lifted GD on
# CPU; direct GD in torch, on a GPU when matfac.device is cuda; the flow limit
# on CPU); cvxpy references per seed; Theorem 4 per seed (all (mu, k) pairs of
# a seed in one job: each flow takes ~0.05 s, far below the ~0.7 s job cost).


from kr.experiments.matfac import plan as matfac_plan


rule matfac_refs:
    """Min nuclear-norm and min Frobenius-norm completions (cvxpy) for one seed."""
    output:
        f"{RESULTS}/matfac/refs/s{{seed}}.csv",
    params:
        spec=config["matfac"],
    log:
        f"{RESULTS}/logs/matfac_refs/s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_refs/s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_refs.py"


rule matfac_lifted:
    """Exact lifted GD (numpy, O(d^3) a step) at one (k, alpha, seed) point."""
    wildcard_constraints:
        k=r"[1-9][0-9]*",
    output:
        f"{RESULTS}/matfac/lifted/k{{k}}_a{{alpha}}_s{{seed}}.csv",
    params:
        spec=config["matfac"],
        simulator="lifted",
        role=lambda w: matfac_plan.point_role(config["matfac"], "lifted", w.k, w.alpha, w.seed),
    log:
        f"{RESULTS}/logs/matfac_lifted/k{{k}}_a{{alpha}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_lifted/k{{k}}_a{{alpha}}_s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_point.py"


rule matfac_flow:
    """The gradient-flow limit on the lifted matrix (adaptive DOP853) at one point."""
    wildcard_constraints:
        k=r"[1-9][0-9]*",
    output:
        f"{RESULTS}/matfac/flow/k{{k}}_a{{alpha}}_s{{seed}}.csv",
    params:
        spec=config["matfac"],
        simulator="flow",
        role=lambda w: matfac_plan.point_role(config["matfac"], "flow", w.k, w.alpha, w.seed),
    log:
        f"{RESULTS}/logs/matfac_flow/k{{k}}_a{{alpha}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_flow/k{{k}}_a{{alpha}}_s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_point.py"


rule matfac_direct:
    """The paper's GD on (U, V) in torch at one point, compared with lifted GD step for step."""
    wildcard_constraints:
        k=r"[1-9][0-9]*",
    output:
        f"{RESULTS}/matfac/direct/k{{k}}_a{{alpha}}_s{{seed}}.csv",
    params:
        spec=config["matfac"],
        simulator="direct",
        role=lambda w: matfac_plan.point_role(config["matfac"], "direct", w.k, w.alpha, w.seed),
    resources:
        gpu=1 if config["matfac"]["device"] == "cuda" else 0,
    log:
        f"{RESULTS}/logs/matfac_direct/k{{k}}_a{{alpha}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_direct/k{{k}}_a{{alpha}}_s{{seed}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/matfac_point.py"


rule matfac_theorem4:
    """Theorem 4: diag(M_inf) against min-Q_mu for growing k, one seed."""
    output:
        f"{RESULTS}/matfac/theorem4/s{{seed}}.csv",
    params:
        spec=config["matfac"],
    log:
        f"{RESULTS}/logs/matfac_theorem4/s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_theorem4/s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_theorem4.py"


rule matfac_aggregate:
    """Tables matfac_grid (grid + cross-check rows, with references) and matfac_theorem4."""
    input:
        points=matfac_plan.point_tables(config["matfac"], RESULTS),
        refs=expand(f"{RESULTS}/matfac/refs/s{{seed}}.csv", seed=matfac_plan.seeds(config["matfac"])),
        theorem4=expand(f"{RESULTS}/matfac/theorem4/s{{seed}}.csv", seed=config["matfac"]["theorem4"]["seeds"]),
    output:
        grid=table_path("matfac_grid"),
        theorem4=table_path("matfac_theorem4"),
    log:
        f"{RESULTS}/logs/matfac_aggregate.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_aggregate.py"
