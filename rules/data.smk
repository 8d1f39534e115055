# Real data, the first stage of the DAG (Section 7, Appendix A; issue 6).
# One job per dataset: {results}/data/{dataset}.npz, uint8 images [N, C, H, W]
# and int64 labels, from the source set in config `data.<dataset>.source`
# (embedded | download | mirror; see kr.experiments.realdata.datasets and docs/data.md).  Only
# rules that take {results}/data/<dataset>.npz as input trigger it.
#
# A download needs the network, which cluster compute nodes often lack: the
# rule is local, so under --profile profiles/slurm it runs where Snakemake
# itself runs (login node; ~1 GB memory, a minute for CIFAR-10's 170 MB).


from kr.experiments.realdata.dataspec import content_spec, embedded_inputs


rule data_prepare:
    """One dataset as uint8 arrays, MD5-checked (embedded subset, torchvision download or mirror)."""
    input:
        # the shipped mini CIFAR-10 when it is the source (a rebuilt file reruns the job)
        unpack(lambda w: embedded_inputs(config["data"], w.dataset, workflow.basedir)),
    output:
        f"{RESULTS}/data/{{dataset}}.npz",
    params:
        # only the keys that decide the content (the rerun trigger)
        spec=lambda w: content_spec(config["data"], w.dataset),
    wildcard_constraints:
        dataset="mnist|cifar10",
    # runs where Snakemake runs (the login node under profiles/slurm): it may need the network
    localrule: True
    log:
        f"{RESULTS}/logs/data_prepare/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data_prepare/{{dataset}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../scripts/data_prepare.py"
