"""Plain-Python reference simulator of the tournament rules in docs/rules.md.

It plays one tournament at a time with `random.Random`, literally as the rules read, and
shares no code with the JAX engine: it exists so the engine can be checked against an
independent implementation. Slow (tens of microseconds per round); meant for small M, K
and a few thousand runs.
"""

import random
from typing import NamedTuple

import numpy as np

from tournament_inputs import PAIRING_RULES, default_seed_order


class Rules(NamedTuple):
    """The static settings of one tournament."""

    pairing: str  # one of PAIRING_RULES
    bye_points: float
    draw_points: float
    min_active: int
    seed_rank: list  # (M,) position of each model in the seed order, 0 = best seed


def simulate_reference(
    P,
    schedule,
    *,
    n_runs,
    pairing="random",
    bye_points=0.0,
    draw_points=0.5,
    min_active=1,
    seed=0,
    seed_order=None,
):
    """Monte Carlo estimates from `n_runs` independent tournaments.

    P: (M, M, K) array-like, P[i, j, k] = probability that i beats j in round k
    (P[i, j, k] + P[j, i, k] <= 1, the rest is a draw). schedule: length-K ints,
    schedule[k] models are eliminated after round k. seed_order: model indices, best
    seed first (used by fold/slide/adjacent); default `default_seed_order(P)`.

    Returns a dict of numpy arrays:
      expected_score (M,): mean final score; stderr (M,): its standard error
      (sample sd, ddof=1, over sqrt(n_runs)); rank_probs (M, M): [m, r] = P(rank of m
      == r + 1) with rank = 1 + #{j: S_j > S_m}; champion_prob (M,) = rank_probs[:, 0];
      survival (M, K): P(active after the elimination following round k);
      expected_score_by_round (M, K): mean score after round k; n_runs (int).
    """
    win_prob = np.asarray(P, dtype=float)  # (M, M, K)
    n_models, _, n_rounds = win_prob.shape
    if seed_order is None:
        seed_order = default_seed_order(win_prob)
    check_inputs(win_prob, schedule, pairing, n_runs, seed_order)
    seed_rank = [0] * n_models
    for rank, model in enumerate(seed_order):
        seed_rank[model] = rank
    rules = Rules(pairing, float(bye_points), float(draw_points), min_active, seed_rank)

    rng = random.Random(seed)
    win_prob_by_round = [win_prob[:, :, k].tolist() for k in range(n_rounds)]  # K x (M, M)
    final = np.empty((n_runs, n_models))
    score_sum = np.zeros((n_rounds, n_models))
    active_count = np.zeros((n_rounds, n_models))
    for run in range(n_runs):
        scores, active = play_tournament(win_prob_by_round, schedule, rules, rng)
        final[run] = scores[-1]
        score_sum += scores
        active_count += active
    return summarize(final, score_sum / n_runs, active_count / n_runs)


def check_inputs(win_prob, schedule, pairing, n_runs, seed_order):
    """Raise ValueError on inputs the rules do not define."""
    n_models, n_opponents, n_rounds = win_prob.shape
    if n_models != n_opponents or len(schedule) != n_rounds:
        raise ValueError(f"P {win_prob.shape} and schedule of length {len(schedule)} disagree")
    if pairing not in PAIRING_RULES:
        raise ValueError(f"unknown pairing {pairing!r}; expected one of {PAIRING_RULES}")
    if (win_prob < 0).any() or (win_prob + win_prob.transpose(1, 0, 2) > 1 + 1e-12).any():
        raise ValueError("need P >= 0 and P[i, j, k] + P[j, i, k] <= 1")
    if sorted(seed_order) != list(range(n_models)):
        raise ValueError(f"seed_order {seed_order} is not an order of the {n_models} models")
    if n_runs < 2:
        raise ValueError("need n_runs >= 2 for a standard error")


def play_tournament(win_prob_by_round, schedule, rules, rng):
    """One tournament. Returns (scores, active): K lists of M (state after each round)."""
    n_models = len(win_prob_by_round[0])
    scores = [0.0] * n_models
    active = [True] * n_models
    scores_by_round, active_by_round = [], []
    for win_prob, n_scheduled in zip(win_prob_by_round, schedule):
        groups = score_groups(scores, active, rules.seed_rank)
        pairs, byes = PAIRING[rules.pairing](groups, rng)
        scores = play_round(scores, pairs, byes, win_prob, rules, rng)
        active = eliminate(scores, active, n_scheduled, rules.min_active, rng)
        scores_by_round.append(scores)
        active_by_round.append(active)
    return scores_by_round, active_by_round


def score_groups(scores, active, seed_rank):
    """Active models grouped by equal score, highest score first, each group in seed order."""
    by_score = {}
    for model, score in enumerate(scores):
        if active[model]:
            by_score.setdefault(score, []).append(model)
    return [
        sorted(by_score[score], key=seed_rank.__getitem__)
        for score in sorted(by_score, reverse=True)
    ]


def consecutive_pairs(line):
    """Pairs (line[0], line[1]), (line[2], line[3]), ... of an even-length list."""
    return list(zip(line[0::2], line[1::2]))


def random_pairing(groups, rng):
    """`random`: a uniform perfect matching inside each group, a uniform bye if it is odd.

    A uniformly shuffled group read in consecutive pairs is a uniform matching; when the
    group is odd, its last member (uniform) is the bye.
    """
    pairs, byes = [], []
    for group in groups:
        line = list(group)
        rng.shuffle(line)
        if len(line) % 2:
            byes.append(line.pop())
        pairs += consecutive_pairs(line)
    return pairs, byes


def float_pairing(groups, rng):
    """`float`: groups top down, carrying at most one floater into the next group.

    The floater plays a uniform member of its new group; the rest of the group is matched
    uniformly, and a uniform leftover floats on. The last leftover gets the bye.
    """
    pairs, floater = [], None
    for group in groups:
        members = list(group)
        if floater is not None:
            partner = rng.choice(members)
            members.remove(partner)
            pairs.append((floater, partner))
        rng.shuffle(members)
        floater = members.pop() if len(members) % 2 else None
        pairs += consecutive_pairs(members)
    return pairs, [] if floater is None else [floater]


def seeded_segments(groups):
    """Cut the seed-ordered groups into even segments (fold/slide/adjacent).

    Each group's segment is the floater sent down from above (first, if any) followed by
    the group; if that is odd, its last member (the group's lowest seed) is sent down.
    Returns (segments, byes): the last floater, if any, is the bye.
    """
    segments, floater = [], []
    for group in groups:
        segment = floater + list(group)
        floater = [segment.pop()] if len(segment) % 2 else []
        if segment:
            segments.append(segment)
    return segments, floater


def fold_pairs(segment):
    """1st-last, 2nd-second last, ..."""
    half = len(segment) // 2
    return list(zip(segment[:half], reversed(segment[half:])))


def slide_pairs(segment):
    """1st-(g/2+1)th, 2nd-(g/2+2)th, ..."""
    half = len(segment) // 2
    return list(zip(segment[:half], segment[half:]))


def seeded_pairing(segment_pairs):
    """A pairing rule (groups, rng) -> (pairs, byes) applying `segment_pairs` per segment."""

    def pair(groups, rng):
        segments, byes = seeded_segments(groups)
        return [p for segment in segments for p in segment_pairs(segment)], byes

    return pair


PAIRING = {
    "random": random_pairing,
    "float": float_pairing,
    "fold": seeded_pairing(fold_pairs),
    "slide": seeded_pairing(slide_pairs),
    "adjacent": seeded_pairing(consecutive_pairs),
}


def play_round(scores, pairs, byes, win_prob, rules, rng):
    """New score list after the byes and one independent game per pair.

    win_prob: (M, M) nested lists for this round. A uniform u decides: i wins if
    u < P[i, j], j wins if u < P[i, j] + P[j, i], otherwise a draw.
    """
    scores = list(scores)
    for model in byes:
        scores[model] += rules.bye_points
    for i, j in pairs:
        u = rng.random()
        if u < win_prob[i][j]:
            scores[i] += 1.0
        elif u < win_prob[i][j] + win_prob[j][i]:
            scores[j] += 1.0
        else:
            scores[i] += rules.draw_points
            scores[j] += rules.draw_points
    return scores


def eliminate(scores, active, n_scheduled, min_active, rng):
    """New active list: the lowest-scoring active models go, at most down to min_active.

    Shuffling before a stable sort by score puts every equal-score group in uniform
    order, so the members cut from the boundary group are a uniform subset.
    """
    alive = [model for model, is_active in enumerate(active) if is_active]
    n_out = max(0, min(n_scheduled, len(alive) - min_active))
    rng.shuffle(alive)
    alive.sort(key=scores.__getitem__)
    out = set(alive[:n_out])
    return [is_active and model not in out for model, is_active in enumerate(active)]


def summarize(final, mean_score_by_round, survival):
    """The dict of simulate_reference from the (N, M) final scores and the (K, M) means
    of the scores and active flags after each round."""
    n_runs, n_models = final.shape
    # rank[n, m] = 1 + #{j : S_j > S_m}
    rank = 1 + (final[:, None, :] > final[:, :, None]).sum(axis=2)  # (N, M)
    rank_probs = (rank[:, :, None] == np.arange(1, n_models + 1)).mean(axis=0)  # (M, M)
    return {
        "expected_score": final.mean(axis=0),
        "stderr": final.std(axis=0, ddof=1) / np.sqrt(n_runs),
        "rank_probs": rank_probs,
        "champion_prob": rank_probs[:, 0],
        "survival": survival.T,  # (M, K)
        "expected_score_by_round": mean_score_by_round.T,  # (M, K)
        "n_runs": n_runs,
    }
