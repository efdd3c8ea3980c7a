#!/usr/bin/env python3
"""The paper's analysis of one score table as a report: a command line for `csd.report`.

    python scripts/paper_analysis.py                          # LiveBench -> reports/livebench/
    python scripts/paper_analysis.py --table epoch_hub_small --quick
    python scripts/paper_analysis.py --table scores.csv --order given --out /tmp/report

Needs `csd` importable (installed, or PYTHONPATH at the checkout). `csd-run mode=report`
does the same through the Hydra command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import csd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the CSD paper's analyses on a score table (csd.report).")
    parser.add_argument("--table", default="livebench", help="a shipped table or the path of a CSV")
    parser.add_argument("--out", help="output folder (default: reports/<table>/)")
    parser.add_argument("--order", choices=("easy-first", "given", "random"), default="easy-first")
    parser.add_argument("--tiers", default="auto", help="'auto' (the table's shipped tiers), 'none' or a JSON file")
    parser.add_argument("--tier-order", choices=("easy-first", "given"), default="easy-first")
    parser.add_argument("--missing", choices=("loss", "drop-model", "drop-benchmark", "error"), default="loss")
    for size in ("n-runs", "fsa-runs", "n-boot", "boot-runs", "order-runs", "n-random-orders"):
        parser.add_argument(f"--{size}", type=int, help="see csd.report")
    parser.add_argument("--outlier-model")
    parser.add_argument("--outlier-rank", type=int, default=7)
    parser.add_argument("--outlier-count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args(argv)
    shipped = not os.path.isfile(args.table)
    try:
        table = csd.load_table(csd.shipped_table(args.table) if shipped else args.table, missing=args.missing)
        name = args.table if shipped else Path(args.table).stem
        tiers = {"auto": csd.shipped_tiers(args.table) if shipped else None, "none": None}.get(args.tiers, args.tiers)
        out = args.out or os.path.join("reports", name)
        result = csd.report(
            table, out_dir=out, order=args.order, tiers=tiers, tier_order=args.tier_order, name=name,
            n_runs=args.n_runs, fsa_runs=args.fsa_runs, n_boot=args.n_boot, boot_runs=args.boot_runs,
            order_runs=args.order_runs, n_random_orders=args.n_random_orders, outlier_model=args.outlier_model,
            outlier_rank=args.outlier_rank, outlier_count=args.outlier_count, seed=args.seed, quick=args.quick,
            progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
            command=" ".join(["python scripts/paper_analysis.py", *(sys.argv[1:] if argv is None else argv)]))
    except csd.InputError as err:
        print(f"paper_analysis: error: {err}", file=sys.stderr)
        return 2
    print(f"paper_analysis: wrote {len(result.files)} files to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
