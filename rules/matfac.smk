# Matrix factorisation, width vs scale (Section 6, Figure 5, Theorem 4).
# Job granularity: the lifted grid in batch jobs, rule matfac_batch, one per
# (seed, chunk) of at most matfac.batch_size (k, alpha) points dealt
# round-robin (exact lifted GD of the whole chunk as one [B, 2d, 2d] stack;
# bitwise the per-point runs, docs/matfac.md); the cross-check points (and a
# grid run with simulator: direct) one job per (simulator, k, alpha, seed)
# point from rule matfac_point with a simulator wildcard (lifted GD on CPU;
# direct GD in torch, on a GPU when matfac.device is cuda: the natural unit for
# GPU work; the flow limit on CPU); cvxpy references per seed; Theorem 4 per
# seed (all (mu, k) pairs of a seed in one job: each flow takes ~0.05 s, far
# below the ~0.7 s job cost).  Each job's params hold only the settings it
# uses (kr.experiments.matfac.plan), never the ledger thresholds of
# matfac.claims.


from kr.experiments.matfac import plan as matfac_plan


rule matfac_refs:
    """Min nuclear-norm and min Frobenius-norm completions (cvxpy) for one seed."""
    output:
        f"{RESULTS}/matfac/refs/s{{seed}}.csv",
    params:
        d=config["matfac"]["d"],
        N=config["matfac"]["N"],
    log:
        f"{RESULTS}/logs/matfac_refs/s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_refs/s{{seed}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_refs.py"


rule matfac_batch:
    """A chunk of one seed's Figure 5 grid by exact lifted GD, all its (k, alpha) points at once (one
    [B, 2d, 2d] stack, each point stopping on its own): one row per point, as rule matfac_point's."""
    wildcard_constraints:
        chunk=r"[0-9]+",
    output:
        f"{RESULTS}/matfac/lifted_batch/s{{seed}}_c{{chunk}}.csv",
    params:
        spec=matfac_plan.point_params(config["matfac"], "lifted"),
        points=lambda w: matfac_plan.batch_points(config["matfac"], int(w.seed), int(w.chunk)),
    log:
        f"{RESULTS}/logs/matfac_batch/s{{seed}}_c{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_batch/s{{seed}}_c{{chunk}}.tsv"
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/matfac_batch.py"


rule matfac_point:
    """One (k, alpha, seed) point of Figure 5 by one simulator: exact lifted GD (numpy, O(d^3) a step),
    the gradient-flow limit on the lifted matrix (adaptive DOP853), or the paper's GD on (U, V) in torch
    (compared with lifted GD step for step)."""
    wildcard_constraints:
        simulator=matfac_plan.SIMULATOR_PATTERN,
        k=r"[1-9][0-9]*",
    output:
        f"{RESULTS}/matfac/{{simulator}}/k{{k}}_a{{alpha}}_s{{seed}}.csv",
    params:
        spec=lambda w: matfac_plan.point_params(config["matfac"], w.simulator),
        role=lambda w: matfac_plan.point_role(config["matfac"], w.simulator, w.k, w.alpha, w.seed),
    resources:
        gpu=lambda w: matfac_plan.point_gpu(config["matfac"], w.simulator),
    log:
        f"{RESULTS}/logs/matfac_{{simulator}}/k{{k}}_a{{alpha}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/matfac_{{simulator}}/k{{k}}_a{{alpha}}_s{{seed}}.tsv"
    conda:
        lambda w: matfac_plan.point_env(w.simulator)
    script:
        "../scripts/matfac_point.py"


rule matfac_theorem4:
    """Theorem 4: diag(M_inf) against min-Q_mu for growing k, one seed."""
    output:
        f"{RESULTS}/matfac/theorem4/s{{seed}}.csv",
    params:
        spec=matfac_plan.theorem4_params(config["matfac"]),
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
        points=matfac_plan.batch_tables(config["matfac"], RESULTS) + matfac_plan.point_tables(config["matfac"], RESULTS),
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
