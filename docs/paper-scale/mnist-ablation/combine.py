"""Combine the MNIST init-ablation runs of several sessions into one table, figure and ledger excerpt.

The ablation (presets/mnist-ablation-cpu.yaml) was run in parts, each a
complete workflow run over some alphas (`--config 'mnist={alpha: [...]}'`)
whose `tables/mnist_ablation.csv` holds every candidate run of those alphas
with its lr selection.  Selection is per (model, alpha, seed, init), so the
parts' rows can be stacked as they are.  This script stacks them (refusing
a part that repeats a run of another), writes the combined table with each
part's digest as provenance, draws `fig6c_ablation` and `fig6c` from it with
the workflow's own functions, and writes the ledger's MNIST rows:

    python docs/paper-scale/mnist-ablation/combine.py PART.csv [PART.csv ...] \
        --out docs/paper-scale/mnist-ablation --thresholds presets/mnist-ablation-cpu.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

from kr.experiments import all_claims, figure_function
from kr.ledger import build_ledger, to_markdown
from kr.plotting import apply_style, save_figure
from kr.results import read_tables, write_derived, write_text
from kr.version import code_version

RUN_KEYS = ["dataset", "model", "init", "alpha", "lr_c", "seed"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="+", type=Path, help="mnist_ablation.csv of each part (with its .meta.json)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--thresholds", type=Path, required=True, help="the preset whose mnist.claims to apply")
    args = ap.parse_args(argv)
    df, sources = read_tables([str(p) for p in args.parts])
    dup = df[df.duplicated(RUN_KEYS, keep=False)]
    if len(dup):
        raise SystemExit(f"combine: runs repeated across parts: {dup[RUN_KEYS].drop_duplicates().to_dict('records')}")
    df = df.sort_values(RUN_KEYS, kind="mergesort").reset_index(drop=True)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "mnist_ablation.csv"
    write_derived(df, table, sources)
    apply_style()
    full = df[df["model"] == "full"]
    for fig_name, tables in (("fig6c_ablation", {"mnist_ablation": df}),
                             ("fig6c", {"mnist": df})):
        fig = figure_function(fig_name)(tables)
        save_figure(fig, str(args.out / f"{fig_name}.pdf"), str(args.out / f"{fig_name}.png"))
    (args.out / "fig6c_ablation.pdf").unlink(missing_ok=True)  # the PNGs are what the docs show
    (args.out / "fig6c.pdf").unlink(missing_ok=True)
    preset = yaml.safe_load(args.thresholds.read_text())
    thresholds = dict(preset["mnist"]["claims"])
    claims = [c for c in all_claims() if set(c.tables) <= {"mnist", "mnist_ablation"}]
    ledger = build_ledger({"mnist_ablation": df, "mnist": df}, thresholds, claims)
    write_text(args.out / "claims.md", to_markdown(ledger, code_version()))
    print(f"{len(df)} runs ({len(full)} full) from {len(args.parts)} parts -> {table}")
    print(ledger[["claim_id", "verdict"]].to_string(index=False))


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    main()
