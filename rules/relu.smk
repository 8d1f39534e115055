# ReLU networks on synthetic data (Section 7, Appendix A): Figures 6(a), 6(b), 7.
# Job granularity (docs/relu.md): Figure 6 one job per (D, seed), the whole
# alpha grid trained as one stacked model (a single small network step costs
# ~0.1 ms of per-operation overhead on CPU, so training the grid together
# costs about as much as one alpha, and small alphas dominate the run time
# anyway); Figure 7 one job per panel (shape c), its alpha grid stacked.
# Tables: relu_fig6 (figures fig6a, fig6b), relu_fig7 (fig7a, fig7b, fig7c).
# Params carry exactly the keys each job reads (kr.experiments.relu.plan), so a
# config change reruns only the jobs it affects; scripts build the typed specs
# of kr.experiments.relu.specs from them.

from kr.experiments.relu import plan as relu_plan
from kr.experiments.relu import EXPERIMENT as RELU


rule relu_fig6:
    """Figure 6: depth-D students at every alpha (one stack), test error, grad distance, kernel predictor."""
    output:
        f"{RESULTS}/relu/fig6/D{{D}}_s{{seed}}.csv",
    params:
        # the fig6 keys a (D, seed) job reads: not depths/seeds (its wildcards), not claims
        spec=relu_plan.fig6_params(config["relu"]),
        device=config["relu"]["device"],
    resources:
        gpu=gpu_resource(config["relu"]["device"]),
    log:
        f"{RESULTS}/logs/relu_fig6/D{{D}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/relu_fig6/D{{D}}_s{{seed}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/relu_fig6.py"


rule relu_fig7:
    """Figure 7: the univariate network at every alpha (one stack) for one shape c."""
    output:
        f"{RESULTS}/relu/fig7/panel_{{panel}}.csv",
    params:
        # this panel's own shape c (not the other panels'), the fig7 keys it reads, not claims
        spec=lambda w: relu_plan.fig7_params(config["relu"], w.panel),
        device=config["relu"]["device"],
    resources:
        gpu=gpu_resource(config["relu"]["device"]),
    wildcard_constraints:
        panel="[abc]",
    log:
        f"{RESULTS}/logs/relu_fig7/panel_{{panel}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/relu_fig7/panel_{{panel}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/relu_fig7.py"


rule relu_aggregate:
    """Concatenate the per-job tables into results/tables/relu_fig6.csv or relu_fig7.csv."""
    input:
        lambda w: relu_plan.sources(config["relu"], RESULTS, w.relu_table),
    output:
        f"{RESULTS}/tables/{{relu_table}}.csv",
    wildcard_constraints:
        relu_table="|".join(RELU.tables),
    log:
        f"{RESULTS}/logs/relu_aggregate/{{relu_table}}.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/relu_aggregate.py"
