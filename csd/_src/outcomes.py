"""What decides a game: a win-probability tensor, or a comparison of scores.

Both are pytrees the engine reads with `pair_probabilities`; a hard score table becomes
`ScoreOutcomes` (O(M K) memory) rather than an (M, M, K) tensor, and the two give the same
games for the same random numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from csd._src.errors import InputError, check_choice
from csd._src.gather import take
from csd._src.table import ScoreTable

_TIE_WIN = {"coin": 0.5, "draw": 0.0}  # an exact tie on a benchmark, by name: the chance each side wins it
TIES = tuple(_TIE_WIN)  # what a tie is: a fair coin, or a draw (`Tournament.tie`)
_TOLERANCE = 1e-6


class TensorOutcomes(NamedTuple):
    """Games drawn from a probability tensor.

    Attributes:
      win_prob: (K, M * M) float32; win_prob[k, i * M + j] = P(i beats j in round k).
    """

    win_prob: jnp.ndarray


class ScoreOutcomes(NamedTuple):
    """Games decided by scores: the higher score wins; equal scores tie.

    Attributes:
      levels: (K, M) int32 dense rank of each score inside its benchmark (higher is
        better, equal scores equal levels, a missing score -1, below every present one).
      tie_win: () float32 probability that either side wins a tie (0.5 coin, 0 draw).
    """

    levels: jnp.ndarray
    tie_win: jnp.ndarray


def score_levels(scores: np.ndarray) -> np.ndarray:
    """(K, M) int32 dense ranks per benchmark of (M, K) scores; NaN becomes -1."""
    levels = np.full(scores.T.shape, -1, dtype=np.int32)
    for k, column in enumerate(scores.T):
        present = ~np.isnan(column)
        levels[k, present] = np.unique(column[present], return_inverse=True)[1]
    return levels


def has_ties(levels: np.ndarray) -> bool:
    """Whether two models share a level on some benchmark; levels: (K, M)."""
    return any(len(np.unique(row)) < len(row) for row in levels)


def win_probabilities(table: ScoreTable, tie: str = "coin") -> np.ndarray:
    """The win-probability tensor of a hard score table.

    Args:
      table: a `ScoreTable`; under the `loss` policy a missing score loses to any present
        score and ties with another missing one.
      tie: `coin` (an exact tie is a fair coin flip) or `draw` (a certain draw).

    Returns:
      P: (M, M, K) float64; P[i, j, k] is 1 if i scored higher than j on benchmark k,
      0 if lower, and for a tie 0.5 (`coin`) or 0 (`draw`, the rest being the draw).

    Example:
      >>> import numpy as np, csd
      >>> table = csd.ScoreTable(("a", "b"), ("x",), np.array([[2.0], [1.0]]))
      >>> csd.win_probabilities(table)[:, :, 0].tolist()
      [[0.0, 1.0], [0.0, 0.0]]
    """
    check_choice("tie", tie, TIES)
    levels = score_levels(table.scores)  # (K, M)
    above = levels[:, :, None] > levels[:, None, :]  # (K, M, M)
    level_tie = levels[:, :, None] == levels[:, None, :]
    probs = np.where(above, 1.0, np.where(level_tie, _TIE_WIN[tie], 0.0))
    probs[:, np.arange(table.shape[0]), np.arange(table.shape[0])] = 0.0
    return np.ascontiguousarray(probs.transpose(1, 2, 0))


def check_probabilities(probs) -> np.ndarray:
    """`probs` as a float64 (M, M, K) array after checking it is a valid tensor.

    Raises:
      InputError: naming the first bad entry (i, j, k).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 3 or probs.shape[0] != probs.shape[1]:
        raise InputError(f"P must have shape (M, M, K), got {probs.shape}")
    if probs.shape[0] < 2 or probs.shape[2] < 1:
        raise InputError(f"P needs at least 2 models and 1 round, got shape {probs.shape}")
    checks = (
        (~np.isfinite(probs), "is not a finite number"),
        ((probs < 0) | (probs > 1), "is outside [0, 1]"),
        (probs + probs.transpose(1, 0, 2) > 1 + _TOLERANCE, "plus P[j, i, k] exceeds 1"),
    )
    for bad, reason in checks:
        if bad.any():
            i, j, k = np.argwhere(bad)[0]
            raise InputError(f"P[{i}, {j}, {k}] = {float(probs[i, j, k])!r} {reason}")
    diagonal = probs[np.arange(probs.shape[0]), np.arange(probs.shape[0])]
    if (diagonal != 0).any():
        i, k = np.argwhere(diagonal != 0)[0]
        raise InputError(f"P[{i}, {i}, {k}] = {float(diagonal[i, k])!r}: a model cannot play itself (must be 0)")
    return probs


class OutcomeFacts(NamedTuple):
    """What the kernel may skip: random_games (any game outcome random), draws (any draw
    possible)."""

    random_games: bool
    draws: bool


def tensor_outcomes(probs: np.ndarray, n_slots: int) -> tuple[TensorOutcomes, OutcomeFacts]:
    """Engine outcomes of a checked (M, M, K) tensor, padded with models that never play
    to `n_slots` >= M models."""
    n_models, _, n_rounds = probs.shape
    padded = np.zeros((n_rounds, n_slots, n_slots))
    padded[:, :n_models, :n_models] = probs.transpose(2, 0, 1)
    facts = OutcomeFacts(
        random_games=bool(((probs > 0) & (probs < 1)).any()),
        draws=bool((probs + probs.transpose(1, 0, 2) < 1)[~np.eye(n_models, dtype=bool)].any()),
    )
    return TensorOutcomes(jnp.asarray(padded.reshape(n_rounds, -1), dtype=jnp.float32)), facts


def table_outcomes(table: ScoreTable, tie: str, n_slots: int) -> tuple[ScoreOutcomes, OutcomeFacts]:
    """Engine outcomes of a hard score table, padded as `tensor_outcomes`."""
    check_choice("tie", tie, TIES)
    levels = score_levels(table.scores)
    has_tie = has_ties(levels)
    padded = np.full((levels.shape[0], n_slots), -1, dtype=np.int32)
    padded[:, : levels.shape[1]] = levels
    outcomes = ScoreOutcomes(jnp.asarray(padded), jnp.float32(_TIE_WIN[tie]))
    return outcomes, OutcomeFacts(random_games=has_tie and tie == "coin", draws=has_tie and tie == "draw")


def pair_probabilities(outcomes, round_index, players: jnp.ndarray, opponents: jnp.ndarray):
    """(P(player wins), P(opponent wins)), each (M,) float32, for games in one round.

    Args:
      outcomes: `TensorOutcomes` or `ScoreOutcomes`.
      round_index: () int32.
      players, opponents: (M,) int32 model indices.
    """
    if isinstance(outcomes, TensorOutcomes):
        n_models = players.shape[0]
        row = outcomes.win_prob[round_index]  # (M * M,)
        return take(row, players * n_models + opponents), take(row, opponents * n_models + players)
    levels = outcomes.levels[round_index]  # (M,)
    mine, theirs = take(levels, players), take(levels, opponents)
    tie = mine == theirs
    win = jnp.where(mine > theirs, 1.0, jnp.where(tie, outcomes.tie_win, 0.0))
    loss = jnp.where(mine < theirs, 1.0, jnp.where(tie, outcomes.tie_win, 0.0))
    return win.astype(jnp.float32), loss.astype(jnp.float32)
