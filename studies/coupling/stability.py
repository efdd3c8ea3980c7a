"""Diagnostic: how many members of a group change partner (or bye status) when one random
member is removed (keys and pair weights shared)."""
import numpy as np
import sim

def partners(pairs, bye):
    d = {}
    for a, b in pairs:
        d[a], d[b] = b, a
    if bye is not None:
        d[bye] = -1
    return d

rng = np.random.default_rng(0)
reps = 2000
print("g  " + "  ".join(f"{n:>12}" for n in sim.CONSTRUCTIONS))
for g in [4, 5, 8, 9, 16, 17, 32, 33]:
    row = []
    for name, f in sim.CONSTRUCTIONS.items():
        tot = 0
        for r in range(reps):
            key = rng.integers(0, 1 << sim.KEY_BITS, size=g).tolist()
            w = rng.random((g, g)); w = np.triu(w, 1); w = w + w.T
            members = list(range(g))
            x = int(rng.integers(g))
            extra = {"w": w, "rank": rng.permutation(g).tolist(), "u": rng.random(g).tolist()}
            full = partners(*f(members, key, extra))
            rest = [m for m in members if m != x]
            part = partners(*f(rest, key, extra))
            tot += sum(full[m] != part[m] for m in rest if not (full[m] == x and part[m] == -1))
        row.append(tot / reps)
    print(f"{g:<3}" + "  ".join(f"{v:12.2f}" for v in row))
