"""Compact CRN simulator of the `random` pairing rule with a pluggable matching construction.

Conventions follow docs/rules.md and the engine:
- every run and round gives every model a fresh iid random key (shared by all schedules);
- a game {a, b} (a < b) in round k is decided by P[a, b, k] and a uniform keyed by
  (run, round, a, b) (the same coin in every schedule); hard tables with tie="coin" only
  (P in {0, 1/2, 1}), so there are no draws; bye = 0 points, win = 1;
- the elimination after round k removes the t lowest scores, ties broken by the
  round-(k+1) keys (lowest keys go); min_active = 1.
A construction maps one score group (members, their keys, round randomness) to
(pairs, bye); it must depend on the keys / pair weights only, never on labels, so its
matching is uniform (exchangeability).
"""
from __future__ import annotations

import numpy as np

KEY_BITS = 62


# ---------------------------------------------------------------- constructions
def consecutive(members, key, extra):
    """(a) the engine: order by key (descending), pair 1st-2nd, 3rd-4th; odd: last is bye."""
    line = sorted(members, key=key.__getitem__, reverse=True)
    bye = line.pop() if len(line) & 1 else None
    return list(zip(line[0::2], line[1::2])), bye


def trie(members, key, extra):
    """(b) binary-trie matching: recursively match inside the subtrees of keys that share a
    prefix; an odd subtree passes its leftover up, where it meets the sibling's leftover.
    The root's leftover is the bye."""
    line = sorted(members, key=key.__getitem__, reverse=True)
    keys = [key[m] for m in line]
    pairs = []

    def rec(lo, hi, bit):  # line[lo:hi] share the bits above `bit`; returns leftover
        n = hi - lo
        if n == 0:
            return None
        if n == 1:
            return line[lo]
        mask = 1 << bit
        split = lo
        while split < hi and keys[split] & mask:  # descending: ones first
            split += 1
        a = rec(lo, split, bit - 1)
        b = rec(split, hi, bit - 1)
        if a is not None and b is not None:
            pairs.append((a, b))
            return None
        return a if a is not None else b

    bye = rec(0, len(line), KEY_BITS - 1)
    return pairs, bye


def closest(members, key, extra):
    """(c) greedy closest keys: repeatedly match the two remaining members whose keys are
    closest; an odd group's last remaining member is the bye."""
    line = sorted(members, key=key.__getitem__)
    ks = [key[m] for m in line]
    pairs = []
    while len(line) >= 2:
        gaps = [ks[i + 1] - ks[i] for i in range(len(ks) - 1)]
        i = gaps.index(min(gaps))
        pairs.append((line[i], line[i + 1]))
        del line[i : i + 2], ks[i : i + 2]
    return pairs, (line[0] if line else None)


def edge_greedy(members, key, extra):
    """(d) greedy on shared pair weights: every pair {a, b} of the round has an iid weight
    w(run, round, a, b) (the same in every schedule, like the game coin); repeatedly match
    the heaviest pair of free members. Uniform by exchangeability of iid edge weights."""
    weight = extra["w"]
    n = len(members)
    if n == 1:
        return [], members[0]
    idx = np.array(sorted(members))
    sub = weight[np.ix_(idx, idx)]
    iu, ju = np.triu_indices(n, 1)
    order = np.argsort(-sub[iu, ju], kind="stable")
    free = [True] * n
    pairs = []
    need = n // 2
    for e in order.tolist():
        i, j = iu[e], ju[e]
        if free[i] and free[j]:
            free[i] = free[j] = False
            pairs.append((int(idx[i]), int(idx[j])))
            if len(pairs) == need:
                break
    bye = None
    if n & 1:
        bye = int(idx[free.index(True)])
    return pairs, bye


def quantile(members, key, extra):
    """(e) strength-quantile serial picks: an odd group's lowest key gets the bye; then, in
    key order (descending), each still-unmatched member x picks the remaining member at
    quantile u_x (a per-model uniform of the run and round) of the remaining members
    sorted by their score on the round's benchmark. Uniform (each pick is uniform among
    the remaining), and a model that sits in a different group under another schedule
    still meets an opponent of about the same relative strength."""
    rank, u = extra["rank"], extra["u"]
    line = sorted(members, key=key.__getitem__, reverse=True)
    bye = line.pop() if len(line) & 1 else None
    strong = sorted(line, key=rank.__getitem__)
    taken = set()
    pairs = []
    for x in line:
        if x in taken:
            continue
        strong.remove(x)
        y = strong.pop(int(u[x] * len(strong)))
        taken.add(y)
        pairs.append((x, y))
    return pairs, bye


CONSTRUCTIONS = {"consecutive": consecutive, "trie": trie, "closest": closest, "edge_greedy": edge_greedy, "quantile": quantile}


# ---------------------------------------------------------------- tournament
def hard_probs(scores):
    """(K, M, M) P[k, i, j] for a hard table with tie='coin' (nested lists per round)."""
    s = np.asarray(scores, float)
    gt = (s[:, None, :] > s[None, :, :]).astype(float)
    eq = (s[:, None, :] == s[None, :, :]) * 0.5
    return np.transpose(gt + eq, (2, 0, 1))  # (K, M, M)


def _eliminate(active, score, key, cut):
    """`active` without its `cut` lowest scores (ties: lowest key first), at least one left."""
    t = max(0, min(cut, len(active) - 1))
    if not t:
        return active
    return sorted(active, key=lambda m: (score[m], key[m]))[t:]


def _groups(active, score):
    """{score: members in `active` order} of the active models."""
    groups = {}
    for m in active:
        groups.setdefault(score[m], []).append(m)
    return groups


def _play_pairs(pairs, Pk, ck, score):
    """Adds each game's point to `score`: the lower index a wins with P[a][b] (1, or a
    coin ck[a, b] < 0.5 at 0.5), else b."""
    for a, b in pairs:
        if a > b:
            a, b = b, a
        p = Pk[a][b]
        if p == 1.0 or (p == 0.5 and ck[a, b] < 0.5):
            score[a] += 1
        else:
            score[b] += 1


def _prepared(scores_table, schedules):
    """(K, M, P as K nested (M, M) lists, schedules as K-lists) for run_many / run_edit."""
    P = hard_probs(scores_table)
    K, M, _ = P.shape
    return K, M, [P[k].tolist() for k in range(K)], [np.broadcast_to(np.asarray(s), (K,)).tolist() for s in schedules]


def play(P_lists, schedule, construction, keys, coins, weights, us, ranks):
    """One tournament under one schedule. keys: (K+1) lists of M ints; coins: (K, M, M)
    uniform array (coin of {a<b} at [k, a, b]); weights: (K, M, M) symmetric or None.
    Returns the final scores (list of M) and the (K, M) scores after each round."""
    n_models = len(keys[0])
    score = [0] * n_models
    active = list(range(n_models))
    history = []
    for k, Pk in enumerate(P_lists):
        key = keys[k]
        if k > 0:
            active = _eliminate(active, score, key, schedule[k - 1])
        extra = {"w": weights[k] if weights is not None else None, "u": us[k], "rank": ranks[k]}
        for members in _groups(active, score).values():
            pairs, bye = construction(members, key, extra)
            _play_pairs(pairs, Pk, coins[k], score)
        history.append(list(score))
    return score, history


def run_many(scores_table, schedules, constructions, n_runs, seed, start=0):
    """Final scores (C, N, S, M) int16 for C constructions, N runs, S schedules, all
    constructions and schedules of a run sharing the same random numbers; and
    differ (C, S, K): the mean fraction of models whose score after round k differs
    from the one under schedule 0."""
    K, M, P_lists, scheds = _prepared(scores_table, schedules)
    names = list(constructions)
    out = np.zeros((len(names), n_runs, len(scheds), M), np.int16)
    differ = np.zeros((len(names), len(scheds), K))
    need_w = "edge_greedy" in names
    ranks = [np.argsort(np.argsort(-np.asarray(scores_table, float)[:, k], kind="stable"), kind="stable").tolist() for k in range(K)]
    for r in range(n_runs):
        rng = np.random.default_rng([seed, start + r])
        keys = rng.integers(0, 1 << KEY_BITS, size=(K + 1, M), dtype=np.int64).tolist()
        coins = rng.random((K, M, M))
        us = np.random.default_rng([seed, start + r, 1]).random((K, M)).tolist()
        weights = None
        if need_w:
            w = rng.random((K, M, M))
            weights = np.triu(w, 1) + np.transpose(np.triu(w, 1), (0, 2, 1))
        for c, name in enumerate(names):
            f = CONSTRUCTIONS[name]
            traces = []
            for s, sched in enumerate(scheds):
                final, trace = play(P_lists, sched, f, keys, coins, weights, us, ranks)
                out[c, r, s] = final
                traces.append(trace)
            traces = np.array(traces)  # (S, K, M)
            differ[c] += (traces != traces[:1]).mean(axis=2)
    return names, out, differ / n_runs


# ---------------------------------------------------------------- cross-schedule "edit" coupling
def _edit(mu, bye, group0, group_s, key, ins_u):
    """The matching of schedule s's group `group_s` as a minimal edit of the reference
    schedule's matching (partner dict `mu`, `bye`) of its group `group0` (same score):
    delete the members that left, one by one (a deleted member's partner takes the bye's
    place or becomes the bye), then insert the newcomers (a newcomer takes the bye if there
    is one, else it draws a uniform member u of the group and itself: u = itself gives it
    the bye, otherwise it takes u's partner's place and that partner becomes the bye).
    Each step maps a uniform matching to a uniform matching, so the result is uniform."""
    mu = dict(mu)
    members = set(group0)
    for z in sorted(set(group0) - set(group_s), key=key.__getitem__):
        members.discard(z)
        if z == bye:
            bye = None
            continue
        w = mu.pop(z)
        del mu[w]
        if bye is None:
            bye = w
        else:
            mu[w], mu[bye] = bye, w
            bye = None
    for x in sorted(set(group_s) - set(group0), key=key.__getitem__, reverse=True):
        if bye is not None:
            mu[x], mu[bye] = bye, x
            bye = None
        else:
            line = sorted(members, key=key.__getitem__, reverse=True) + [x]
            u = line[int(ins_u[x] * len(line))]
            if u == x:
                bye = x
            else:
                w = mu[u]
                mu[x], mu[u] = u, x
                del mu[w]
                bye = w
        members.add(x)
    pairs = [(a, b) for a, b in mu.items() if a < b]
    return pairs, bye


def play_edit(P_lists, schedules, keys, coins, ins_u):
    """All schedules in lockstep; schedule 0 pairs by `consecutive`, the others by `_edit`
    of schedule 0's matching. Returns (S, K, M) scores after each round."""
    n_models = len(keys[0])
    S = len(schedules)
    score = [[0] * n_models for _ in range(S)]
    active = [list(range(n_models)) for _ in range(S)]
    trace = np.zeros((S, len(P_lists), n_models), np.int16)
    for k, Pk in enumerate(P_lists):
        key, ck = keys[k], coins[k]
        ref = None
        for s in range(S):
            sc = score[s]
            if k > 0:
                active[s] = _eliminate(active[s], sc, key, schedules[s][k - 1])
            matchings = {}
            for v, members in _groups(active[s], sc).items():
                if s == 0:
                    pairs, bye = consecutive(members, key, None)
                else:
                    g0, mu0, bye0 = ref.get(v, ([], {}, None))
                    pairs, bye = _edit(mu0, bye0, g0, members, key, ins_u[k])
                mu = {}
                for a, b in pairs:
                    mu[a], mu[b] = b, a
                matchings[v] = (members, mu, bye)
                _play_pairs(pairs, Pk, ck, sc)
            if s == 0:
                ref = matchings
            trace[s, k] = sc
    return trace


def run_edit(scores_table, schedules, n_runs, seed, start=0):
    """As run_many for the cross-schedule edit coupling (same random numbers per run)."""
    K, M, P_lists, scheds = _prepared(scores_table, schedules)
    out = np.zeros((1, n_runs, len(scheds), M), np.int16)
    differ = np.zeros((1, len(scheds), K))
    for r in range(n_runs):
        rng = np.random.default_rng([seed, start + r])
        keys = rng.integers(0, 1 << KEY_BITS, size=(K + 1, M), dtype=np.int64).tolist()
        coins = rng.random((K, M, M))
        ins_u = rng.random((K, M)).tolist()
        trace = play_edit(P_lists, scheds, keys, coins, ins_u)
        out[0, r] = trace[:, -1]
        differ[0] += (trace != trace[:1]).mean(axis=2)
    return ["edit"], out, differ / n_runs
