# Real data (Section 7, Appendix A): MNIST, Figure 6(c); CIFAR-10, Figures 6(d) and 8.
# Job granularity: one training job per (dataset, model, alpha, lr constant c,
# seed, init) - model "full" (every layer trained) or "output" (hidden layers
# frozen: the kernel proxy) - with lr = c / alpha^alpha_power (kr.experiments.realdata.runs); one
# selection job per (dataset, model, alpha, seed, init) picking the lr with the
# best validation error; one aggregation job per table.  The MNIST init (grid
# `mnist.init`): the paper's `he` runs keep their paths (a{alpha}_c{c}_s{seed}.csv,
# rules mnist_train / mnist_select); other inits add a suffix
# (..._s{seed}_{init}.csv, rules mnist_train_init / mnist_select_init); the
# CIFAR-10 init (`cifar.init`: he or centred) likewise (cifar_train_init /
# cifar_select_init).  Training jobs checkpoint
# every `checkpoint_every` epochs under {RESULTS}/realdata/checkpoints/ and
# resume from there when rerun (kill, preemption, SLURM requeue).
# A GPU job asks for the `gpu` resource: `snakemake --resources gpu=1` keeps a
# local GPU machine at one training job at a time (profiles/slurm asks SLURM
# for one GPU per job instead).

from kr.experiments.realdata import plan as rd


rule mnist_train:
    """One SGD run of the depth-2 ReLU network on MNIST (resumes from its checkpoint)."""
    input:
        data=f"{RESULTS}/data/mnist.npz",
    output:
        f"{RESULTS}/realdata/mnist/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}.csv",
    wildcard_constraints:
        model="full|output",
        c=r"[0-9][0-9.]*(e[-+][0-9]+)?",
    params:
        dataset="mnist",
        spec=rd.run_params(config["mnist"]),
        checkpoint=f"{RESULTS}/realdata/checkpoints/mnist/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}.pt",
    threads: config["mnist"]["threads"]
    resources:
        gpu=rd.gpu_resource(config["mnist"]),
    log:
        f"{RESULTS}/logs/mnist_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/realdata_train.py"


use rule mnist_train as mnist_train_init with:
    output:
        f"{RESULTS}/realdata/mnist/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}_{{init,paired|centred}}.csv",
    params:
        dataset="mnist",
        spec=rd.run_params(config["mnist"]),
        checkpoint=f"{RESULTS}/realdata/checkpoints/mnist/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.pt",
    log:
        f"{RESULTS}/logs/mnist_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.tsv"


use rule mnist_train as cifar_train with:
    input:
        data=f"{RESULTS}/data/cifar10.npz",
    output:
        f"{RESULTS}/realdata/cifar/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}.csv",
    params:
        dataset="cifar",
        spec=rd.run_params(config["cifar"]),
        checkpoint=f"{RESULTS}/realdata/checkpoints/cifar/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}.pt",
    threads: config["cifar"]["threads"]
    resources:
        gpu=rd.gpu_resource(config["cifar"]),
    log:
        f"{RESULTS}/logs/cifar_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cifar_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}.tsv"


use rule cifar_train as cifar_train_init with:
    output:
        f"{RESULTS}/realdata/cifar/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}_{{init,centred}}.csv",
    params:
        dataset="cifar",
        spec=rd.run_params(config["cifar"]),
        checkpoint=f"{RESULTS}/realdata/checkpoints/cifar/{{model}}/a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.pt",
    log:
        f"{RESULTS}/logs/cifar_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cifar_train/{{model}}_a{{alpha}}_c{{c}}_s{{seed}}_{{init}}.tsv"


rule mnist_select:
    """Pick, at one (model, alpha, seed), the learning rate with the best validation error."""
    input:
        runs=lambda wc: rd.candidate_runs(config["mnist"], RESULTS, "mnist", wc.model, wc.alpha, wc.seed),
    output:
        f"{RESULTS}/realdata/mnist/select/{{model}}_a{{alpha}}_s{{seed}}.csv",
    wildcard_constraints:
        model="full|output",
    log:
        f"{RESULTS}/logs/mnist_select/{{model}}_a{{alpha}}_s{{seed}}.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/realdata_select.py"


use rule mnist_select as mnist_select_init with:
    input:
        runs=lambda wc: rd.candidate_runs(config["mnist"], RESULTS, "mnist", wc.model, wc.alpha, wc.seed, wc.init),
    output:
        f"{RESULTS}/realdata/mnist/select/{{model}}_a{{alpha}}_s{{seed}}_{{init,paired|centred}}.csv",
    log:
        f"{RESULTS}/logs/mnist_select/{{model}}_a{{alpha}}_s{{seed}}_{{init}}.log",


use rule mnist_select as cifar_select with:
    input:
        runs=lambda wc: rd.candidate_runs(config["cifar"], RESULTS, "cifar", wc.model, wc.alpha, wc.seed),
    output:
        f"{RESULTS}/realdata/cifar/select/{{model}}_a{{alpha}}_s{{seed}}.csv",
    log:
        f"{RESULTS}/logs/cifar_select/{{model}}_a{{alpha}}_s{{seed}}.log",


use rule mnist_select as cifar_select_init with:
    input:
        runs=lambda wc: rd.candidate_runs(config["cifar"], RESULTS, "cifar", wc.model, wc.alpha, wc.seed, wc.init),
    output:
        f"{RESULTS}/realdata/cifar/select/{{model}}_a{{alpha}}_s{{seed}}_{{init,centred}}.csv",
    log:
        f"{RESULTS}/logs/cifar_select/{{model}}_a{{alpha}}_s{{seed}}_{{init}}.log",


rule mnist_aggregate:
    """Table `mnist` (Figure 6(c)): every candidate run, the selected ones marked.

    The same selections, as table `mnist_ablation`, feed the init ablation
    (figure fig6c_ablation and its ledger rows), built only when a preset lists
    fig6c_ablation in `figures`.
    """
    input:
        selections=rd.selection_paths(config["mnist"], RESULTS, "mnist"),
    output:
        table=table_path("mnist"),
    log:
        f"{RESULTS}/logs/mnist_aggregate.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/realdata_aggregate.py"


use rule mnist_aggregate as mnist_ablation_aggregate with:
    output:
        table=table_path("mnist_ablation"),
    log:
        f"{RESULTS}/logs/mnist_ablation_aggregate.log",


rule cifar_aggregate:
    """Tables `cifar` (Figure 6(d)) and `cifar_curves` (Figure 8: every run's per-epoch records)."""
    input:
        selections=rd.selection_paths(config["cifar"], RESULTS, "cifar"),
        runs=rd.all_runs(config["cifar"], RESULTS, "cifar"),
    output:
        table=table_path("cifar"),
        curves=table_path("cifar_curves"),
    log:
        f"{RESULTS}/logs/cifar_aggregate.log",
    conda:
        "../envs/theory.yaml"
    script:
        "../scripts/realdata_aggregate.py"
