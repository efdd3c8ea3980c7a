"""Exact expectations of the tournament rules in docs/rules.md, by enumeration.

Dynamic programming over the distribution of tournament states, a dict
{(scores, active): weight}. One round maps it to the next by enumerating every pairing
with its probability, every joint game outcome (win, draw or loss per pair) and every
random elimination choice; states reached several ways merge. Scores are integers in
units of 1/`unit` (the common denominator of the point values), so equal scores compare
exactly.

Weights: a state's probability is weight / scale, with an integer weight. Each round
multiplies `scale` by a common denominator of its choices (M! for the pairing, L^(M//2)
for the games, where L is the common denominator of the round's outcome probabilities,
and M! for the elimination), so the hot loop multiplies and adds plain integers instead
of Fractions (several times faster). Every probability is computed as a Fraction and
`scaled` checks that its conversion is exact; the results are Fractions.

The pairing rules are written from a different angle than in `reference.py` (the random
rules by counting matchings or orders, the seeded rules by cutting the seed-ordered list
at even positions), so agreement between the two also checks those equivalences.
Practical for M <= 6, K <= 4.

With the pairing options (`bye`, `bye_once`, `avoid_rematch`) a state also carries its
history, (pairs met, models that had a bye), and every rule is enumerated in list form:
each equally likely order of every group (the bye, chosen first, last in its group), cut
into segments at the group ends rounded down to even; `avoid_rematch` takes the first
rematch-free matching of a segment in the order `preferred_matchings` lists them.
"""

from fractions import Fraction
from functools import lru_cache
from itertools import combinations, permutations, product
from math import comb, factorial, lcm, prod
from operator import add

import numpy as np

from csd.testing.tournament_inputs import PAIRING_RULES, SEEDED_RULES, check_pairing_options, default_seed_order


def exact_expectations(
    P,
    schedule,
    *,
    pairing="random",
    bye_points=0,
    draw_points=Fraction(1, 2),
    min_active=1,
    seed_order=None,
    bye=None,
    bye_once=False,
    avoid_rematch=False,
):
    """Exact outputs of the tournament as Fractions.

    P: (M, M, K) array-like of floats (taken at their exact binary value) or Fractions.
    Other arguments as in `reference.simulate_reference`.

    Returns a dict of numpy object arrays of Fraction:
      expected_score (M,); rank_probs (M, M), [m, r] = P(place of m == r + 1), the g
      models tied on a score sharing the g places they span equally (1/g each);
      champion_prob (M,), P(top final score, alone or tied); survival (M, K), P(active after the elimination following
      round k); expected_score_by_round (M, K).
    """
    win = [[[Fraction(p) for p in row] for row in plane] for plane in np.asarray(P).tolist()]
    n_models = len(win)
    if seed_order is None:
        seed_order = default_seed_order(np.array(win, dtype=object))
    check_inputs(win, schedule, pairing, seed_order)
    options = Options(pairing, check_pairing_options(pairing, bye), bye_once, avoid_rematch)
    seed_rank = {model: rank for rank, model in enumerate(seed_order)}
    draw_points, bye_points = Fraction(draw_points), Fraction(bye_points)
    unit = lcm(draw_points.denominator, bye_points.denominator)
    choice_scale = factorial(n_models)  # a multiple of every elimination denominator
    # ... and of every pairing's; with a bye chosen among p members before the order of
    # the others, (M!)^2 is (p (g - 1)! divides g!^2, and the product of the g! divides M!).
    pairing_scale = choice_scale**2 if options.with_history() else choice_scale
    history = (frozenset(), frozenset()) if options.with_history() else None

    scale, states = 1, {((0,) * n_models, (True,) * n_models, history): 1}
    score_by_round, survival_by_round = [], []
    for k, n_scheduled in enumerate(schedule):
        outcomes = game_outcome_table(win, k, int(unit * draw_points), unit)
        game_scale = outcome_denominator(outcomes) ** (n_models // 2)
        played = play_round(
            states, options, seed_rank, outcomes, int(unit * bye_points), pairing_scale, game_scale
        )
        states = eliminate(played, n_scheduled, min_active, choice_scale)
        scale *= pairing_scale * game_scale * choice_scale
        score_by_round.append(expected_scores(states, scale * unit))
        survival_by_round.append(survival(states, scale))

    return {
        "expected_score": np.array(score_by_round[-1], dtype=object),
        "rank_probs": rank_distribution(states, scale),
        "champion_prob": champion_probabilities(states, scale),
        "survival": np.array(survival_by_round, dtype=object).T,
        "expected_score_by_round": np.array(score_by_round, dtype=object).T,
    }


def exact_over_orders(P, schedule, tiers=None, **options):
    """`exact_expectations` of `Tournament(order="shuffle")`: the mean over every order of
    the rounds (each equally likely), or with `tiers` ((K,) the tier of each round,
    non-decreasing) over every order that keeps each round inside its tier. Per-round
    outputs are by position: round k is the k-th round played. Practical for K <= 4."""
    P = np.asarray(P, dtype=object)
    n_rounds = P.shape[2]
    tiers = [0] * n_rounds if tiers is None else list(tiers)
    orders = [o for o in permutations(range(n_rounds)) if all(tiers[k] == tiers[r] for k, r in enumerate(o))]
    results = [exact_expectations(P[:, :, list(order)], schedule, **options) for order in orders]
    return {key: sum(r[key] for r in results) / Fraction(len(orders)) for key in results[0]}


class Options(tuple):
    """(pairing, bye, bye_once, avoid_rematch), hashable for the caches."""

    def __new__(cls, pairing, bye, bye_once, avoid_rematch):
        return super().__new__(cls, (pairing, bye, bool(bye_once), bool(avoid_rematch)))

    pairing = property(lambda self: self[0])
    bye = property(lambda self: self[1])
    bye_once = property(lambda self: self[2])
    avoid_rematch = property(lambda self: self[3])

    def with_history(self):
        """Whether pairings depend on more than the scores (then they take the list form)."""
        default_bye = "lowest" if self.pairing in SEEDED_RULES else "random"
        return self.bye_once or self.avoid_rematch or self.bye != default_bye


def scaled(probability, scale):
    """probability * scale as an int; raises if the scale does not clear the denominator."""
    weight = Fraction(probability) * scale
    if weight.denominator != 1:
        raise ArithmeticError(f"{probability} * {scale} is not an integer")
    return weight.numerator


def check_inputs(win, schedule, pairing, seed_order):
    """Raise ValueError on inputs the rules do not define. win: [i][j][k] Fractions."""
    n_models, n_rounds = len(win), len(win[0][0])
    if any(len(row) != n_models for row in win) or len(schedule) != n_rounds:
        raise ValueError("P must be (M, M, K) with K = len(schedule)")
    if pairing not in PAIRING_RULES:
        raise ValueError(f"unknown pairing {pairing!r}; expected one of {PAIRING_RULES}")
    if sorted(seed_order) != list(range(n_models)):
        raise ValueError(f"seed_order {seed_order} is not an order of the {n_models} models")
    for i, j, k in product(range(n_models), range(n_models), range(n_rounds)):
        if win[i][j][k] < 0 or win[i][j][k] + win[j][i][k] > 1:
            raise ValueError("need P >= 0 and P[i, j, k] + P[j, i, k] <= 1")


def game_outcome_table(win, k, draw_units, win_units):
    """[i][j] -> list of (probability, points of i, points of j) for a game of i against j
    in round k: i wins, j wins, draw; zero-probability outcomes dropped. Points in units."""
    n_models = len(win)
    table = [[[] for _ in range(n_models)] for _ in range(n_models)]
    for i, j in permutations(range(n_models), 2):
        p_i, p_j = win[i][j][k], win[j][i][k]
        outcomes = [
            (p_i, win_units, 0),
            (p_j, 0, win_units),
            (1 - p_i - p_j, draw_units, draw_units),
        ]
        table[i][j] = [outcome for outcome in outcomes if outcome[0]]
    return table


def outcome_denominator(outcomes):
    """Common denominator of every outcome probability in a round's table."""
    return lcm(*(p.denominator for row in outcomes for cell in row for p, _, _ in cell))


def play_round(states, options, seed_rank, outcomes, bye_units, choice_scale, game_scale):
    """{(scores, active, history): weight} after pairing and playing one round (before
    elimination). history is None, or (pairs met, models with a bye) as frozensets.

    Weights are multiplied by choice_scale * game_scale. The scaled pairing and game
    distributions are shared by all states with the same groups (and history) / the same
    pairs.
    """
    played, games_by_pairs = {}, {}
    for (scores, active, history), weight in states.items():
        groups = score_groups(scores, active, seed_rank)
        if history is None:
            choices = scaled_pairings(options.pairing, groups, choice_scale)
        else:
            choices = scaled_pairings_with_history(options, groups, relevant(history, active), choice_scale)
        for pairing_weight, pairs, byes in choices:
            if pairs not in games_by_pairs:
                games_by_pairs[pairs] = [
                    (scaled(p, game_scale), gains)
                    for p, gains in joint_outcomes(pairs, outcomes, len(scores))
                ]
            start = list(scores)
            for model in byes:
                start[model] += bye_units
            path_weight = weight * pairing_weight
            after = None if history is None else remember(history, pairs, byes, options)
            for game_weight, gains in games_by_pairs[pairs]:
                key = (tuple(map(add, start, gains)), active, after)
                played[key] = played.get(key, 0) + path_weight * game_weight
    return played


def remember(history, pairs, byes, options):
    """The history after a round: its pairs if avoid_rematch, its byes if bye_once (what
    is not needed stays empty, so that states merge)."""
    met, had_bye = history
    return (met | set(pairs) if options.avoid_rematch else met, had_bye | set(byes) if options.bye_once else had_bye)


def relevant(history, active):
    """The part of a history that can still matter: pairs and byes of active models."""
    met, had_bye = history
    return (
        frozenset(pair for pair in met if active[pair[0]] and active[pair[1]]),
        frozenset(m for m in had_bye if active[m]),
    )


@lru_cache(maxsize=None)
def scaled_pairings_with_history(options, groups, history, choice_scale):
    """As `scaled_pairings` for a rule with options, given the relevant history."""
    return tuple(
        (scaled(probability, choice_scale), pairs, byes)
        for probability, pairs, byes in list_form_pairings(options, groups, history)
    )


def list_form_pairings(options, groups, history):
    """Tuple of (probability, pairs, byes), pairs as sorted (low, high) tuples.

    Every rule as a list: the groups top down, each in an order (all orders equally likely
    for random/float, seed order for the seeded rules). If the count is odd, the bye
    member (`bye_chances`) goes last in its group: in every odd group for random, in the
    lowest group otherwise. The list is cut into segments (`segments_of`) and each is
    paired by `pair_segment`.
    """
    met, had_bye = history
    odd_total = sum(map(len, groups)) % 2 == 1
    per_group = []  # per group: [(probability, order)]
    for number, group in enumerate(groups):
        gives_bye = len(group) % 2 == 1 if options.pairing == "random" else odd_total and number == len(groups) - 1
        per_group.append(group_orders(options, group, had_bye, gives_bye))
    counts = {}
    for choice in product(*per_group):
        probability = prod(p for p, _ in choice)
        orders = [order for _, order in choice]
        pairs, byes = [], []
        if options.pairing == "random":
            for order in orders:
                even = len(order) - len(order) % 2
                pairs += pair_segment(order[:even], "adjacent", options, met)
                byes += order[even:]
        else:
            pattern = "adjacent" if options.pairing == "float" else options.pairing
            segments, byes = segments_of(orders)
            for segment in segments:
                pairs += pair_segment(segment, pattern, options, met)
        key = (tuple(sorted((min(a, b), max(a, b)) for a, b in pairs)), tuple(byes))
        counts[key] = counts.get(key, 0) + probability
    return tuple((probability, pairs, byes) for (pairs, byes), probability in counts.items())


def group_orders(options, group, had_bye, gives_bye):
    """[(probability, order)] of one group: its bye (if it gives one) last, the others in
    every order (random rules, each 1 / count) or in seed order (seeded rules)."""
    chances = bye_chances(options, group, had_bye) if gives_bye else [(Fraction(1), None)]
    result = []
    for chance, bye in chances:
        others = tuple(m for m in group if m != bye)
        tail = () if bye is None else (bye,)
        if options.pairing in SEEDED_RULES:
            result.append((chance, others + tail))
        else:
            share = chance / factorial(len(others))
            result += [(share, order + tail) for order in permutations(others)]
    return result


def bye_chances(options, group, had_bye):
    """[(probability, member)]: who of `group` (in seed order) gets its bye. The pool is
    the members with no bye yet if bye_once and there are any, else all; in it the lowest
    seed (the last in seed order) or each member with equal chance."""
    pool = [m for m in group if m not in had_bye] if options.bye_once else []
    pool = pool or list(group)
    if options.bye == "lowest":
        return [(Fraction(1), pool[-1])]
    return [(Fraction(1, len(pool)), m) for m in pool]


def segments_of(orders):
    """(segments, byes) of a list given by its groups' orders: cut at every group end
    rounded down to even; an odd total leaves the last member a bye."""
    line = sum(orders, ())
    ends = np.cumsum([len(order) for order in orders])
    cuts = sorted({0} | {int(end) - int(end) % 2 for end in ends})
    segments = [line[a:b] for a, b in zip(cuts, cuts[1:])]
    return segments, list(line[len(line) - len(line) % 2 :])


def pair_segment(segment, pattern, options, met):
    """Pairs of an even segment: the pattern's, or with avoid_rematch the first matching
    of `preferred_matchings` with no pair in `met`, else `greedy_matching`."""
    segment = tuple(segment)
    if not options.avoid_rematch:
        return list(next(iter(preferred_matchings(segment, pattern))))
    inside = frozenset(pair for pair in met if pair[0] in segment and pair[1] in segment)
    return list(rematch_free_or_greedy(segment, pattern, inside))


@lru_cache(maxsize=None)
def rematch_free_or_greedy(segment, pattern, met):
    """`pair_segment` with avoid_rematch, for the pairs `met` inside the segment."""
    for matching in preferred_matchings(segment, pattern):
        if not any(tuple(sorted(pair)) in met for pair in matching):
            return matching
    return tuple(greedy_matching(segment, pattern, met))


def candidate_places(size, pattern):
    """Places 1 .. size-1 of a segment's unpaired list, in the order its first member
    tries them: by distance from the pattern's partner, outward."""
    half = size // 2
    preference = {
        "adjacent": lambda q: q,
        "fold": lambda q: size - 1 - q,
        "slide": lambda q: q - half if q >= half else size - 1 - q,
    }[pattern]
    return sorted(range(1, size), key=preference)


def preferred_matchings(segment, pattern):
    """Every perfect matching of `segment` (a tuple), in depth-first preference order:
    its first member with each candidate place in turn, then the rest recursively."""
    if not segment:
        yield ()
        return
    for place in candidate_places(len(segment), pattern):
        rest = segment[1:place] + segment[place + 1 :]
        for tail in preferred_matchings(rest, pattern):
            yield ((segment[0], segment[place]),) + tail


def greedy_matching(segment, pattern, met):
    """With no rematch-free matching: each first member takes its first candidate place
    it has not met, else its first."""
    pairs = []
    while segment:
        places = candidate_places(len(segment), pattern)
        fresh = [q for q in places if tuple(sorted((segment[0], segment[q]))) not in met]
        place = (fresh or places)[0]
        pairs.append((segment[0], segment[place]))
        segment = segment[1:place] + segment[place + 1 :]
    return pairs


def score_groups(scores, active, seed_rank):
    """Tuple of groups (tuples of active models with equal score), highest score first,
    members in seed order."""
    levels = sorted({s for s, a in zip(scores, active) if a}, reverse=True)
    members = [m for m, a in enumerate(active) if a]
    return tuple(
        tuple(sorted((m for m in members if scores[m] == level), key=seed_rank.get))
        for level in levels
    )


def joint_outcomes(pairs, outcomes, n_models):
    """[(probability, (M,) points gained)] over every joint outcome of the pairs' games,
    built one pair at a time."""
    joint = [(Fraction(1), (0,) * n_models)]
    for i, j in pairs:
        extended = []
        for p_before, gains in joint:
            for p, points_i, points_j in outcomes[i][j]:
                after = list(gains)
                after[i], after[j] = points_i, points_j
                extended.append((p_before * p, tuple(after)))
        joint = extended
    return joint


@lru_cache(maxsize=None)
def scaled_pairings(pairing, groups, choice_scale):
    """Tuple of (probability * choice_scale, pairs, byes) over the pairings of `groups`.

    choice_scale = M! clears every denominator: a random pairing has probability
    1 / prod(options of each group), each option count divides g! and prod(g!) divides M!;
    a float pairing has probability count / prod(g!).
    """
    return tuple(
        (scaled(probability, choice_scale), pairs, byes)
        for probability, pairs, byes in pairing_distribution(pairing, groups)
    )


def pairing_distribution(pairing, groups):
    """Tuple of (probability, pairs, byes) over the possible pairings of `groups`."""
    if pairing == "random":
        return random_pairings(groups)
    if pairing == "float":
        return float_pairings(groups)
    return ((Fraction(1),) + seeded_pairing(pairing, groups),)


def perfect_matchings(members):
    """Every perfect matching of an even tuple of models, as a tuple of pairs."""
    if not members:
        return [()]
    first, rest = members[0], members[1:]
    return [
        ((first, partner),) + matching
        for index, partner in enumerate(rest)
        for matching in perfect_matchings(rest[:index] + rest[index + 1 :])
    ]


def group_options(group):
    """The equally likely (pairs, byes) of one group under `random`: a matching of the
    group, or for an odd group a bye member (1/g each) and a matching of the rest."""
    if len(group) % 2 == 0:
        return [(matching, ()) for matching in perfect_matchings(group)]
    return [
        (matching, (bye,))
        for index, bye in enumerate(group)
        for matching in perfect_matchings(group[:index] + group[index + 1 :])
    ]


def random_pairings(groups):
    """`random`: groups are independent and each option of a group is equally likely."""
    per_group = [group_options(group) for group in groups]
    probability = Fraction(1, prod(len(options) for options in per_group))
    return tuple(
        (
            probability,
            sum((pairs for pairs, _ in choice), ()),
            sum((byes for _, byes in choice), ()),
        )
        for choice in product(*per_group)
    )


def float_pairings(groups):
    """`float` via its equivalent form: a uniform order inside every group, the groups
    listed from the top, positions paired (1, 2), (3, 4), ...; an odd last one is the bye.
    Counts the pairings over all prod(g!) equally likely orders."""
    counts = {}
    for orders in product(*(permutations(group) for group in groups)):
        line = sum(orders, ())
        pairs = tuple(sorted((min(a, b), max(a, b)) for a, b in zip(line[0::2], line[1::2])))
        byes = line[-1:] if len(line) % 2 else ()
        counts[pairs, byes] = counts.get((pairs, byes), 0) + 1
    n_orders = prod(factorial(len(group)) for group in groups)
    return tuple(
        (Fraction(count, n_orders), pairs, byes) for (pairs, byes), count in counts.items()
    )


def seeded_pairing(pairing, groups):
    """(pairs, byes) of fold/slide/adjacent.

    Sending a group's lowest seed down to head the next segment keeps the list order, so
    the segments are the seed-ordered list cut at every group end rounded down to an even
    position; an odd list's last member is the bye.
    """
    line = sum(groups, ())
    group_ends = np.cumsum([len(group) for group in groups])
    cuts = sorted({0} | {int(end) - int(end) % 2 for end in group_ends})
    pairs = tuple(
        (line[start + a], line[start + b])
        for start, stop in zip(cuts, cuts[1:])
        for a, b in segment_pattern(pairing, stop - start)
    )
    return pairs, line[-1:] if len(line) % 2 else ()


def segment_pattern(pairing, size):
    """Position pairs (q, q') inside an even segment of `size` members."""
    half = size // 2
    if pairing == "fold":
        return [(q, size - 1 - q) for q in range(half)]
    if pairing == "slide":
        return [(q, q + half) for q in range(half)]
    return [(q, q + 1) for q in range(0, size, 2)]  # adjacent


def elimination_cut(scores, active, n_scheduled, min_active):
    """(certainly out, boundary group, how many of it go) for one elimination.

    t = max(0, min(n_scheduled, n_active - min_active)) lowest scores go; the boundary is
    the group of the t-th lowest score, of which t - #(lower scores) go.
    """
    alive = [m for m in range(len(scores)) if active[m]]
    n_out = max(0, min(n_scheduled, len(alive) - min_active))
    if n_out == 0:
        return (), (), 0
    cut_score = sorted(scores[m] for m in alive)[n_out - 1]
    below = tuple(m for m in alive if scores[m] < cut_score)
    boundary = tuple(m for m in alive if scores[m] == cut_score)
    return below, boundary, n_out - len(below)


def eliminate(played, n_scheduled, min_active, choice_scale):
    """{(scores, active): weight * choice_scale} after the elimination: every subset of the
    boundary group of the needed size is equally likely (1 / C(g, r), and C(g, r) divides
    g!, hence M! = choice_scale)."""
    states = {}
    for (scores, active, history), weight in played.items():
        below, boundary, n_from_boundary = elimination_cut(scores, active, n_scheduled, min_active)
        path_weight = weight * subset_weight(len(boundary), n_from_boundary, choice_scale)
        for gone in combinations(boundary, n_from_boundary):
            out = set(below).union(gone)
            key = (scores, tuple(a and m not in out for m, a in enumerate(active)), history)
            states[key] = states.get(key, 0) + path_weight
    return states


@lru_cache(maxsize=None)
def subset_weight(group_size, n_chosen, choice_scale):
    """choice_scale / C(group_size, n_chosen), the scaled chance of one subset."""
    return scaled(Fraction(1, comb(group_size, n_chosen)), choice_scale)


def expected_scores(states, scale):
    """(M,) list of E[score]: the weighted mean of the scores, divided by scale (which
    includes the score unit)."""
    n_models = len(next(iter(states))[0])
    totals = [sum(w * scores[m] for (scores, *_), w in states.items()) for m in range(n_models)]
    return [Fraction(total, scale) for total in totals]


def survival(states, scale):
    """(M,) list of P(active)."""
    n_models = len(next(iter(states))[0])
    totals = [sum(w for (_, active, _), w in states.items() if active[m]) for m in range(n_models)]
    return [Fraction(total, scale) for total in totals]


def rank_distribution(states, scale):
    """(M, M) object array, [m, r] = P(place of m == r + 1): a model with a models above
    it and g - 1 others on its score has each place a + 1 .. a + g with probability 1/g
    (a uniformly random order of the tied models), so every column sums to 1."""
    n_models = len(next(iter(states))[0])
    weights = np.full((n_models, n_models), Fraction(0), dtype=object)
    for (scores, *_), w in states.items():
        for model, score in enumerate(scores):
            above, tied = sum(s > score for s in scores), sum(s == score for s in scores)
            weights[model, above : above + tied] += Fraction(w, tied)
    return weights / scale


def champion_probabilities(states, scale):
    """(M,) object array of P(m has the top final score, alone or tied)."""
    n_models = len(next(iter(states))[0])
    totals = [sum(w for (scores, *_), w in states.items() if scores[m] == max(scores)) for m in range(n_models)]
    return np.array([Fraction(total, scale) for total in totals], dtype=object)
