# Diagonal linear networks, Sections 4-5: Figures 1(a-c) and 3(c).
# Job granularity (docs/architecture.md): references per (N, seed); exact
# flow + min-Q per (N, D, seed) sweep over alpha (each point takes
# milliseconds, below the ~0.7 s cost of a job); GD per (N, D, alpha, seed)
# point; the Figure 1(c)/3(c) bisections per (D, seed).


from kr.experiments.diagonal import plan as diagonal_plan


rule diagonal_refs:
    """min-l1 (LP) and min-l2 (closed form) solutions for one (N, seed)."""
    output:
        betas=f"{RESULTS}/diagonal/refs/N{{N}}_s{{seed}}.npz",
        table=f"{RESULTS}/diagonal/refs/N{{N}}_s{{seed}}.csv",
    params:
        spec=diagonal_plan.problem_params(config["diagonal"]),
    log:
        f"{RESULTS}/logs/diagonal_refs/N{{N}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/diagonal_refs/N{{N}}_s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/diagonal_refs.py"


rule diagonal_sweep:
    """Exact gradient flow and min-Q (Newton) over the alpha grid."""
    input:
        betas=f"{RESULTS}/diagonal/refs/N{{N}}_s{{seed}}.npz",
    output:
        f"{RESULTS}/diagonal/sweep/N{{N}}_D{{D}}_s{{seed}}.csv",
    params:
        spec=diagonal_plan.sweep_params(config["diagonal"]),
        alphas=lambda w: diagonal_plan.sweep_alphas(config["diagonal"], w.D),
    log:
        f"{RESULTS}/logs/diagonal_sweep/N{{N}}_D{{D}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/diagonal_sweep/N{{N}}_D{{D}}_s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/diagonal_sweep.py"


rule diagonal_gd:
    """Plain gradient descent (torch, CPU or CUDA) at one point."""
    input:
        betas=f"{RESULTS}/diagonal/refs/N{{N}}_s{{seed}}.npz",
    output:
        f"{RESULTS}/diagonal/gd/N{{N}}_D{{D}}_a{{alpha}}_s{{seed}}.csv",
    params:
        spec=diagonal_plan.gd_params(config["diagonal"]),
    resources:
        gpu=gpu_resource(config["diagonal"]["gd"]["device"]),
    log:
        f"{RESULTS}/logs/diagonal_gd/N{{N}}_D{{D}}_a{{alpha}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/diagonal_gd/N{{N}}_D{{D}}_a{{alpha}}_s{{seed}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/diagonal_gd.py"


rule diagonal_threshold:
    """Largest alpha reaching the error threshold, per N (bisection on min-Q)."""
    output:
        f"{RESULTS}/diagonal/threshold/D{{D}}_s{{seed}}.csv",
    params:
        spec=diagonal_plan.threshold_params(config["diagonal"]),
    log:
        f"{RESULTS}/logs/diagonal_threshold/D{{D}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/diagonal_threshold/D{{D}}_s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/diagonal_threshold.py"


rule diagonal_aggregate:
    """Tidy tables of the experiment: references, alpha sweep (+ GD), thresholds."""
    input:
        refs=diagonal_plan.ref_tables(config["diagonal"], RESULTS),
        sweep=diagonal_plan.sweep_tables(config["diagonal"], RESULTS)
        + diagonal_plan.gd_tables(config["diagonal"], RESULTS),
        threshold=diagonal_plan.threshold_tables(config["diagonal"], RESULTS),
    output:
        refs=f"{RESULTS}/tables/diagonal_refs.csv",
        sweep=f"{RESULTS}/tables/diagonal_sweep.csv",
        threshold=f"{RESULTS}/tables/diagonal_threshold.csv",
    log:
        f"{RESULTS}/logs/diagonal_aggregate.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/diagonal_aggregate.py"
