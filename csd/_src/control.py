"""The kernel side of the control-variate estimator (docs/variance.md).

Per run and model, Z = X - sum_k beta_k(s_k) (x_k - g_k) - sum_k gamma_k(s_{k+1})
(survived_k - p_surv_k): X the final score, x_k the points of round k, g_k their mean
given the state before the round's pairing, survived_k whether the model survived the
elimination after round k and p_surv_k its probability given the scores. Both corrections
have mean zero whatever the tables beta and gamma are, as long as the tables do not
depend on the run, so E[Z] = E[X]. The tables are fitted on pilot runs (`pilot_sums`, and
`estimator` on the host).

P(champion) takes the same two corrections with weights of its own, the value of a win
and of surviving for finishing first, applied to the run's P(first | before the last
round's games) (`engine._champion_before_last_round`).

g_k is derived for the `random` rule with a random bye only: inside a score group of g
active models a model's partner is uniform over the others, and an odd group's bye goes
to a uniformly random member.

All scores are in ticks (see `engine`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import lax

from csd._src.gather import take
from csd._src.outcomes import TensorOutcomes


class Tables(NamedTuple):
    """The weights of one schedule's control terms, each (K, M, V, 2) float32 (V score
    values, 0 .. V - 1 ticks; [..., 0] for the final score, [..., 1] for finishing first,
    side by side so that one gather reads both).

    Attributes:
      beta: [k, m, s] weights of (x_k - g_k) of model m with score s before round k (the
        value of a win; for finishing first 0 in the last round, whose games the champion
        score already averages over).
      gamma: [k, m, s] weights of (survived_k - p_surv_k) of model m with score s after
        round k (the value of surviving the elimination after round k).
    """

    beta: jnp.ndarray
    gamma: jnp.ndarray


def round_control(rules, outcomes, tables: Tables, before, active, score_after, round_index, cut):
    """(M, 2) float32: the control terms of one run's round `round_index` (k), for the
    final score [:, 0] and for finishing first [:, 1]: the martingale term of round k and
    the elimination term of the elimination just before it (after round k - 1; none
    before round 0).

    Args:
      rules: engine `Rules`; outcomes: engine outcomes; tables: this schedule's `Tables`.
      before: the engine `State` before the elimination that precedes round k.
      active: (M,) bool models that play round k (after that elimination).
      score_after: (M,) int32 scores after round k.
      round_index: () int32 k; cut: () int32 the models that elimination was to remove
        (the same for every run): with none the elimination term is exactly 0, and is
        skipped.
    """
    score = before.score
    # Without the barrier XLA:CPU recomputes the round's score update inside this sum's
    # fusion: a cv run on the 29x38 paper table took 2.1 s per 100k runs instead of 1.2 s.
    points = (lax.optimization_barrier(score_after) - score).astype(jnp.float32)
    mean_points = conditional_points(rules, outcomes, score, active, round_index)
    martingale = _lookup(tables.beta[round_index], score) * jnp.where(active, points - mean_points, 0.0)[:, None]

    def elimination():
        gamma = _lookup(tables.gamma[jnp.maximum(round_index - 1, 0)], score)
        return gamma * (active.astype(jnp.float32) - survival_probability(score, before.active, active))[:, None]

    return martingale + lax.cond(cut > 0, elimination, lambda: jnp.zeros_like(martingale))


def conditional_points(rules, outcomes, score, active, round_index) -> jnp.ndarray:
    """(M,) float32 g_k: the expected ticks of each active model in round `round_index`
    under `random` pairing with a random bye, given the scores (M,) int32 and the models
    that play (M,) bool. A model in a group of g has mean (bye + sum_j q_j) / g if g is odd
    and sum_j q_j / (g - 1) if even, q_j its expected ticks against group member j."""
    against_mates, size = group_sums(rules, outcomes, score, active, round_index)
    odd = (size & 1) == 1
    size = size.astype(jnp.float32)
    return jnp.where(odd, (rules.bye_ticks + against_mates) / size, against_mates / jnp.maximum(size - 1, 1))


# Up to this many model slots a score table's group sums go through all pairs, above it
# through one sort: on XLA:CPU (2 cores, cv runs of uniform M x 21 tables) all pairs took
# 27 / 51 / 131 / 297 / 758 / 1529 us per run at M = 40 / 65 / 130 / 256 / 450 / 700,
# the sort 48 / 103 / 212 / 466 / 957 / 1927, and at M = 1000 the sort won (2674 vs 2846).
PAIR_SUMS_MAX_MODELS = 768


def group_sums(rules, outcomes, score, active, round_index):
    """(expected ticks against the other members of each model's score group (M,)
    float32, group size (M,) int32) in round `round_index`, given the scores (M,) int32
    and the models that play (M,) bool; eliminated models form one group of their own."""
    if isinstance(outcomes, TensorOutcomes):
        return _group_sums_tensor(rules, outcomes, score, active, round_index)
    if rules.n_models <= PAIR_SUMS_MAX_MODELS:
        return _group_sums_level_pairs(rules, outcomes, score, active, round_index)
    return _group_sums_levels(rules, outcomes, score, active, round_index)


def survival_probability(score, was_active, active) -> jnp.ndarray:
    """(M,) float32 P(survive the elimination | scores): 1 above the lowest surviving score,
    (survivors / members) at it (the tie-break is uniform), 0 below; 0 for a model that was
    not active. score: (M,) int32; was_active, active: (M,) bool before and after."""
    lowest = jnp.min(jnp.where(active, score, jnp.iinfo(jnp.int32).max))
    at_cut = was_active & (score == lowest)
    share = (active & at_cut).sum() / jnp.maximum(at_cut.sum(), 1)
    return jnp.where(was_active & (score > lowest), 1.0, jnp.where(at_cut, share, 0.0)).astype(jnp.float32)


def pilot_sums(n_values: int, active, score_after, final_score) -> jnp.ndarray:
    """(2, 3, K, M, V) int32 sums over C runs for fitting the tables: [0] over the models
    that played round k, [1] over those that survived the elimination after it (none after
    the last round); [., 0] counts, [., 1] sums of the ticks earned after round k and
    [., 2] the runs the model finished first (alone or tied), per (round k, model m, score
    after round k).

    Args:
      n_values: V, score values 0 .. V - 1 ticks.
      active: (K, C, M) bool models that played round k; score_after: (K, C, M) int32.
      final_score: (C, M) int32 (padding models score 0, which never tops a real one).
    """
    n_rounds, n_runs, n_models = active.shape
    if n_runs >= 1 << 15:
        raise ValueError(f"pilot_sums packs two counts per cell into 16-bit fields: {n_runs} runs a call, at most 32767")
    survived = jnp.concatenate([active[1:], jnp.zeros_like(active[:1])])
    rounds = jnp.arange(n_rounds, dtype=jnp.int32)[:, None, None]
    cells = ((rounds * n_models + jnp.arange(n_models, dtype=jnp.int32)) * n_values + score_after).reshape(-1)
    later = (final_score[None] - score_after).reshape(-1)
    first = jnp.broadcast_to(final_score == final_score.max(axis=1, keepdims=True), score_after.shape).reshape(-1)
    # A run counts 1 in the low 16 bits and, if the model finished first, 1 in the high
    # ones: four scatters instead of six, which took 2.5x as long on XLA:CPU.
    counts = 1 + (first.astype(jnp.int32) << 16)
    sums = []
    for weight in (active, survived):
        weight = weight.reshape(-1).astype(jnp.int32)
        packed, total_later = (jnp.zeros(n_rounds * n_models * n_values, jnp.int32).at[cells].add(weight * value)
                               for value in (counts, later))
        sums += [packed & 0xFFFF, total_later, packed >> 16]
    return jnp.stack(sums).reshape((2, 3, n_rounds, n_models, n_values))


def _lookup(table, score) -> jnp.ndarray:
    """(M, 2) table[m, score[m]] of a (M, V, 2) table."""
    n_models, n_values, width = table.shape
    index = jnp.arange(n_models, dtype=jnp.int32) * n_values + jnp.clip(score, 0, n_values - 1)
    return take(table.reshape(n_models * n_values, width), index)


def _group_sums_tensor(rules, outcomes, score, active, round_index):
    """(sum of q over the other members of the model's group (M,) float32, group size (M,)
    int32) from a probability tensor: all pairs, summed in blocks."""
    n_models = rules.n_models
    win = outcomes.win_prob[round_index].reshape(n_models, n_models)
    expected = rules.win_ticks * win + rules.draw_ticks * (1.0 - win - win.T)  # (M, M), same for all runs
    expected = jnp.where(jnp.eye(n_models, dtype=bool), 0.0, expected)
    group = jnp.where(active, score, -1)
    against_mates = _sum_blocks(
        lambda part: jnp.where(group[None, part] == group[:, None], expected[:, part], 0.0).sum(1), n_models
    )
    size = _sum_blocks(lambda part: (group[None, part] == group[:, None]).sum(1, dtype=jnp.int32), n_models)
    return against_mates, size


def _group_sums_level_pairs(rules, outcomes, score, active, round_index):
    """As `_group_sums_tensor` for a score table, all pairs (up to `PAIR_SUMS_MAX_MODELS`,
    so three counts fit in 31 bits) in one pass that adds packed counts (members of the
    group below the model's benchmark level, at it, in all): q is a win against each lower
    level and a tie against each equal one."""
    n_models = rules.n_models
    level = outcomes.levels[round_index]
    group = jnp.where(active, score, -1)
    width = n_models.bit_length()

    def term(part):
        same_group = group[None, part] == group[:, None]
        other = level[None, part]
        increment = jnp.where(
            other < level[:, None], 1 + (1 << (2 * width)), jnp.where(other == level[:, None], (1 << width) + (1 << (2 * width)), 1 << (2 * width))
        )
        return jnp.where(same_group, increment, 0).sum(1, dtype=jnp.int32)

    packed = _sum_blocks(term, n_models)
    field = (1 << width) - 1
    below, tied, size = ((packed >> (f * width)) & field for f in range(3))
    return _against_mates(rules, outcomes, below, tied - 1), size.astype(jnp.int32)


def _sum_blocks(term, n_models: int):
    """The sum of `term(part)` over slices `part` of at most 32 models: on XLA:CPU a
    compare-and-sum fuses only up to 32 terms (see `ordering`)."""
    return sum(term(slice(s, s + 32)) for s in range(0, n_models, 32))


def _against_mates(rules, outcomes, below, tied):
    """(M,) float32 expected ticks against the group's other members, from the number
    below the model's benchmark level and the number tied with it."""
    tie_ticks = outcomes.tie_win * rules.win_ticks + (1.0 - 2.0 * outcomes.tie_win) * rules.draw_ticks
    return rules.win_ticks * below + tied * tie_ticks


def _group_sums_levels(rules, outcomes, score, active, round_index):
    """As `_group_sums_tensor` for a score table, by one sort: q is a win against each
    lower benchmark level in the group and a tie against each equal one."""
    n_levels = rules.n_models + 1  # levels -1 .. M - 1
    level = outcomes.levels[round_index] + 1
    group = jnp.where(active, score, -1) + 1
    key = group * n_levels + level
    ordered = jnp.sort(key)
    first = jnp.searchsorted(ordered, group * n_levels)
    end = jnp.searchsorted(ordered, (group + 1) * n_levels)
    below = jnp.searchsorted(ordered, key)
    tied = jnp.searchsorted(ordered, key, side="right") - below - 1
    return _against_mates(rules, outcomes, below - first, tied), (end - first).astype(jnp.int32)
