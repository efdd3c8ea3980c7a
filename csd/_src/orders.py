"""What a ranking can claim: how it moves with the round order, and which rounds matter.

CSD ranks the models *for a given sequence of benchmarks*: who meets whom depends on the
scores built up in the earlier rounds, so another order gives another ranking.
`random_orders` draws R random orders (inside tiers, where the tournament has them);
`csd.order_sensitivity` (`csd._src.simulate`) plays the table under them and compares
each ranking with the reported one.

Under `random` pairing a tournament can freeze: once every score group holds a single
model, nobody plays again and the remaining benchmarks change nothing.
`SimulationResult.round_activity` measures it; `csd._src.frozen` says it.

Example:
  >>> import numpy as np, csd
  >>> table = csd.ScoreTable(("a", "b", "c", "d"), ("x", "y", "z"), np.array(
  ...     [[4.0, 1, 4], [3, 3, 3], [2, 2, 2], [1, 4, 1]]))
  >>> result = csd.simulate(table, n_runs=2000, order_sensitivity=4)
  >>> result.order_sensitivity.reported_leader, len(result.order_sensitivity.orders)
  ('a', 4)
"""

from __future__ import annotations

import numpy as np

from csd._src import streams
from csd._src.baselines import places
from csd._src.report import interactive
from csd._src.report.model import Figure, Section, bullets, result_table
from csd._src.results import SimulationResult
from csd._src.table import ScoreTable

ORDER_WORDS = {
    "given": "the table's column order",
    "easy-first": "easiest benchmark first (by mean score)",
    "random": "one random order",
    "shuffle": "a fresh random order in every tournament",
}


def random_orders(rounds, tiers, n_orders: int, seed: int) -> list[list[str]]:
    """`n_orders` random orders of `rounds` (names in play order) from host stream
    `streams.ORDER_SENSITIVITY`: uniform permutations, or with `tiers` (tuples of names)
    a permutation inside each tier, the tiers in the order they are played."""
    rounds = list(rounds)
    tier_of = {name: t for t, names in enumerate(tiers or ()) for name in names}
    groups: list[list[str]] = []
    for name in rounds:
        if groups and tier_of.get(name) == tier_of.get(groups[-1][0]):
            groups[-1].append(name)
        else:
            groups.append([name])
    rng = streams.host_generator(seed, streams.ORDER_SENSITIVITY)
    return [[group[i] for group in groups for i in rng.permutation(len(group))] for _ in range(n_orders)]


def rounds_in_order(table_or_probs, names):
    """The table (or (M, M, K) tensor, rounds named `round_k`) with its rounds in the
    order `names`."""
    if isinstance(table_or_probs, ScoreTable):
        return table_or_probs.with_benchmarks(names)
    return np.asarray(table_or_probs)[:, :, [int(name.removeprefix("round_")) for name in names]]


def order_notes(result: SimulationResult, order: str | None = None) -> list[str]:
    """The header lines on the round order: which order was played (`order`: a
    description; default from the tournament) and that the ranking depends on it, and the
    order sensitivity if measured (where rounds froze: `csd._src.frozen`)."""
    spec = result.tournament
    if order is None:
        order = ORDER_WORDS[spec.order] + (f", inside {len(spec.tiers)} tiers" if spec.tiers else "")
    if spec.order == "shuffle":
        claim = "E[S] averages over the orders, so no single order decides the ranking"
        claim += "; the order of the tiers still does" if spec.tiers and len(spec.tiers) > 1 else ""
    else:
        claim = "CSD ranks for this sequence of benchmarks: another order gives another ranking"
    lines = [f"round order: {order}; {claim}"]
    if result.order_sensitivity is not None:
        lines.append(result.order_sensitivity.line())
    return lines


def order_section(result: SimulationResult, order: str | None = None) -> Section:
    """The report's section on the round order and the rounds that matter."""
    parts = [bullets(order_notes(result, order))]
    if result.order_sensitivity is not None:
        sensitivity = result.order_sensitivity
        parts += [
            f"E[S] under {len(sensitivity.orders)} random orders ({sensitivity.n_runs:,} tournaments each), "
            "Kendall tau-b against the reported ranking:", result_table(sensitivity.table()),
            Figure("", "The ranking under other round orders", "Each line is one of the best models by E[S]: its "
                   "rank under the reported order and under each random order in the table above.",
                   interactive.bump(result.models, {"reported": places(result.expected_score), **{
                       f"order {r + 1}": places(scores) for r, scores in enumerate(sensitivity.expected_score)}},
                       "Rank of each model under other round orders", "round order")),
        ]
    if result.round_activity is not None:
        cells = ", ".join(f"{name} {share:.2f}" for name, share in zip(result.rounds, result.round_activity))
        parts.append(f"Share of tournaments with at least one game, by round (in play order): {cells}.")
    return Section("round_order", "Round order and frozen rounds", parts)
