"""The workflow on a real SLURM cluster through ``profiles/slurm`` (marker ``slurm``).

The cluster tests need a running SLURM with accounting: ``tests/slurm/local_cluster.sh``
(as root) starts a single-node one with a fake GPU, ``tests/slurm/stop_local_cluster.sh``
stops it; ``.ci/run`` does both.  Where there is no ``sbatch`` they skip with one
line; with ``KR_REQUIRE_SLURM=1`` a missing or broken cluster fails them instead.
The static checks of the two profiles (first in this file) run everywhere.

``test_cluster_run_matches_local_run`` runs a tiny config of every experiment
(theory, diagonal, matfac, relu, realdata) once with ``--profile profiles/slurm``
(site values from the documented ``KR_SLURM_*`` variables, nothing else
overridden) and once locally with ``--cores 2``, both at once, and checks:

* every job but the local rule ``data_prepare`` went through ``sbatch`` (a SLURM
  job id per job, each with its ``sacct`` row: COMPLETED, except the one we
  cancel), in the partition its GPU request calls for, with cpus = threads;
* ``results/tables/*`` and ``results/claims.csv`` equal the local run's, apart
  from wall times (and the resumed run's ``resumed_from``);
* one MNIST training job, ``scancel``'led while running after its first
  checkpoints, is resubmitted, resumes from its checkpoint and ends identical;
* nothing hangs: every Snakemake call has a hard timeout (then it is killed
  and the run's jobs cancelled), and a job pending for a reason that never
  clears (e.g. PartitionConfig: more CPUs than a node has) fails at once.

The MNIST section uses ``device: auto`` and the cluster run puts a fake
``nvidia-smi`` on PATH, so its training jobs ask for the cluster's (fake) GPU:
they go to the GPU partition with ``--gpus=1`` and, finding no CUDA device,
train on the CPU, so their results still equal the local run's.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from kr.experiments.matfac import plan as matfac_plan
from kr.experiments.realdata import plan as rd_plan
from tests.conftest import REPO, TINY_CONFIG
from tests.test_matfac_workflow import TINY as MATFAC_TINY
from tests.test_relu_workflow import TINY as RELU_TINY

PROFILE = REPO / "profiles" / "slurm"
WORKFLOW_PROFILE = REPO / "profiles" / "default"
REQUIRE = os.environ.get("KR_REQUIRE_SLURM") == "1"

# The documented site values (README "Running on SLURM", docs/slurm.md) for the
# cluster of tests/slurm/local_cluster.sh; KR_SLURM_STATUS_DELAY only speeds
# the test up (first status check after 5 s instead of 40 s).
SITE_ENV = {
    "KR_SLURM_CPU_PARTITION": "kr-cpu",
    "KR_SLURM_GPU_PARTITION": "kr-gpu",
    "KR_SLURM_ACCOUNT": "kr-test",
    "KR_SLURM_STATUS_DELAY": "5",
}
# Hard limits of the two runs (measured: ~8 and ~6 min on a loaded 2-core machine, docs/slurm.md).
CLUSTER_TIMEOUT_S = int(os.environ.get("KR_SLURM_TEST_TIMEOUT_S", "900"))
LOCAL_TIMEOUT_S = int(os.environ.get("KR_SLURM_TEST_TIMEOUT_S", "900"))
# Pending reasons that never clear by waiting.
HOPELESS = {"PartitionConfig", "BadConstraints", "PartitionNodeLimit", "PartitionTimeLimit", "InvalidAccount",
            "InvalidQOS", "AssocMaxCpuPerJobLimit", "QOSMaxCpuPerJobLimit"}
# Columns and header keys that hold wall times (or the resume point): not compared.
TIME_KEY = re.compile(r"(^|_)(elapsed|wall|created|seconds|runtime)(_|$)|(^|_)time_s$|^resumed_from$|^sha256$")
CANCEL_COMMENT = "rule_mnist_train_wildcards_output_"   # the long output-layer-only MNIST run


# --------------------------------------------------------------------------- configs


def cluster_config() -> dict[str, Any]:
    """A tiny config of all five experiments: the other workflow tests' tiny configs, trimmed.

    One or two figures per experiment (each experiment's aggregation job builds all its
    tables, so every rule still runs): 40-odd jobs instead of 70.
    """
    cfg = copy.deepcopy(TINY_CONFIG)   # theory and diagonal
    cfg["diagonal"]["seeds"] = [0]
    cfg["diagonal"]["alpha"]["num"] = 3
    cfg["diagonal"]["theorem3"].update(seeds=[0], alpha=[1.0])
    for tiny in (MATFAC_TINY, RELU_TINY):
        cfg.update({k: copy.deepcopy(v) for k, v in tiny.items() if k != "figures"})
    cfg["matfac"]["alpha"] = [0.003, 0.5]
    cfg["figures"] = ["fig2", "fig1a", "fig5a", "fig6a", "fig7a", "fig6c", "fig6d"]
    # Real data: two short full-network runs and one long (300 epochs, ~6 CPU-s) output-layer-only run, the one we
    # cancel: it checkpoints every epoch and does not stop early.
    cfg["mnist"] = {
        "device": "auto", "width": 512, "alpha": [0.5, 20.0], "lr": {"c": [0.5], "alpha_power": 2},
        "max_epochs": 3, "validation": 100, "train_subset": 2000, "test_subset": 200, "checkpoint_every": 1,
        "output_only": {"alpha": [1.0], "lr": {"c": [0.5], "alpha_power": 2}, "max_epochs": 300,
                        "stop_at_fit": False, "plateau_rtol": 1.0e-12},
        "claims": {"mnist_small_alpha_max": 0.5, "mnist_large_alpha_min": 20.0},
    }
    cfg["cifar"] = {
        "device": "cpu", "threads": 2, "width_multiplier": 0.0625, "alpha": [0.9, 1.1], "max_epochs": 3,
        "train_subset": 96, "test_subset": 64, "checkpoint_every": 1, "output_only": {"max_epochs": 2},
        "claims": {"cifar_small_alpha_max": 0.9, "cifar_large_alpha_min": 1.1},
    }
    return cfg


# --------------------------------------------------------------------------- helpers


def render_profile(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The profile as Snakemake reads it (YTE rendered, flattened to command-line form)."""
    from snakemake.profiles import ProfileConfigFileParser

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with open(path / "config.yaml") as fh:
            return dict(ProfileConfigFileParser().parse(fh))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``b`` merged into ``a`` (nested mappings merged, the rest replaced), as Snakemake merges config files."""
    for k, v in b.items():
        a[k] = merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return a


def paper_config() -> dict[str, Any]:
    """config.yaml with presets/paper.yaml merged on top (as --configfile presets/paper.yaml does)."""
    return merge(yaml.safe_load((REPO / "config.yaml").read_text()),
                 yaml.safe_load((REPO / "presets" / "paper.yaml").read_text()))


def rule_names() -> set[str]:
    names: set[str] = set()
    for smk in (REPO / "rules").glob("*.smk"):
        text = smk.read_text()
        names |= set(re.findall(r"^rule (\w+):", text, re.M))
        names |= set(re.findall(r"^use rule \w+ as (\w+)", text, re.M))
    return names


def snapshot(dest: Path) -> Path:
    """A copy of the working tree (tracked and untracked, not ignored files) for both runs.

    Both runs then use the same code even while someone edits or commits in the checkout, and record the
    same code version (the bare package version: the copy is no git checkout).
    """
    try:
        listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, check=True, timeout=60).stdout
        files = [f for f in listed.decode().split("\0") if f]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "results", ".snakemake", "datasets", "__pycache__", ".pytest_cache"}
        files = [p.relative_to(REPO).as_posix() for p in REPO.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(REPO).parts)]
    for rel in files:
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def sh(*cmd: str, timeout: float = 30) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout


@functools.lru_cache(maxsize=1)
def cluster_problem() -> str:
    """Why no SLURM cluster can be used here ("" when one answers)."""
    missing = [t for t in ("sbatch", "squeue", "sacct", "scancel", "sinfo", "scontrol") if shutil.which(t) is None]
    reason = ""
    if missing:
        reason = f"no SLURM here ({', '.join(missing)} not found; tests/slurm/local_cluster.sh starts one)"
    else:
        try:
            states = sh("sinfo", "-h", "-o", "%t", timeout=15).split()
            sh("sacct", "-n", "-X", "--starttime", "now-1minutes", timeout=15)
            if not any(s.rstrip("*") in {"idle", "mix", "alloc"} for s in states):
                reason = f"SLURM has no usable node (sinfo states: {states or 'none'})"
        except (subprocess.SubprocessError, OSError) as err:
            reason = f"SLURM does not answer ({err})"
    return reason


def require_cluster() -> None:
    """Skip (or, with KR_REQUIRE_SLURM=1, fail) unless a SLURM cluster answers here."""
    reason = cluster_problem()
    if reason:
        if REQUIRE:
            pytest.fail(f"KR_REQUIRE_SLURM=1 but {reason}")
        pytest.skip(reason)


def local_rules() -> set[str]:
    """Rules marked ``localrule: True`` in rules/*.smk (they run where Snakemake runs)."""
    names = set()
    for smk in (REPO / "rules").glob("*.smk"):
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S)", smk.read_text() + "\nEOF", re.M | re.S):
            if re.search(r"^\s+localrule: True", m.group(2), re.M):
                names.add(m.group(1))
    return names


def without_dumped_logs(log: str) -> str:
    """Snakemake's own output without the job logs it prints for failed jobs (--show-failed-logs)."""
    return re.sub(r"^Logfile [^\n]*:\n(=+)\n.*?^\1\n", "", log, flags=re.M | re.S)


def cancel_run(uuid: str | None) -> None:
    if uuid:
        subprocess.run(["scancel", "--name", uuid], capture_output=True, timeout=30)


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a Snakemake started with start_new_session=True: Ctrl-C (it cancels its SLURM jobs), then harder."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def snakemake_cmd(workdir: Path, *args: str, repo: Path = REPO) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(workdir), *args]


def squeue_jobs(uuid: str) -> list[dict[str, str]]:
    out = sh("squeue", "-h", "--states=all", f"--name={uuid}", "-o", "%i|%T|%r|%k")
    keys = ("id", "state", "reason", "comment")
    return [dict(zip(keys, line.split("|", 3))) for line in out.splitlines() if line.count("|") >= 3]


def sacct_rows(uuid: str) -> list[dict[str, str]]:
    fields = ["JobIDRaw", "State", "Partition", "AllocTRES", "ReqCPUS", "Account", "Comment"]
    out = sh("sacct", "-X", "-n", "-P", "--name", uuid, "--starttime", "now-1days", "-o",
             ",".join(f"{f}%400" if f in ("AllocTRES", "Comment") else f for f in fields))
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]


def normalise(obj: Any, workdir: Path) -> Any:
    """A table header (or sidecar) without wall times, timestamps, digests and the resume point."""
    if isinstance(obj, dict):
        return {k: normalise(v, workdir) for k, v in obj.items() if not TIME_KEY.search(k)}
    if isinstance(obj, list):
        return [normalise(v, workdir) for v in obj]
    if isinstance(obj, str):
        return obj.replace(str(workdir), "<workdir>")
    if isinstance(obj, float) and math.isnan(obj):
        return "nan"
    return obj


def read_result(path: Path, workdir: Path) -> tuple[Any, pd.DataFrame | None]:
    """(header, body) of a result file; either may be None."""
    if path.suffix == ".json":
        return normalise(json.loads(path.read_text()), workdir), None
    lines = path.read_text().splitlines(keepends=True)
    header = None
    if lines and lines[0].startswith("# kr-meta: "):
        header = normalise(json.loads(lines[0][len("# kr-meta: "):]), workdir)
        lines = lines[1:]
    df = pd.read_csv(StringIO("".join(lines))) if "".join(lines).strip() else pd.DataFrame()
    df = df[[c for c in df.columns if not TIME_KEY.search(str(c))]]
    for col in df.columns:  # paths inside cells
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: v.replace(str(workdir), "<workdir>") if isinstance(v, str) else v)
    return header, df


def compare_results(cluster: Path, local: Path) -> list[str]:
    """Differences between the two runs' tables and ledgers (empty: equal)."""
    def names(wd: Path) -> set[str]:
        found = {p for p in (wd / "results" / "tables").glob("*") if p.suffix in (".csv", ".json")}
        found |= set((wd / "results").glob("claims.*"))
        return {p.relative_to(wd).as_posix() for p in found if p.suffix in (".csv", ".json")}

    problems = []
    for name in sorted(names(cluster) | names(local) | {"results/claims.csv"}):
        a, b = cluster / name, local / name
        if not a.exists() or not b.exists():
            problems.append(f"{name}: only in the {'local' if b.exists() else 'cluster'} run")
            continue
        (ha, da), (hb, db) = read_result(a, cluster), read_result(b, local)
        if ha != hb:
            problems.append(f"{name}: header differs: {json.dumps(ha, sort_keys=True)[:400]} vs "
                            f"{json.dumps(hb, sort_keys=True)[:400]}")
        if da is not None and db is not None:
            try:
                pd.testing.assert_frame_equal(da, db, check_exact=True)
            except AssertionError as err:
                problems.append(f"{name}: table differs: {str(err)[:600]}")
    return problems


# --------------------------------------------------------------------------- static checks (run everywhere)


def test_workflow_profile_does_not_override_the_cluster_profile() -> None:
    """profiles/default is loaded on top of --profile profiles/slurm: it may only repeat the cluster's values."""
    local = yaml.safe_load((WORKFLOW_PROFILE / "config.yaml").read_text()) or {}
    cluster = render_profile(PROFILE, {"KR_SLURM_MAX_THREADS": "1"})
    for key, value in local.items():
        assert key in cluster and str(cluster[key]).lower() == str(value).lower(), (
            f"profiles/default sets {key}: {value!r}, which overrides profiles/slurm "
            f"({cluster.get(key, 'unset')!r}) in every cluster run; move it to the command line or the Makefile")


def test_slurm_profile_leaves_gpu_threads_and_partition_to_the_rules() -> None:
    """No gpu, cpus_per_task or partition in the profile; every rule it names exists."""
    cluster = render_profile(PROFILE, {"KR_SLURM_CPU_PARTITION": "c", "KR_SLURM_GPU_PARTITION": "g",
                                       "KR_SLURM_ACCOUNT": "acc", "KR_SLURM_GPU_MODEL": "h200",
                                       "KR_SLURM_MAX_THREADS": "8"})
    entries = list(cluster["default-resources"]) + list(cluster["set-resources"])
    for entry in entries:
        assert not re.search(r"(^|:)(gpu|gres|cpus_per_task|cpus_per_gpu|slurm_partition|threads)=", entry), entry
    used = {entry.split(":", 1)[0] for entry in cluster["set-resources"]}
    assert used <= rule_names(), f"profiles/slurm names rules that do not exist: {sorted(used - rule_names())}"
    assert "slurm_account='acc'" in cluster["default-resources"]
    assert cluster["max-threads"] == "8"
    assert cluster["slurm-status-command"] == "squeue"
    table = yaml.safe_load(Path(cluster["slurm-partition-config"]).read_text())
    assert table == {"partitions": {"c": {"max_gpu": 0}, "g": {"max_gpu": 1024}}}
    for rule in gpu_rules():
        assert f"{rule}:gpu_model='h200'" in cluster["set-resources"], rule


def gpu_rules() -> set[str]:
    """Rules that can ask for a GPU: a `gpu=` resource, or `use rule` of such a rule."""
    names: set[str] = set()
    texts = [smk.read_text() for smk in (REPO / "rules").glob("*.smk")]
    for text in texts:
        for m in re.finditer(r"^(?:rule (\w+)|use rule \w+ as (\w+) with):\n(.*?)(?=^\S)", text + "\nEOF", re.M | re.S):
            if re.search(r"^\s+gpu=", m.group(3), re.M):
                names.add(m.group(1) or m.group(2))
    for text in texts:
        for parent, child in re.findall(r"^use rule (\w+) as (\w+)", text, re.M):
            if parent in names:
                names.add(child)
    return names


def test_slurm_profile_sizes_every_gpu_rule() -> None:
    """Every rule that can ask for a GPU (the long training jobs) has its own runtime and memory."""
    cluster = render_profile(PROFILE, {"KR_SLURM_GPU_MODEL": "h200", "KR_SLURM_MAX_THREADS": "1"})
    for rule in gpu_rules():
        for key in ("runtime", "mem_mb", "gpu_model"):
            assert any(e.startswith(f"{rule}:{key}=") for e in cluster["set-resources"]), (rule, key)


def test_slurm_profile_without_site_values_leaves_them_to_slurm() -> None:
    cluster = render_profile(PROFILE, {"KR_SLURM_CPU_PARTITION": "", "KR_SLURM_GPU_PARTITION": "",
                                       "KR_SLURM_ACCOUNT": "", "KR_SLURM_GPU_MODEL": "", "KR_SLURM_MAX_THREADS": "1"})
    assert "slurm-partition-config" not in cluster
    assert not any("slurm_account" in e for e in cluster["default-resources"])
    assert not any("gpu_model" in e for e in cluster["set-resources"])


# --------------------------------------------------------------------------- the cluster


@pytest.mark.slurm
def test_cluster_run_matches_local_run(tmp_path: Path) -> None:
    require_cluster()
    t_start = time.monotonic()
    repo = snapshot(tmp_path / "repo")
    runs = {"cluster": tmp_path / "cluster", "local": tmp_path / "local"}
    for wd in runs.values():
        wd.mkdir()
        (wd / "tiny.yaml").write_text(yaml.safe_dump(cluster_config()))
    fake_bin = tmp_path / "fake-bin"   # makes mnist's device `auto` ask for the cluster's (fake) GPU
    fake_bin.mkdir()
    (fake_bin / "nvidia-smi").write_text("#!/bin/sh\necho 'fake nvidia-smi (kr slurm test)'\n")
    (fake_bin / "nvidia-smi").chmod(0o755)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("KR_SLURM_", "SLURM_", "SNAKEMAKE_"))}
    base_env["PYTHONHASHSEED"] = "0"
    cluster_env = {**base_env, **SITE_ENV, "PATH": f"{fake_bin}{os.pathsep}{base_env['PATH']}"}
    commands = {
        "cluster": snakemake_cmd(runs["cluster"], "figures", "--configfile", "tiny.yaml",
                                 "--profile", str(repo / "profiles" / "slurm"), repo=repo),
        "local": snakemake_cmd(runs["local"], "figures", "--cores", "2", "--configfile", "tiny.yaml", repo=repo),
    }
    limits = {"cluster": CLUSTER_TIMEOUT_S, "local": LOCAL_TIMEOUT_S}
    log_paths = {name: tmp_path / f"{name}.log" for name in runs}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    uuid: str | None = None
    cancelled: dict[str, str] = {}
    ckpt_dir = runs["cluster"] / "results" / "realdata" / "checkpoints" / "mnist" / "output"
    wall: dict[str, float] = {}

    def log_text(name: str) -> str:
        return log_paths[name].read_text(errors="replace") if log_paths[name].exists() else ""

    def fail(msg: str) -> None:
        pytest.fail(f"{msg}\n--- cluster log (tail) ---\n{log_text('cluster')[-6000:]}\n"
                    f"--- local log (tail) ---\n{log_text('local')[-2000:]}")

    try:
        for name in runs:
            with log_paths[name].open("w") as fh:
                procs[name] = subprocess.Popen(commands[name], cwd=runs[name], stdout=fh, stderr=subprocess.STDOUT,
                                               env=cluster_env if name == "cluster" else base_env,
                                               start_new_session=True)
        while any(p.poll() is None for p in procs.values()):
            now = time.monotonic() - t_start
            for name, p in procs.items():
                if p.poll() is not None:
                    wall.setdefault(name, now)
                elif now > limits[name]:
                    fail(f"the {name} Snakemake run passed its hard timeout of {limits[name]} s: killed")
            if uuid is None:
                m = re.search(r"SLURM run ID: (\S+)", log_text("cluster"))
                uuid = m.group(1) if m else None
            if uuid is not None and procs["cluster"].poll() is None:
                jobs = squeue_jobs(uuid)
                for job in jobs:
                    if job["state"] == "PENDING" and job["reason"] in HOPELESS:
                        fail(f"SLURM job {job['id']} ({job['comment']}) would pend forever: {job['reason']}")
                if not cancelled and ckpt_dir.is_dir() and list(ckpt_dir.glob("*.pt")):
                    running = [j for j in jobs if j["comment"].startswith(CANCEL_COMMENT) and j["state"] == "RUNNING"]
                    if running:
                        sh("scancel", running[0]["id"])
                        cancelled = {"id": running[0]["id"], "comment": running[0]["comment"]}
            time.sleep(0.25)
    finally:
        for p in procs.values():
            stop(p)
        if procs.get("cluster") is None or procs["cluster"].returncode != 0:
            cancel_run(uuid)
    for name in procs:
        wall.setdefault(name, time.monotonic() - t_start)
    print(f"\nslurm test wall times (s): {json.dumps({k: round(v) for k, v in wall.items()})}")
    cluster_log, local_log = log_text("cluster"), log_text("local")
    assert procs["local"].returncode == 0, local_log[-4000:]
    assert procs["cluster"].returncode == 0, cluster_log[-6000:]
    assert uuid, "the cluster run printed no SLURM run ID"
    assert "Falling back to 'sacct'" not in cluster_log, "status polling fell back to sacct (MinJobAge too low?)"
    assert cancelled, "no running MNIST output-layer job with a checkpoint was seen to cancel"

    # --- every job but the local rules went through sbatch, and SLURM accounted for each
    main_log = without_dumped_logs(cluster_log)
    total = int(re.search(r"^total\s+(\d+)$", main_log, re.M).group(1))
    local_jobs = re.findall(r"^localrule (\w+):", main_log, re.M)
    assert set(local_jobs) <= local_rules() | {"figures"}, f"jobs run outside SLURM: {local_jobs}"
    blocks = re.findall(r"^rule (\w+):", main_log, re.M)       # one per submission, retries included
    submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", main_log)
    snakemake_ids, slurm_ids = [s for s, _ in submitted], [j for _, j in submitted]
    assert len(set(snakemake_ids)) == total - len(local_jobs), (total, local_jobs, len(set(snakemake_ids)))
    assert len(submitted) == len(blocks) == len(set(snakemake_ids)) + 1, "exactly one job is resubmitted"
    assert cancelled["id"] in slurm_ids
    rows: dict[str, dict[str, str]] = {}
    for _ in range(30):   # slurmdbd may lag a little behind
        rows = {r["JobIDRaw"]: r for r in sacct_rows(uuid)}
        if set(slurm_ids) <= set(rows) and all(rows[i]["State"] not in ("RUNNING", "PENDING") for i in slurm_ids):
            break
        time.sleep(1)
    assert set(rows) == set(slurm_ids), f"sacct rows {sorted(rows)} vs submitted {sorted(slurm_ids)}"
    node_cpus = min(int(c) for c in sh("sinfo", "-h", "-N", "-p", "kr-cpu,kr-gpu", "-o", "%c").split())
    for jid, row in rows.items():
        assert row["State"].split()[0] == ("CANCELLED" if jid == cancelled["id"] else "COMPLETED"), row
        assert row["Account"] == SITE_ENV["KR_SLURM_ACCOUNT"], row
        gpu_job = row["Comment"].startswith("rule_mnist_train_")   # device auto + the fake nvidia-smi
        assert row["Partition"] == SITE_ENV["KR_SLURM_GPU_PARTITION" if gpu_job else "KR_SLURM_CPU_PARTITION"], row
        assert ("gres/gpu=1" in row["AllocTRES"]) == gpu_job, row
        threads = min(2, node_cpus) if row["Comment"].startswith("rule_cifar_train_") else 1   # cifar.threads: 2
        assert row["ReqCPUS"] == str(threads), row

    # --- the cancelled job was resubmitted and resumed from its checkpoint
    retried = sorted((r for r in rows.values() if r["Comment"] == cancelled["comment"]), key=lambda r: int(r["JobIDRaw"]))
    assert [r["State"].split()[0] for r in retried] == ["CANCELLED", "COMPLETED"], retried
    run_logs = list((runs["cluster"] / "results" / "logs" / "mnist_train").glob("output_*.log"))
    assert len(run_logs) == 1 and "resumed from" in run_logs[0].read_text(), run_logs
    # SLURM's log of the cancelled job is kept, those of successful jobs are deleted
    kept = {p.stem for p in (runs["cluster"] / ".snakemake" / "slurm_logs").rglob("*.log")}
    assert kept == {cancelled["id"]}, sorted(kept)

    # --- the cluster's tables and ledger equal the local run's (the resumed run's included)
    problems = compare_results(runs["cluster"], runs["local"])
    assert not problems, "\n".join(problems)


@pytest.mark.slurm
def test_paper_preset_submissions(tmp_path: Path) -> None:
    """Paper preset: GPU jobs ask for one GPU (of KR_SLURM_GPU_MODEL) in the GPU partition, CPU jobs of the
    same rule (matfac's flow simulator) for none in the CPU partition; cpus = threads, capped at the
    smallest node's CPUs.

    The preset's devices are `auto`, decided on the machine that runs Snakemake: a fake ``nvidia-smi`` makes
    this one look like a GPU node.  A stand-in ``sbatch`` records each submission and refuses it, so nothing
    runs.
    """
    require_cluster()
    shim = tmp_path / "bin"
    shim.mkdir()
    record = tmp_path / "sbatch.calls"
    (shim / "sbatch").write_text(f"#!/bin/sh\necho \"$*\" >> '{record}'\necho 'refused by the kr test' >&2\nexit 1\n")
    (shim / "sbatch").chmod(0o755)
    (shim / "nvidia-smi").write_text("#!/bin/sh\necho 'fake nvidia-smi (kr slurm test)'\n")
    (shim / "nvidia-smi").chmod(0o755)
    cfg = paper_config()
    res = cfg["results"]
    (tmp_path / res / "data").mkdir(parents=True)
    (tmp_path / res / "data" / "mnist.npz").write_bytes(b"")   # the training job's input: submitted, never run
    node_cpus = min(int(c) for c in sh("sinfo", "-h", "-N", "-p", "kr-cpu,kr-gpu", "-o", "%c").split())
    # target -> (its sbatch comment, asks for a GPU, cpus); mnist.threads is 4 in the paper preset
    expected = {f"{res}/relu/fig7/panel_a.csv": ("rule_relu_fig7_wildcards_a", True, 1)}
    mnist = rd_plan.all_runs(cfg["mnist"], res, "mnist")[0]
    model, alpha, c, seed = re.search(r"/(\w+)/a(.+)_c(.+)_s(\d+)\.csv$", mnist).groups()
    expected[mnist] = (f"rule_mnist_train_wildcards_{model}_{alpha}_{c}_{seed}", True, min(4, node_cpus))
    for simulator, gpu in (("direct", True), ("flow", False)):   # a cross-check point of each (paper preset)
        target = next(t for t in matfac_plan.point_tables(cfg["matfac"], res) if f"/{simulator}/" in t)
        k, alpha, seed = re.search(r"/k(\d+)_a(.+)_s(\d+)\.csv$", target).groups()
        expected[target] = (f"rule_matfac_point_wildcards_{simulator}_{k}_{alpha}_{seed}", gpu, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KR_SLURM_", "SLURM_", "SNAKEMAKE_"))}
    env.update(SITE_ENV, KR_SLURM_GPU_MODEL="fake", PATH=f"{shim}{os.pathsep}{env['PATH']}")
    cmd = snakemake_cmd(tmp_path, *expected, "--retries", "0", "--profile", str(PROFILE),
                        "--configfile", str(REPO / "presets" / "paper.yaml"))
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        stop(proc)
        pytest.fail("Snakemake with a refusing sbatch did not stop within 300 s")
    assert proc.returncode != 0
    calls = record.read_text().splitlines() if record.exists() else []
    by_comment = {re.search(r"--comment '?(\S+?)'? ", c).group(1): c for c in calls}
    assert sorted(by_comment) == sorted(c for c, _, _ in expected.values()), out[-4000:]
    for comment, gpu, cpus in expected.values():
        call = by_comment[comment] + " "
        partition = SITE_ENV["KR_SLURM_GPU_PARTITION" if gpu else "KR_SLURM_CPU_PARTITION"]
        assert f" -p {partition} " in call, call
        assert f"--gpus=fake:{int(gpu)} " in call, call
        assert f" -A {SITE_ENV['KR_SLURM_ACCOUNT']} " in call, call
        assert f"--cpus-per-task={cpus} " in call, call
