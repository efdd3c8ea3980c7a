"""Small inputs shared by the reference simulator, the exact enumerator and their tests.

Only definitions from docs/rules.md live here (the default seed order) plus builders of
test tensors; the tournament logic itself is written independently in `reference.py` and
`exact.py`.
"""

import numpy as np

PAIRING_RULES = ("random", "float", "fold", "slide", "adjacent")
SEEDED_RULES = ("fold", "slide", "adjacent")
BYE_RULES = ("random", "lowest")


def check_pairing_options(pairing, bye):
    """The bye rule of docs/rules.md: None means the rule's own ("random" for random and
    float, "lowest" for the seeded rules, which allow nothing else)."""
    if bye is None:
        return "lowest" if pairing in SEEDED_RULES else "random"
    if bye not in BYE_RULES or (pairing in SEEDED_RULES and bye == "random"):
        raise ValueError(f"bye={bye!r} is not defined for pairing={pairing!r}")
    return bye


def default_seed_order(P):
    """Models by mean of `P[i, :, :]` (the raw tensor's static strength), best first.

    P: (M, M, K), floats or Fractions. Ties keep the lower index first (stable sort).
    Returns a list of M model indices.
    """
    mean_win = np.asarray(P).mean(axis=(1, 2))  # (M,)
    return [int(m) for m in np.argsort(-mean_win, kind="stable")]


def strict_order_P(n_models, n_rounds):
    """(M, M, K) hard tensor in which model i beats model j whenever i < j, every round."""
    index = np.arange(n_models)
    beats = (index[:, None] < index[None, :]).astype(float)  # (M, M)
    return np.repeat(beats[:, :, None], n_rounds, axis=2)
