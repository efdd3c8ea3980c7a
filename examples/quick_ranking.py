"""A first ranking with intervals: a score table to a pandas DataFrame and a figure.

    python examples/quick_ranking.py                       # the shipped LiveBench table
    python examples/quick_ranking.py --table my_scores.csv  # your own (docs/data.md)
    python examples/quick_ranking.py --runs 500 --boot 10   # small sizes: a quick look

It prints the ranking (E[S] with its Monte Carlo SE), then the bootstrap intervals as a
DataFrame (pandas: `pip install '.[pandas]'`), and writes ranking.png: the intervals and
the rank distribution side by side, two result figures composed on one matplotlib figure.
"""

import argparse
from pathlib import Path

from matplotlib.figure import Figure

import csd

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--table", help="a CSV/TSV/.xlsx file or an lm-eval folder (default: the shipped LiveBench)")
parser.add_argument("--runs", type=int, default=20_000, help="N, simulated tournaments (default 20,000)")
parser.add_argument("--boot", type=int, default=100, help="bootstrap replicates (default 100)")
parser.add_argument("--out", type=Path, default=Path("."), help="where ranking.png goes")
args = parser.parse_args()

# 1. The table: every column higher-is-better, missing scores as losses (table.notes says
#    what was read, flipped or dropped).
table = csd.load_table(args.table or csd.shipped_table("livebench"))
print(f"{len(table.models)} models x {len(table.benchmarks)} benchmarks")

# 2. The ranking: E[S], the expected win score over N random tournaments, with its Monte
#    Carlo SE. A result replays exactly from (table, tournament, n_runs, seed).
result = csd.simulate(table, n_runs=args.runs, seed=0)
print(result.format_table(top=10))

# 3. Intervals from the table itself: the benchmarks are resampled (inside the shipped
#    categories where the table has them) and each replicate is ranked again. `tiers`
#    groups models whose intervals overlap.
boot = csd.bootstrap(table, n_boot=args.boot, n_runs=max(100, args.runs // 20), seed=0)
frame = boot.to_dataframe()
print(frame.head(10).to_string(index=False))

# 4. Figures compose: each result draws into the axes it is given.
figure = Figure(figsize=(18, 10), layout="constrained")
left, right = figure.subplots(1, 2)
boot.plot(ax=left, top=25)                       # E[S], its interval, the rank interval, tiers
result.plot("rank_heatmap", ax=right, top=25)    # P(rank) for each model
args.out.mkdir(parents=True, exist_ok=True)
print("wrote", *csd.plots.save(figure, args.out / "ranking.png"))
