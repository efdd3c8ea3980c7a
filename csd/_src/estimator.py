"""The host side of the control-variate estimator of E[S] (docs/variance.md).

`cv` replaces each run's final score X by Z = X minus two corrections of mean zero (see
`control`): the rounds' points against their conditional means, weighted by the value of
a win, and the eliminations' survivals against their probabilities, weighted by the value
of surviving. E[Z] = E[X]; its variance is several times smaller.

Unbiased by construction: the weight tables come from pilot runs on a random stream of
their own (`PILOT_STREAM`), which the estimate never uses, played in chunks of a fixed
size; the tables are then a function of the seed and the pilot size only. The main runs
return Z per run in float32, which the host rounds to fixed grids (`FINE`, `COARSE` per
tick) and adds in integers, so the sums do not depend on the chunk size or device count.
The rounding moves E[S] by at most half a grid step, 2**-17 tick, far below any Monte
Carlo SE that matters; a model whose Z never varies reports SE 0 and carries only that.

Applies to the `random` pairing with a random bye, no `bye_once` or `avoid_rematch` and
a fixed round order (not `shuffle`), the rule whose conditional mean g_k is derived;
elsewhere `plain` runs, with the reason in the result. E[S] and its SE use Z.
P(champion) is the mean of each run's exact P(first | everything before the last round's
games) (`engine._champion_before_last_round`) less the same two corrections weighted by
champion tables (the value of a win and of surviving for finishing first), summed on the
same fixed grids (x `CHAMPION_SCALE`), then clipped to [0, 1] (`control_probability`: an
unbiased mean of unbounded scores can fall below 0, e.g. for a model that is almost
never first; the SE stays the unclipped one's). Rank probabilities, survival and the by-round
scores stay plain averages. A bootstrap fits one set of tables on pilot runs spread over
its replicates (`driver.run_pilot`) and every replicate uses it with its own g_k: the
tables are fixed before the replicates' runs, so each replicate's E[S] stays unbiased.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from csd._src import streams
from csd._src.control import Tables
from csd._src.errors import check_choice

ESTIMATORS = ("cv", "plain")
PILOT_STREAM = streams.CV_PILOT
PILOT_CHUNK = 1024  # runs per pilot kernel call (fixed: the tables must not depend on it)
MIN_CELL_RUNS = 10  # a (round, model, score) cell with fewer pilot runs takes the linear fit
FINE = 1 << 16  # grid (per tick) of the per-run Z summed for the mean
COARSE = 1 << 8  # grid of the per-run Z summed (with squares) for the SE
_MAX_TICKS = 1 << 15  # |Z| bound that keeps the fixed-point sums in int64
CHAMPION_SCALE = 1 << 8  # a champion probability is summed as this many "ticks" (grid 2**-24 per run)
_BLOCK = 1 << 16  # runs per int64 sum of squares (COARSE * _MAX_TICKS)**2 * _BLOCK < 2**63


def mean_stderr(total: np.ndarray, total_sq: np.ndarray, n_runs) -> np.ndarray:
    """Standard error of a mean, sd / sqrt(n) (ddof 1), from exact integer sums.

    Args:
      total, total_sq: int64 arrays (..., X): sums of the values and of their squares.
      n_runs: int or int array broadcasting against (..., 1): the number of values.
    """
    n = np.asarray(n_runs, dtype=object)[..., None] if np.ndim(n_runs) else int(n_runs)
    # n * (sum of squared deviations), exactly, in Python integers.
    scaled = n * total_sq.astype(object) - total.astype(object) ** 2
    n_float = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = scaled.astype(np.float64) / (n_float * (n_float - 1))
        return np.where(n_float >= 2, np.sqrt(variance / n_float), np.nan)


def resolve(estimator: str, rules) -> tuple[str, str | None]:
    """(the estimator that runs, the reason it is not the one asked for, or None).

    Raises:
      InputError: for an unknown estimator.
    """
    check_choice("estimator", estimator, ESTIMATORS)
    if estimator == "plain":
        return "plain", None
    reasons = (
        (not rules.pairing.random_in_groups, f"pairing={rules.pairing.name!r}"),
        (rules.bye != "random", f"bye={rules.bye!r}"),
        (rules.bye_once, "bye_once=True"),
        (rules.avoid_rematch, "avoid_rematch=True"),
        (rules.shuffle_tiers is not None, "order='shuffle'"),
    )
    for applies, option in reasons:
        if applies:
            return "plain", (
                f"cv is derived for pairing='random' with a random bye and a fixed round order only; {option}: "
                "plain estimator used"
            )
    return "cv", None


def pilot_size(n_runs: int) -> int:
    """Pilot runs for a main run of `n_runs`: about 1/8 of it, between 1024 (one pilot
    chunk) and 16384, in whole pilot chunks.

    The floor is what a large table needs: on the full Open LLM table (4,576 models) 500
    cv runs after a pilot of 1024 reach a largest SE of 0.0043 (plain: 0.033), and a floor
    of 2048 would double the cost of such a run for an SE of 0.0037. On LiveBench at
    4,000 runs (T=1) the largest SE is 0.0212 after 1024 pilot runs and 0.0210 after 2048.
    """
    wanted = min(16384, max(PILOT_CHUNK, n_runs // 8))
    return -(-wanted // PILOT_CHUNK) * PILOT_CHUNK


def fit_tables(pilot: np.ndarray, rules) -> Tables:
    """The weight tables of S schedules from `driver.run_pilot`'s sums.

    h_{k+1}(m, s) = E[ticks after round k | m played round k, score s after it] and
    gamma_k(m, s) = E[ticks after round k | m survived the elimination after it, score s]
    are cell means where a cell has MIN_CELL_RUNS pilot runs, else a count-weighted
    linear fit in s over the model's cells of that round, clipped to the possible range.
    beta_k(m, s) = 1 + (h_{k+1}(m, s + win) - h_{k+1}(m, s)) / win. The champion tables
    are the same with P(m finishes first) in place of the ticks after round k, and no
    1 +: a round's own points are not a title. Their beta is 0 in the last round, whose
    games the champion score already averages over (given the scores before it, its
    pairing too where there are no draws).

    Args:
      pilot: (S, 2, 3, K, M, V) int64 (see `control.pilot_sums`).
    Returns:
      `Tables` of (S, K, M, V, 2) float32 arrays.
    """
    n_rounds = pilot.shape[3]
    most_later = (n_rounds - 1 - np.arange(n_rounds)) * max(rules.win_ticks, rules.bye_ticks)
    bound = most_later[None, :, None, None]
    played, survived = pilot[:, 0], pilot[:, 1]  # (S, 3, K, M, V): counts, ticks after, titles
    later_if_played, later_if_survived = (np.clip(_cell_values(c[:, 0], c[:, 1]), 0, bound) for c in (played, survived))
    first_if_played, first_if_survived = (np.clip(_cell_values(c[:, 0], c[:, 2]), 0, 1) for c in (played, survived))
    beta = 1.0 + _value_of_a_win(later_if_played, rules.win_ticks)
    champion_beta = _value_of_a_win(first_if_played, rules.win_ticks)
    champion_beta[:, -1] = 0.0
    return Tables(*(np.stack(pair, axis=-1).astype(np.float32)
                    for pair in ((beta, champion_beta), (later_if_survived, first_if_survived))))


def _value_of_a_win(value: np.ndarray, win_ticks: int) -> np.ndarray:
    """(..., V) (value[s + win] - value[s]) / win, per tick of a win; a score beyond the
    last value keeps the last value."""
    n_values = value.shape[-1]
    after_win = np.minimum(np.arange(n_values) + win_ticks, n_values - 1)
    return (value[..., after_win] - value) / win_ticks


def _cell_values(count: np.ndarray, total: np.ndarray) -> np.ndarray:
    """(..., V) cell means, or where a cell has < MIN_CELL_RUNS runs the count-weighted
    least-squares line in s through the cell means of its row (a flat line through one
    score value, 0 for an empty row)."""
    score = np.arange(count.shape[-1], dtype=np.float64)
    weight, later = count.astype(np.float64), total.astype(np.float64)
    n, n_s, n_ss = weight.sum(-1), weight @ score, weight @ score**2
    t, t_s = later.sum(-1), later @ score
    spread = n * n_ss - n_s**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(spread > 1e-9 * np.maximum(n, 1) ** 2, (n * t_s - n_s * t) / spread, 0.0)
        intercept = np.where(n > 0, (t - slope * n_s) / n, 0.0)
        mean = later / np.maximum(weight, 1)
    fitted = intercept[..., None] + slope[..., None] * score
    return np.where(weight >= MIN_CELL_RUNS, mean, fitted)


@dataclasses.dataclass
class ControlTotals:
    """Exact sums over the runs of the per-run control-variate scores Z, (..., S, M) each
    (a leading replicate axis B for a replicated tournament).

    fine_sum: int64 sum of round(Z * FINE); coarse_sum: int64 sum of round(Z * COARSE);
    coarse_sq_sum: Python-int sum of its squares; gap_sq_sum: Python-int sum of the
    squared per-run differences of the rounded Z against schedule 0.
    """

    fine_sum: np.ndarray
    coarse_sum: np.ndarray
    coarse_sq_sum: np.ndarray
    gap_sq_sum: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> ControlTotals:
        """Zero sums of shape (..., S, M)."""
        return cls(np.zeros(shape, np.int64), np.zeros(shape, np.int64), _zero_ints(shape), _zero_ints(shape))

    def add(self, control_score: np.ndarray, n_players: int) -> None:
        """Adds the rounded Z of a chunk, (..., S, C, M) float32 (padding runs are 0)."""
        score = control_score[..., :n_players].astype(np.float64)
        if score.size and np.abs(score).max() >= _MAX_TICKS:
            raise FloatingPointError(f"a control-variate score reached {np.abs(score).max()} ticks")
        self.fine_sum += np.rint(score * FINE).astype(np.int64).sum(-2)
        coarse = np.rint(score * COARSE).astype(np.int64)
        self.coarse_sum += coarse.sum(-2)
        self.coarse_sq_sum += _sum_squares(coarse)
        self.gap_sq_sum += _sum_squares(coarse - coarse[..., :1, :, :])


def _zero_ints(shape) -> np.ndarray:
    return np.full(shape, 0, dtype=object)


def _sum_squares(values: np.ndarray) -> np.ndarray:
    """(..., S, M) object: exact sums over the runs axis of values**2, values (..., S, C, M) int64."""
    total = _zero_ints(values.shape[:-2] + values.shape[-1:])
    for start in range(0, values.shape[-2], _BLOCK):
        block = values[..., start : start + _BLOCK, :]
        total = total + (block * block).sum(-2).astype(object)
    return total


def control_mean(control: ControlTotals, n_runs, ticks_per_point: int) -> np.ndarray:
    """(..., S, M) the cv estimates of E[S], in points; n_runs an int or (...,) ints."""
    return control.fine_sum / FINE / np.asarray(n_runs)[..., None, None] / ticks_per_point


def control_probability(control: ControlTotals, n_runs) -> np.ndarray:
    """(..., S, M) the cv estimates of a probability summed x `CHAMPION_SCALE`, clipped to
    [0, 1]; n_runs an int or (...,) ints.

    The mean of the cv scores is unbiased but can leave [0, 1] (the corrections are
    unbounded), most often for a model whose true probability is near 0. Clipping moves
    an estimate only toward [0, 1], so where the truth is in [0, 1] its error never grows;
    it adds a bias, of the order of the SE, only where the truth is within a few SEs of 0
    or 1. The SE stays that of the unclipped mean (`control_stderr`), a slight
    overstatement of the clipped estimate's error."""
    return np.clip(control_mean(control, n_runs, CHAMPION_SCALE), 0.0, 1.0)


def control_stderr(control: ControlTotals, n_runs, ticks_per_point: int) -> np.ndarray:
    """(..., S, M) sd(Z) / sqrt(N), in points; n_runs an int or (...,) ints."""
    return mean_stderr(control.coarse_sum, control.coarse_sq_sum, _per_schedule(n_runs)) / COARSE / ticks_per_point


def control_drop_stderr(control: ControlTotals, n_runs, ticks_per_point: int) -> np.ndarray:
    """(..., S, M) SE of the cv drop E[S | s] - E[S | 0] from the per-run differences of Z."""
    gap_sum = control.coarse_sum - control.coarse_sum[..., :1, :]
    return mean_stderr(gap_sum, control.gap_sq_sum, _per_schedule(n_runs)) / COARSE / ticks_per_point


def _per_schedule(n_runs):
    """n_runs as `mean_stderr` broadcasts it against (..., S, M) sums: an int stays, (...,)
    ints gain the schedule axis."""
    return n_runs if np.ndim(n_runs) == 0 else np.asarray(n_runs)[..., None]


def variance_reduction(plain_stderr: np.ndarray, cv_stderr: np.ndarray) -> np.ndarray:
    """Var(X) / Var(Z) per model on the same runs (NaN where Z has no spread)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cv_stderr > 0, (plain_stderr / cv_stderr) ** 2, np.nan)
