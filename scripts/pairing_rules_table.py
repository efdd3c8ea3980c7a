"""E[S_m] of every model of the shipped LiveBench table under each pairing rule, with and
without `avoid_rematch`, and how far the ranking moves between them (Kendall tau-b).

    python scripts/pairing_rules_table.py                  # N = 20,000, T = 0 (a few minutes)
    python scripts/pairing_rules_table.py --n-runs 2000 --elimination 1 --out table.md

Prints (and with --out writes) Markdown: the E[S] table (models by E[S] under `random`,
the paper's rule), the largest standard error of each column, the Kendall tau-b matrix of
the columns' rankings, and each column's largest rank change against `random`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import csd

RULES = ("random", "float", "fold", "slide", "adjacent")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=20_000)
    parser.add_argument("--elimination", type=int, default=0, help="T, models eliminated after each round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    args = parser.parse_args(argv)

    table = csd.load_table(csd.shipped_table("livebench"))
    columns = {}  # label -> SimulationResult
    for avoid_rematch in (False, True):
        for rule in RULES:
            label = rule + (" +avoid" if avoid_rematch else "")
            start = time.perf_counter()
            columns[label] = csd.simulate(
                table,
                n_runs=args.n_runs,
                elimination=args.elimination,
                pairing=rule,
                avoid_rematch=avoid_rematch,
                seed=args.seed,
            )
            print(f"{label}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    text = report(table, columns, args)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def report(table: csd.ScoreTable, columns: dict, args) -> str:
    labels = list(columns)
    scores = np.array([columns[label].expected_score for label in labels])  # (C, M)
    order = columns["random"].order()
    places = np.array([csd.baselines.places(row) for row in scores])  # (C, M), 1 = best
    lines = [
        f"E[S_m] on LiveBench ({len(table.models)} models x {len(table.benchmarks)} benchmarks), "
        f"N = {args.n_runs:,} per column, T = {args.elimination}, seed {args.seed}; "
        "rows by E[S] under `random`; (p) = place under that column.",
        "",
        "| model | " + " | ".join(labels) + " |",
        "| --- | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for m in order:
        cells = [f"{scores[c, m]:.3f} ({places[c, m]})" for c in range(len(labels))]
        lines.append(f"| {table.models[m]} | " + " | ".join(cells) + " |")
    stderr = [columns[label].stderr.max() for label in labels]
    lines.append("| largest SE | " + " | ".join(f"{se:.3f}" for se in stderr) + " |")
    lines += ["", "Kendall tau-b between the columns' rankings (E[S]):", ""]
    lines.append("| | " + " | ".join(labels) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in labels) + " |")
    for a, row_label in enumerate(labels):
        taus = [csd.baselines.kendall_tau(scores[a], scores[b]) for b in range(len(labels))]
        lines.append(f"| {row_label} | " + " | ".join(f"{tau:.3f}" for tau in taus) + " |")
    lines += ["", "Largest change of place against `random` (model):", ""]
    for c, label in enumerate(labels[1:], start=1):
        moved = np.abs(places[c] - places[0])
        m = int(np.argmax(moved))
        lines.append(f"- {label}: {int(moved[m])} ({table.models[m]}: {places[0, m]} -> {places[c, m]})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
