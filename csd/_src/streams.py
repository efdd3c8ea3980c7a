"""Every random stream the package draws from, by name: the one place to look up or add one.

A result depends only on the seed and on these names, so two analyses that share a seed
but draw for different purposes never share random numbers by accident.

Device streams select the counter-based keys of the kernel (`rng.run_keys`): a run's
random numbers are a hash of (seed, stream, run index, round, slot). Host streams seed a
NumPy generator, `numpy.random.default_rng([seed, stream])`, for draws made outside the
kernel (resampled benchmarks, random round orders).

Example:
  >>> from csd._src import streams
  >>> streams.replicate_streams(3).tolist()
  [1, 2, 3]
  >>> float(streams.host_generator(0, streams.BOOTSTRAP_RESAMPLE).random()) == float(
  ...     streams.host_generator(0, streams.BOOTSTRAP_RESAMPLE).random())
  True
"""

from __future__ import annotations

import numpy as np

# Device streams (uint32).
TOURNAMENT = 0  # simulate's runs, and a sweep's schedules under common random numbers
FIRST_REPLICATE = 1  # bootstrap replicate b plays stream FIRST_REPLICATE + b
CV_PILOT = 0xC0FFEE01  # the control-variate estimator's pilot runs, never reused (`estimator`)
# and the pilot runs of bootstrap replicate b play stream CV_PILOT + FIRST_REPLICATE + b.
# A sweep under `independent` coupling plays schedule s on stream s: schedule 0 shares
# `TOURNAMENT` with `simulate`, so its numbers equal a plain simulate of that schedule.

# `Tournament(order="shuffle")` draws each run's round order from the run's key (salted
# `rng.round_order_keys`), on whatever stream the run plays.

# Host streams.
BOOTSTRAP_RESAMPLE = 1  # the benchmarks (or the noise) of the bootstrap replicate tables
ROUND_ORDER = 0x0DE4  # `order_rounds(order="random")`
ORDER_SENSITIVITY = 0x0DE5  # the random round orders an order-sensitivity analysis tries


def replicate_streams(n_replicates: int) -> np.ndarray:
    """(B,) device streams of B bootstrap replicate tables."""
    return FIRST_REPLICATE + np.arange(n_replicates)


def replicate_pilot_streams(n_replicates: int) -> np.ndarray:
    """(B,) device streams of the cv pilot runs of B bootstrap replicate tables."""
    return CV_PILOT + replicate_streams(n_replicates)


def schedule_streams(n_schedules: int) -> np.ndarray:
    """(S,) device streams of the S schedules of a sweep under `independent` coupling."""
    return TOURNAMENT + np.arange(n_schedules)


def host_generator(seed: int, stream: int) -> np.random.Generator:
    """The NumPy generator of host stream `stream` under `seed`."""
    return np.random.default_rng([seed, stream])
