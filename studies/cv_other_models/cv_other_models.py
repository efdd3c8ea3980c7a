"""Can the other models' luck lower the cv variance of the hardest models at T = 0? No.

    python studies/cv_other_models/cv_other_models.py                 # LiveBench, T = 0
    python studies/cv_other_models/cv_other_models.py --elimination 1

At T = 0 on LiveBench the control-variate estimator (`csd._src.estimator`) cuts the
variance of E[S] by a median of about 8x over models, but by only 1.7-2.2x for the
hardest ones, and the time to every SE <= 0.005 is set by them. Their Z keeps the part of
X that comes from the path of their conditional means g_k, which the other models'
pairings set. This study adds the other models' martingale differences D_k(j) = x_k(j) -
g_k(j) as further controls (mean zero whatever their fixed coefficients), fits the
coefficients by least squares on separate runs, and measures Var(X) / Var(Z') on fresh
runs, next to the shipped Z:

- `summed`: sum_k D_k(j) for every model j (M controls per model);
- `per_round`: D_k(j) for every round and model (K M controls);
- `near_groups`: per round, the summed D_k(j) of the models j in m's score group and in
  the groups one point above and below, raw and weighted by how often j beats m on the
  later benchmarks (6 K controls per model);
- `big_pilot`: no extra control, weight tables from an 8x larger pilot.

It reads the runs out of the engine (`engine.trace_pairings`, with one extra round that
copies the last benchmark, so that the scores before it are the final ones) and recomputes
X, g_k and Z in NumPy. Prints a table and writes results/cv_other_models_T<T>.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import csd
from csd._src import control, driver, engine, estimator, rng

TRACE_CHUNK = 4096
FIT_OFFSET = 1 << 20  # run indices of the fit runs, apart from the evaluation runs


class Runs:
    """Traced runs of the table plus one dummy round: scores (N, K + 1, M) before each
    round, active (N, K, M) models that play it, g (N, K, M) their conditional means."""

    def __init__(self, prepared, n_models: int, n_rounds: int, n_runs: int, first_run: int, seed: int):
        trace = jax.jit(engine.trace_pairings, static_argnums=0)
        means = jax.jit(jax.vmap(control.conditional_points, in_axes=(None, None, 0, 0, None)), static_argnums=0)
        schedule = jnp.asarray(np.append(prepared.schedules()[0][:n_rounds], 0), jnp.int32)
        parts = []
        for start in range(first_run, first_run + n_runs, TRACE_CHUNK):
            index = jnp.arange(start, start + TRACE_CHUNK, dtype=jnp.uint32)
            score, active, _ = trace(prepared.rules, prepared.outcomes, schedule, jnp.asarray(prepared.seed_key),
                                     jnp.asarray(rng.seed_words(seed)), jnp.uint32(0), index)
            score, active = np.asarray(score), np.asarray(active)
            g = np.stack([np.asarray(means(prepared.rules, prepared.outcomes, jnp.asarray(score[:, k]),
                                           jnp.asarray(active[:, k]), k)) for k in range(n_rounds)], axis=1)
            parts.append((score[..., :n_models], active[:, :n_rounds, :n_models], g[..., :n_models]))
        self.score, self.active, self.g = (np.concatenate(x)[:n_runs] for x in zip(*parts))
        self.final = self.score[:, n_rounds].astype(float)
        points = np.diff(self.score, axis=1).astype(float)[:, :n_rounds]
        self.surprise = np.where(self.active, points - self.g, 0.0)  # D_k(m), (N, K, M)

    def control_score(self, tables, n_rounds: int) -> np.ndarray:
        """(N, M) Z: X less the martingale and elimination terms of the shipped estimator."""
        beta, gamma = (np.asarray(t[0][..., 0], float) for t in tables)  # (K, M, V) score weights
        n_runs, _, n_models = self.surprise.shape
        models, top = np.arange(n_models)[None], beta.shape[-1] - 1
        z = self.final.copy()
        for k in range(n_rounds):
            z -= beta[k, models, np.clip(self.score[:, k], 0, top)] * self.surprise[:, k]
            if k:
                survival = np.asarray(jax.vmap(control.survival_probability)(
                    jnp.asarray(self.score[:, k]), jnp.asarray(self.active[:, k - 1]), jnp.asarray(self.active[:, k])))
                z -= gamma[k - 1, models, np.clip(self.score[:, k], 0, top)] * (self.active[:, k] - survival)
        return z


def near_group_controls(runs: Runs, levels: np.ndarray) -> np.ndarray:
    """(N, K, M, 6) per round and model m: the summed D_k(j) of the models j whose score is
    m's minus one, equal, plus one; raw, and weighted by the share of later benchmarks on
    which j beats m."""
    n_runs, n_rounds, n_models = runs.surprise.shape
    later_wins = np.zeros((n_rounds, n_models, n_models))  # [k, m, j]: j beats m later
    for k in range(n_rounds - 1):
        later = levels[k + 1 :]
        later_wins[k] = (later[:, None, :] > later[:, :, None]).mean(axis=0)
    score = runs.score[:, :n_rounds]
    controls = np.zeros((n_runs, n_rounds, n_models, 6), np.float32)
    for m in range(n_models):
        for i, offset in enumerate((-1, 0, 1)):
            near = score == score[:, :, m : m + 1] + offset
            near[:, :, m] = False
            controls[:, :, m, 2 * i] = (near * runs.surprise).sum(-1)
            controls[:, :, m, 2 * i + 1] = (near * runs.surprise * later_wins[None, :, m, :]).sum(-1)
    return controls


def with_controls(z_fit, controls_fit, z_eval, controls_eval, shared: bool) -> np.ndarray:
    """(N, M) Z' = Z - controls @ c, c fitted per model by least squares on the fit runs.

    controls: (N, P) shared by every model (`shared`), else (N, M, P)."""
    n_models = z_fit.shape[1]
    result = np.empty_like(z_eval)
    for m in range(n_models):
        a = controls_fit if shared else controls_fit[:, m]
        b = controls_eval if shared else controls_eval[:, m]
        gram = a.T @ a
        gram += 1e-6 * np.trace(gram) / len(gram) * np.eye(len(gram))
        coefficients = np.linalg.solve(gram, a.T @ (z_fit[:, m] - z_fit[:, m].mean()))
        result[:, m] = z_eval[:, m] - b @ coefficients
    return result


def summary(x: np.ndarray, z: np.ndarray, hardest: np.ndarray) -> dict:
    reduction = x.var(axis=0) / z.var(axis=0)
    return {"median": float(np.median(reduction)), "min": float(reduction.min()), "max": float(reduction.max()),
            "hardest": [float(v) for v in reduction[hardest]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elimination", type=int, default=0)
    parser.add_argument("--pilot", type=int, default=16_384, help="pilot runs of the weight tables")
    parser.add_argument("--fit", type=int, default=16_384, help="runs that fit the extra coefficients")
    parser.add_argument("--eval", type=int, default=20_480, help="runs the variances are measured on")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    table = csd.load_table(csd.shipped_table("livebench"))
    n_models, n_rounds = len(table.models), len(table.benchmarks)
    tournament = csd.Tournament(elimination=args.elimination)
    prepared = driver.prepare(table, tournament)
    with_copy = csd.ScoreTable(table.models, table.benchmarks + ("copy of the last",),
                               np.hstack([table.scores, table.scores[:, -1:]]))
    extended = driver.prepare(with_copy, tournament)
    schedules = prepared.schedules()

    def tables_from(n_pilot):
        return estimator.fit_tables(driver.run_pilot(prepared, schedules, n_runs=n_pilot, seed=0), prepared.rules)

    tables = tables_from(args.pilot)
    fit = Runs(extended, n_models, n_rounds, args.fit, FIT_OFFSET, args.seed)
    evaluation = Runs(extended, n_models, n_rounds, args.eval, 0, args.seed)
    z_fit, z_eval = fit.control_score(tables, n_rounds), evaluation.control_score(tables, n_rounds)
    x = evaluation.final
    hardest = np.argsort(x.var(axis=0) / z_eval.var(axis=0))[:3]
    levels = np.asarray(prepared.outcomes.levels)[:, :n_models]
    rows = {"shipped": summary(x, z_eval, hardest)}
    rows["summed"] = summary(x, with_controls(z_fit, fit.surprise.sum(1), z_eval, evaluation.surprise.sum(1), True), hardest)
    rows["per_round"] = summary(x, with_controls(
        z_fit, fit.surprise.reshape(args.fit, -1), z_eval, evaluation.surprise.reshape(args.eval, -1), True), hardest)
    near_fit, near_eval = (near_group_controls(r, levels).transpose(0, 2, 1, 3) for r in (fit, evaluation))
    rows["near_groups"] = summary(x, with_controls(
        z_fit, near_fit.reshape(args.fit, n_models, -1), z_eval, near_eval.reshape(args.eval, n_models, -1), False), hardest)
    rows["big_pilot"] = summary(x, evaluation.control_score(tables_from(8 * args.pilot), n_rounds), hardest)

    names = [table.models[m] for m in hardest]
    print(f"LiveBench, T = {args.elimination}: Var(X) / Var(Z') on {args.eval:,} runs; hardest models: {', '.join(names)}")
    print(f"{'controls':12s} {'median':>7s} {'min':>6s} {'max':>6s}   hardest three")
    for name, row in rows.items():
        hard = " ".join(f"{v:5.2f}" for v in row["hardest"])
        print(f"{name:12s} {row['median']:7.2f} {row['min']:6.2f} {row['max']:6.2f}   {hard}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"cv_other_models_T{args.elimination}.json"
    path.write_text(json.dumps({"args": vars(args), "hardest": names, "rows": rows}, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
