"""Size SLURM runtimes and memory from a run's benchmark files.

    python profiles/slurm/size_resources.py [results/benchmarks ...]

Reads every ``<benchmarks>/<rule>/**.tsv`` that Snakemake's ``benchmark:``
directive wrote (one row per job: wall seconds ``s``, peak memory ``max_rss``
in MB) and prints, per rule, the largest measurement and the resources it
suggests, with the margins below:

* ``mem_mb``  = 2 x (largest max_rss + 300 MB for the job's own Snakemake
  process), rounded up to 500 MB, at least 1000;
* ``runtime`` = 3 x the longest job + 5 min (queueing-free start-up, file
  system lag), rounded up to 5 min, at least 10 min.

The numbers of profiles/slurm/config.yaml came from this script on a quick
preset run, raised to paper-scale estimates where a rule's work grows with
the paper preset (docs/slurm.md, "Resources").  After a first paper-scale run,
run it on that run's results/benchmarks/ and copy what grew.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

MEM_FACTOR, MEM_OVERHEAD_MB, MEM_STEP_MB, MEM_MIN_MB = 2.0, 300.0, 500, 1000
TIME_FACTOR, TIME_EXTRA_MIN, TIME_STEP_MIN, TIME_MIN_MIN = 3.0, 5.0, 5, 10


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "NA" for jobs too short to sample
        return 0.0


def measure(roots: list[Path]) -> dict[str, dict[str, float]]:
    """Per rule: number of jobs, the longest wall time (s) and the largest max_rss (MB)."""
    out: dict[str, dict[str, float]] = {}
    for root in roots:
        for tsv in sorted(root.rglob("*.tsv")):
            rule = tsv.relative_to(root).parts[0]
            with tsv.open() as fh:
                rows = list(csv.DictReader(fh, delimiter="\t"))
            m = out.setdefault(rule, {"jobs": 0, "s": 0.0, "max_rss": 0.0})
            for row in rows:
                m["jobs"] += 1
                m["s"] = max(m["s"], _float(row.get("s", "0")))
                m["max_rss"] = max(m["max_rss"], _float(row.get("max_rss", "0")))
    return out


def suggest(s: float, max_rss: float) -> tuple[int, int]:
    """(runtime in minutes, mem_mb) for a rule whose longest job took ``s`` seconds and ``max_rss`` MB."""
    mem = MEM_FACTOR * (max_rss + MEM_OVERHEAD_MB)
    mem_mb = max(MEM_MIN_MB, MEM_STEP_MB * math.ceil(mem / MEM_STEP_MB))
    minutes = TIME_FACTOR * s / 60.0 + TIME_EXTRA_MIN
    runtime = max(TIME_MIN_MIN, TIME_STEP_MIN * math.ceil(minutes / TIME_STEP_MIN))
    return runtime, mem_mb


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("results/benchmarks")]
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        print(f"no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    measured = measure(roots)
    print(f"# {'rule':<20} {'jobs':>5} {'max s':>8} {'max_rss MB':>11}   suggested")
    for rule, m in sorted(measured.items()):
        runtime, mem_mb = suggest(m["s"], m["max_rss"])
        print(f"# {rule:<20} {int(m['jobs']):>5} {m['s']:>8.1f} {m['max_rss']:>11.1f}   "
              f"runtime: {runtime}, mem_mb: {mem_mb}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
