"""A folder of lm-evaluation-harness results to a ranking, lower-is-better metrics flipped.

    python examples/harness_folder.py                        # the small folder in tests/data
    python examples/harness_folder.py --folder ~/lm-eval-out --runs 20000

`csd.load_table` reads every `results_*.json` under the folder (one model per file; the
newest file wins per model and task), picks one metric per task and reads its direction
from the harness's own `higher_is_better`: `wikitext`'s word perplexity is lower-is-better,
so it is negated (flipped) before the tournaments; `table.notes` says so.
"""

import argparse
from pathlib import Path

import csd

HERE = Path(__file__).resolve().parent
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--folder", type=Path, default=HERE.parent / "tests" / "data" / "lm_eval_groups",
                    help="an lm-eval output folder (default: a three-model example)")
parser.add_argument("--runs", type=int, default=20_000, help="N, simulated tournaments (default 20,000)")
args = parser.parse_args()

# tasks="subtasks": play the four MMLU subjects and wikitext as rounds ("groups", the
# default, plays the groups' aggregate scores instead). A metric can be chosen per task:
# metric={"wikitext": "bits_per_byte,none"}; a direction can be forced with
# lower_is_better=[...] or higher_is_better=[...].
table = csd.load_table(args.folder, tasks="subtasks")
print("\n".join(table.notes))            # what was read, which metric, what was flipped
print(dict(zip(table.benchmarks, table.scores[0])))  # the first model's row: wikitext negated

result = csd.simulate(table, n_runs=args.runs, seed=0)
print(result.format_table())
