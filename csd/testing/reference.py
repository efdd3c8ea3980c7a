"""Plain-Python reference simulator of the tournament rules in docs/rules.md.

It plays one tournament at a time with `random.Random`, literally as the rules read, and
shares no code with the JAX engine: it exists so the engine can be checked against an
independent implementation. Slow (tens of microseconds per round); meant for small M, K
and a few thousand runs.
"""

import random
from typing import NamedTuple

import numpy as np

from csd.testing.tournament_inputs import PAIRING_RULES, check_pairing_options, default_seed_order


class Rules(NamedTuple):
    """The static settings of one tournament."""

    pairing: str  # one of PAIRING_RULES
    bye_points: float
    draw_points: float
    min_active: int
    seed_rank: list  # (M,) position of each model in the seed order, 0 = best seed
    bye: str = "random"  # who of an odd group gets the bye: "random" or "lowest" (seed)
    bye_once: bool = False  # prefer members with no earlier bye
    avoid_rematch: bool = False  # search for a pairing without rematches


class History(NamedTuple):
    """What a pairing may depend on besides the scores: who met whom, who had a bye."""

    met: set  # frozensets {i, j} of models that have played each other
    had_bye: set  # models that have had a bye


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
    bye=None,
    bye_once=False,
    avoid_rematch=False,
):
    """Monte Carlo estimates from `n_runs` independent tournaments.

    P: (M, M, K) array-like, P[i, j, k] = probability that i beats j in round k
    (P[i, j, k] + P[j, i, k] <= 1, the rest is a draw). schedule: length-K ints,
    schedule[k] models are eliminated after round k. seed_order: model indices, best
    seed first (used by fold/slide/adjacent and bye="lowest"); default
    `default_seed_order(P)`. bye, bye_once, avoid_rematch: the pairing options of
    docs/rules.md (bye=None: the rule's own).

    Returns a dict of numpy arrays:
      expected_score (M,): mean final score; stderr (M,): its standard error
      (sample sd, ddof=1, over sqrt(n_runs)); rank_probs (M, M): [m, r] = P(place of m
      == r + 1), the g models tied on a score in a run sharing the g places they span
      equally (1/g each); champion_prob (M,): P(top final score, alone or tied);
      survival (M, K): P(active after the elimination following round k);
      expected_score_by_round (M, K): mean score after round k; n_runs (int).
    """
    win_prob = np.asarray(P, dtype=float)  # (M, M, K)
    n_models, _, n_rounds = win_prob.shape
    if seed_order is None:
        seed_order = default_seed_order(win_prob)
    check_inputs(win_prob, schedule, pairing, n_runs, seed_order)
    win_prob_by_round, rules = prepare(
        win_prob, pairing, bye_points, draw_points, min_active, seed_order, bye, bye_once, avoid_rematch
    )

    rng = random.Random(seed)
    final = np.empty((n_runs, n_models))
    score_sum = np.zeros((n_rounds, n_models))
    active_count = np.zeros((n_rounds, n_models))
    for run in range(n_runs):
        scores, active = play_tournament(win_prob_by_round, schedule, rules, rng)
        final[run] = scores[-1]
        score_sum += scores
        active_count += active
    return summarize(final, score_sum / n_runs, active_count / n_runs)


def prepare(win_prob, pairing, bye_points, draw_points, min_active, seed_order, bye=None, bye_once=False,
            avoid_rematch=False):
    """What `play_tournament` takes besides the schedule: P as K nested (M, M) lists, and
    the `Rules` (seed_order: model indices, best seed first; bye=None: the rule's own)."""
    n_models, _, n_rounds = win_prob.shape
    seed_rank = [0] * n_models
    for rank, model in enumerate(seed_order):
        seed_rank[model] = rank
    rules = Rules(
        pairing, float(bye_points), float(draw_points), min_active, seed_rank,
        check_pairing_options(pairing, bye), bye_once, avoid_rematch,
    )
    return [win_prob[:, :, k].tolist() for k in range(n_rounds)], rules


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
    history = History(set(), set())
    scores_by_round, active_by_round = [], []
    for win_prob, n_scheduled in zip(win_prob_by_round, schedule):
        groups = score_groups(scores, active, rules.seed_rank)
        if not (rules.bye_once or rules.avoid_rematch or rules.bye != check_pairing_options(rules.pairing, None)):
            pairs, byes = PAIRING[rules.pairing](groups, rng)
        else:
            pairs, byes = PAIRING_WITH_OPTIONS[rules.pairing](groups, rng, rules, history)
        history.met.update(frozenset(pair) for pair in pairs)
        history.had_bye.update(byes)
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


# --- the pairing options: bye choice, one bye per model, no rematches -----------------


def choose_bye(members, rng, rules, history):
    """The member of `members` that gets a bye: among those with no bye yet (if
    bye_once and there are any, else among all), the lowest seed or a uniform one."""
    pool = list(members)
    if rules.bye_once and any(m not in history.had_bye for m in pool):
        pool = [m for m in pool if m not in history.had_bye]
    if rules.bye == "lowest":
        return max(pool, key=rules.seed_rank.__getitem__)
    return rng.choice(pool)


def candidates(rest, pattern):
    """The order in which the leader of a segment tries the others (`rest`, in segment
    order): the pattern's own partner first, then outward from it."""
    if pattern == "fold":
        return rest[::-1]
    if pattern == "slide":
        half = (len(rest) + 1) // 2
        return rest[half - 1 :] + rest[: half - 1][::-1]
    return list(rest)


def rematch_free(line, pattern, met):
    """The first pairing of `line` without a rematch in the depth-first order of
    `candidates`, or None if there is none."""
    if not line:
        return []
    leader, rest = line[0], line[1:]
    for partner in candidates(rest, pattern):
        if frozenset((leader, partner)) in met:
            continue
        tail = rematch_free([m for m in rest if m != partner], pattern, met)
        if tail is not None:
            return [(leader, partner)] + tail
    return None


def fewer_rematches(line, pattern, met):
    """Greedy: each leader takes its first candidate it has not met, else its first."""
    pairs = []
    while line:
        leader, rest = line[0], line[1:]
        order = candidates(rest, pattern)
        partner = next((m for m in order if frozenset((leader, m)) not in met), order[0])
        pairs.append((leader, partner))
        line = [m for m in rest if m != partner]
    return pairs


PATTERN_PAIRS = {
    "adjacent": lambda line: consecutive_pairs(line),
    "fold": lambda line: fold_pairs(line),
    "slide": lambda line: slide_pairs(line),
}


def pair_segment(line, pattern, rules, history):
    """Pairs of an even segment in order: the pattern, or with avoid_rematch the first
    rematch-free pairing (greedy if there is none)."""
    if not rules.avoid_rematch:
        return PATTERN_PAIRS[pattern](line)
    found = rematch_free(line, pattern, history.met)
    return found if found is not None else fewer_rematches(line, pattern, history.met)


def random_pairing_with_options(groups, rng, rules, history):
    """`random`: an odd group's bye by `choose_bye`, the rest shuffled (uniform order) and
    paired as a segment."""
    pairs, byes = [], []
    for group in groups:
        line = list(group)
        if len(line) % 2:
            byes.append(choose_bye(line, rng, rules, history))
            line.remove(byes[-1])
        rng.shuffle(line)
        pairs += pair_segment(line, "adjacent", rules, history)
    return pairs, byes


def float_pairing_with_options(groups, rng, rules, history):
    """`float` in its procedural form: if the count is odd, the lowest group's bye goes
    first (`choose_bye`); then groups top down, each shuffled behind the floater from
    above; an odd segment's last member floats on."""
    groups = [list(group) for group in groups]
    byes = []
    if sum(map(len, groups)) % 2:
        byes.append(choose_bye(groups[-1], rng, rules, history))
        groups[-1].remove(byes[-1])
    pairs, floater = [], []
    for group in groups:
        rng.shuffle(group)
        segment = floater + group
        floater = [segment.pop()] if len(segment) % 2 else []
        pairs += pair_segment(segment, "adjacent", rules, history)
    assert not floater
    return pairs, byes


def seeded_pairing_with_options(pattern):
    """fold/slide/adjacent: with bye_once the lowest group's bye (`choose_bye`) is moved
    to the end of its group; segments as `seeded_segments`, each paired by `pair_segment`."""

    def pair(groups, rng, rules, history):
        groups = [list(group) for group in groups]
        if sum(map(len, groups)) % 2:
            bye = choose_bye(groups[-1], rng, rules, history)
            groups[-1].remove(bye)
            groups[-1].append(bye)
        segments, byes = seeded_segments(groups)
        return [p for segment in segments for p in pair_segment(segment, pattern, rules, history)], byes

    return pair


PAIRING_WITH_OPTIONS = {
    "random": random_pairing_with_options,
    "float": float_pairing_with_options,
    "fold": seeded_pairing_with_options("fold"),
    "slide": seeded_pairing_with_options("slide"),
    "adjacent": seeded_pairing_with_options("adjacent"),
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
    above = (final[:, None, :] > final[:, :, None]).sum(axis=2)  # (N, M): #{j : S_j > S_m}
    tied = (final[:, None, :] == final[:, :, None]).sum(axis=2)  # (N, M): #{j : S_j == S_m}, m too
    place = np.arange(n_models)  # 0-based
    spans = (above[:, :, None] <= place) & (place < (above + tied)[:, :, None])  # (N, M, M)
    rank_probs = (spans / tied[:, :, None]).mean(axis=0)  # (M, M)
    return {
        "expected_score": final.mean(axis=0),
        "stderr": final.std(axis=0, ddof=1) / np.sqrt(n_runs),
        "rank_probs": rank_probs,
        "champion_prob": (above == 0).mean(axis=0),
        "survival": survival.T,  # (M, K)
        "expected_score_by_round": mean_score_by_round.T,  # (M, K)
        "n_runs": n_runs,
    }
