"""Cost table of a workflow run: jobs, CPU and wall time per rule, from Snakemake's benchmark files.

Every heavy rule writes ``benchmark: <results>/benchmarks/<rule folder>/<job>.tsv``
(Snakemake's columns: ``s`` wall seconds, ``cpu_time``, ``max_rss`` MB, ...).
This script sums them per folder and prints a Markdown table (or writes it
with ``--out``); ``--wall`` adds the run's measured wall time and the
resulting core utilisation.

    python benchmarks/cost_table.py results/paper [--wall 4321] [--cores 2] [--out docs/paper-scale/cost.md]
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RuleCost:
    """Summed benchmark records of one rule (one benchmark folder)."""

    jobs: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    longest_s: float = 0.0
    max_rss_mb: float = 0.0
    longest_job: str = ""
    missing_cpu: int = 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "-", "NA") else None
    except ValueError:
        return None


def read_costs(benchmarks: Path) -> dict[str, RuleCost]:
    """Per benchmark folder: the sums over its ``*.tsv`` files (the last record of each: a rerun overwrites)."""
    costs: dict[str, RuleCost] = {}
    for tsv in sorted(benchmarks.rglob("*.tsv")):
        rows = list(csv.DictReader(tsv.open(), delimiter="\t"))
        if not rows:
            continue
        row = rows[-1]
        rule = tsv.parent.relative_to(benchmarks).as_posix()
        c = costs.setdefault(rule, RuleCost())
        wall = _float(row.get("s")) or 0.0
        cpu = _float(row.get("cpu_time"))
        c.jobs += 1
        c.wall_s += wall
        if cpu is None:
            c.missing_cpu += 1
        else:
            c.cpu_s += cpu
        c.max_rss_mb = max(c.max_rss_mb, _float(row.get("max_rss")) or 0.0)
        if wall >= c.longest_s:
            c.longest_s, c.longest_job = wall, tsv.stem
    return costs


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def markdown(costs: dict[str, RuleCost], wall: float | None = None, cores: int = 2) -> str:
    """The table, sorted by CPU time, with a total row (and the run's utilisation when ``wall`` is given)."""
    lines = ["| rule (benchmark folder) | jobs | CPU time | sum of job wall times | longest job | max RSS (MB) |",
             "|---|---:|---:|---:|---|---:|"]
    tot_cpu = tot_wall = 0.0
    tot_jobs = missing = 0
    for rule, c in sorted(costs.items(), key=lambda kv: -kv[1].cpu_s):
        tot_cpu += c.cpu_s
        tot_wall += c.wall_s
        tot_jobs += c.jobs
        missing += c.missing_cpu
        lines.append(f"| `{rule}` | {c.jobs} | {_hms(c.cpu_s)} | {_hms(c.wall_s)} | "
                     f"{c.longest_s:.0f} s (`{c.longest_job}`) | {c.max_rss_mb:.0f} |")
    lines.append(f"| **all benchmarked jobs** | **{tot_jobs}** | **{_hms(tot_cpu)}** | **{_hms(tot_wall)}** | | |")
    if missing:
        lines += ["", f"{missing} benchmark records had no cpu_time: the CPU column leaves them out."]
    if wall:
        lines.append("")
        lines.append(f"Wall time of the run: {_hms(wall)} on {cores} cores; CPU time of the benchmarked jobs "
                     f"{tot_cpu / 60:.1f} min, i.e. {tot_cpu / (wall * cores):.0%} of the {cores} cores on average "
                     "(the rest: job start-up, light local rules, other load).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="the run's results folder (holding benchmarks/)")
    ap.add_argument("--wall", type=float, default=None, help="measured wall time of the run, seconds")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="write the table here (else print it)")
    args = ap.parse_args(argv)
    bench = args.results / "benchmarks"
    if not bench.is_dir():
        raise SystemExit(f"cost_table: no benchmarks/ folder under {args.results}")
    text = markdown(read_costs(bench), args.wall, args.cores)
    if args.out:
        args.out.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
