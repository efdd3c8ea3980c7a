"""Uniformity check of _edit: a random reference matching, random edits; the edited
matching's distribution over the perfect matchings of a small group must be uniform."""
import collections, numpy as np
import sim
rng = np.random.default_rng(1)
for g0, gs in [([0, 1, 2, 3], [0, 1, 2, 3, 4]), ([0, 1, 2, 3, 4], [1, 2, 3, 4]), ([0, 1, 2, 3], [2, 3, 4, 5, 6]),
               ([0, 1, 2], [0, 3, 4, 5]), ([0, 1, 2, 3, 4, 5], [0, 1, 2, 6])]:
    counts = collections.Counter()
    n = 40000
    for _ in range(n):
        key = rng.integers(0, 1 << 40, size=8).tolist()
        pairs, bye = sim.consecutive(g0, key, None)
        mu = {}
        for a, b in pairs:
            mu[a], mu[b] = b, a
        p, b = sim._edit(mu, bye, g0, gs, key, rng.random(8).tolist())
        counts[(tuple(sorted(tuple(sorted(x)) for x in p)), b)] += 1
    f = np.array(list(counts.values())) / n
    e = 1 / len(counts)
    chi2 = ((np.array(list(counts.values())) - n * e) ** 2 / (n * e)).sum()
    print(g0, "->", gs, "matchings seen", len(counts), "chi2", round(chi2, 1), "dof", len(counts) - 1)
