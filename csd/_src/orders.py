"""What a ranking can claim: how it moves with the round order, and which rounds matter.

CSD ranks the models *for a given sequence of benchmarks*: who meets whom depends on the
scores built up in the earlier rounds, so another order gives another ranking.
`order_sensitivity` plays the table under R random orders (inside tiers, where the
tournament has them) and compares each ranking with the reported one.

Under `random` pairing with 0-point byes a tournament can freeze: once every score group
holds a single model, nobody plays again and the remaining benchmarks change nothing.
`SimulationResult.round_activity` measures it; `frozen_rounds_warning` says it.

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
from csd._src.baselines import kendall_tau, places
from csd._src.errors import check_int
from csd._src.estimator import pilot_size
from csd._src.report import interactive
from csd._src.report.model import Figure, Section, bullets, result_table
from csd._src.results import ACTIVE_ROUND_SHARE, OrderSensitivity, SimulationResult
from csd._src.spec import Tournament, as_tournament
from csd._src.table import ScoreTable

ORDER_WORDS = {
    "given": "the table's column order",
    "easy-first": "easiest benchmark first (by mean score)",
    "random": "one random order",
    "shuffle": "a fresh random order in every tournament",
}


def order_sensitivity(
    table_or_probs,
    tournament: Tournament | None = None,
    *,
    n_orders: int = 8,
    n_runs: int | None = None,
    seed: int = 0,
    reference: SimulationResult | None = None,
    chunk_size: int | None = None,
    **rules,
) -> OrderSensitivity:
    """The ranking under `n_orders` random round orders, against the reported one.

    Args:
      table_or_probs: a `ScoreTable` or an (M, M, K) tensor, as `csd.simulate` takes.
      tournament, **rules: the rules (as `csd.simulate`); each random order is played with
        them, in a fixed order. With `tournament.tiers` the rounds are shuffled inside each
        tier and the tiers keep their order.
      n_orders: R, the random orders, drawn from host stream `streams.ORDER_SENSITIVITY`.
      n_runs: tournaments per order (default: the reference's N / R, at least 200, so the
        R orders together cost about one main run). Each order uses the cv estimator
        where its pilot is no longer than the order's runs, else the plain one.
      seed: the seed of the orders and of their runs.
      reference: the reported result (default: `csd.simulate` of the tournament with
        `n_runs` or 10,000 runs).
      chunk_size: runs per kernel call.

    Returns:
      An `OrderSensitivity`.

    Raises:
      InputError: for an invalid option, as `csd.simulate`.
    """
    from csd._src.simulate import simulate

    tournament = as_tournament(tournament, rules)
    n_orders = check_int("order_sensitivity", n_orders, 1)
    if reference is None:
        reference = simulate(table_or_probs, tournament=tournament, n_runs=n_runs or 10_000, seed=seed,
                             chunk_size=chunk_size)
    runs = n_runs or max(200, reference.n_runs // n_orders)
    fixed = tournament.replace(order="given", tiers=None)
    orders = random_orders(reference.rounds, tournament.tiers, n_orders, seed)
    # cv's pilot is at least 1,024 runs: below that many runs per order it would cost more
    # than the orders themselves, so plain runs.
    how = "cv" if pilot_size(runs) <= runs else "plain"
    scores = np.array([
        simulate(rounds_in_order(table_or_probs, order), tournament=fixed, n_runs=runs, seed=seed,
                 chunk_size=chunk_size, estimator=how).expected_score
        for order in orders
    ])
    leaders = tuple(reference.models[int(np.argmax(row))] for row in scores)
    return OrderSensitivity(
        orders=tuple(tuple(order) for order in orders),
        expected_score=scores,
        kendall_tau=np.array([kendall_tau(reference.expected_score, row) for row in scores]),
        leaders=leaders,
        reported_leader=reference.models[int(reference.order()[0])],
        n_runs=runs,
        within_tiers=tournament.tiers is not None and len(tournament.tiers) > 1,
    )


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


def frozen_rounds_warning(result: SimulationResult) -> str | None:
    """A warning when a run of final rounds played a game in under 1% of the tournaments
    (`SimulationResult.round_activity`), else None."""
    last = result.last_active_round()
    n_rounds = len(result.rounds)
    if last is None or last >= n_rounds - 1:
        return None
    first_idle = last + 2  # 1-based
    span = f"round {n_rounds}" if first_idle == n_rounds else f"rounds {first_idle}-{n_rounds}"
    return (
        f"warning: {span} ({n_rounds - last - 1} of {n_rounds} benchmarks) played a game in under "
        f"{ACTIVE_ROUND_SHARE:.0%} of the tournaments: the tournaments are frozen (every score group holds one "
        "model, or one model is left), so those benchmarks barely change the ranking; consider pairing=float "
        "or fewer rounds"
    )


def order_notes(result: SimulationResult, order: str | None = None) -> list[str]:
    """The header lines on the round order: which order was played (`order`: a
    description; default from the tournament) and that the ranking depends on it, the
    order sensitivity if measured, and the frozen-rounds warning if any."""
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
    warning = frozen_rounds_warning(result)
    return lines + ([warning] if warning else [])


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
