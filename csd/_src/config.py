"""The typed configuration of a `csd-run` run, and the table it names.

`RunConfig.from_dict` turns the plain dict of a Hydra config (or any mapping, e.g. from a
research script) into frozen dataclasses, checking every key and value: an unknown key or
an invalid value raises `InputError` naming the dotted key and what is allowed.
`prepare_table` then reads the table the config names and puts its rounds in order
(`csd.order_rounds`), and `EliminationConfig.schedule` checks the schedule against the
number of rounds.

Example:
  >>> from csd._src.config import RunConfig
  >>> config = RunConfig.from_dict({"n_runs": 2000, "elimination": {"kind": "constant", "t": 1}})
  >>> config.n_runs, config.elimination.schedule(n_rounds=3)
  (2000, 1)
  >>> RunConfig.from_dict({"pairing": {"tie": "flip"}})
  Traceback (most recent call last):
  ...
  csd._src.errors.InputError: pairing.tie='flip' is not allowed; choose one of: coin, draw
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from csd._src.bootstrap import INTERVALS as BOOTSTRAP_INTERVALS
from csd._src.bootstrap import SCHEMES as BOOTSTRAP_SCHEMES
from csd._src.datasets import SHIPPED_TABLES, shipped_table, shipped_tiers
from csd._src.errors import InputError, check_choice, check_int, check_unit_interval
from csd._src.driver import check_pairing_options
from csd._src.pairing import BYES, PAIRINGS
from csd._src.rounds import ORDERS, TIER_ORDERS, arrange, read_tiers
from csd._src.table import MISSING_POLICIES, ScoreTable, load_table

MODES = ("simulate", "sweep", "bootstrap", "compare", "outlier", "collect", "report")
ELIMINATION_KINDS = ("constant", "schedule", "none")
TIES = ("coin", "draw")
MISSING = "???"  # OmegaConf's mark of a mandatory value left unset

Schedule = int | tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which table, and how to read it.

    Attributes:
      table: a shipped table (`livebench`, `epoch_hub_small`, `openllm_v2`); used when
        `path` is None.
      path: a CSV file, read instead of `table`.
      missing: the missing-score policy (`loss`, `drop-model`, `drop-benchmark`, `error`).
      order: the round order: `given` (the file's column order, or with tiers the order the
        tiers list them), `easy-first` (by mean score over the models, highest first) or
        `random` (a permutation drawn from the run's seed). With tiers, the rounds go tier
        by tier, and `order` applies inside each tier.
      tiers: `auto` (the tiers shipped with `table`, if any, and none for `path`), None, or
        a JSON file `{"tier": ["benchmark", ...], ...}` listing every benchmark once.
      tier_order: the order of the tiers: `given` (the tiers file's order) or `easy-first`
        (by the tier's mean score, highest first). See `csd.order_rounds`.
    """

    table: str | None = "livebench"
    path: str | None = None
    missing: str = "loss"
    order: str = "given"
    tiers: str | None = None
    tier_order: str = "given"


@dataclasses.dataclass(frozen=True)
class PairingConfig:
    """The tournament's rules (docs/rules.md): pairing rule, ties, points and the pairing
    options (`bye`: null for the rule's own, `random` or `lowest`; `bye_once`;
    `avoid_rematch`)."""

    rule: str = "random"
    tie: str = "coin"
    bye_points: float = 0.0
    draw_points: float = 0.5
    bye: str | None = None
    bye_once: bool = False
    avoid_rematch: bool = False


@dataclasses.dataclass(frozen=True)
class EliminationConfig:
    """`constant` (`t` an int, every round), `schedule` (`t` one int per round) or `none`."""

    kind: str = "constant"
    t: Schedule = 0
    min_active: int = 1

    def schedule(self, n_rounds: int) -> Schedule:
        """`t` checked against the number of rounds: an int, or `n_rounds` ints.

        Raises:
          InputError: if a per-round schedule does not have one entry per round.
        """
        if isinstance(self.t, tuple) and len(self.t) != n_rounds:
            raise InputError(
                f"elimination.t has {len(self.t)} entries but the table has {n_rounds} rounds "
                f"(one per benchmark); give {n_rounds} ints, or use elimination=constant"
            )
        return self.t

    def label(self) -> str:
        """A short name: `T=1`, or `T=[0,1,...]`."""
        return schedule_label(self.t)


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """mode=sweep: the schedules of the Failure Sensitivity Analysis (ints or per-round lists)."""

    schedules: tuple[Schedule, ...] = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class BootstrapConfig:
    """mode=bootstrap: `n_boot` replicates of the `scheme` (`benchmarks` or `noise`); for
    `noise`, every score's SE is `score_stderr`, or binomial over `n_items` items;
    intervals of central probability `coverage`, of kind `interval` (None: the scheme's
    default, see `csd.bootstrap`)."""

    n_boot: int = 200
    scheme: str = "benchmarks"
    interval: str | None = None
    score_stderr: float | None = None
    n_items: int | None = None
    coverage: float = 0.95


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """mode=compare: the baselines (None: all that `csd.compare` knows)."""

    methods: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class OutlierConfig:
    """mode=outlier: set `model`'s scores on `benchmarks` (None: the default) to `value`."""

    model: str | None = None
    benchmarks: tuple[str, ...] | None = None
    value: float = 0.0


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """mode=report: the sizes of `csd.report` (None: its defaults, or its quick ones with
    `quick`); the top-level n_runs is not used. The outlier test zeroes the `outlier_count`
    best scores of `outlier_model` (None: the model at CSD place `outlier_rank`)."""

    n_runs: int | None = None
    fsa_runs: int | None = None
    n_boot: int | None = None
    boot_runs: int | None = None
    order_runs: int | None = None
    n_random_orders: int | None = None
    outlier_model: str | None = None
    outlier_rank: int = 7
    outlier_count: int = 3
    quick: bool = False


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one `csd-run` run does; see `csd/configs/config.yaml` for each key."""

    mode: str = "simulate"
    n_runs: int = 100_000
    seed: int = 0
    chunk_size: int | None = None
    target_se: float | None = None
    max_runs: int | None = None
    progress: bool = True
    top: int | None = None
    dir: str | None = None
    data: DataConfig = DataConfig()
    pairing: PairingConfig = PairingConfig()
    elimination: EliminationConfig = EliminationConfig()
    sweep: SweepConfig = SweepConfig()
    bootstrap: BootstrapConfig = BootstrapConfig()
    compare: CompareConfig = CompareConfig()
    outlier: OutlierConfig = OutlierConfig()
    report: ReportConfig = ReportConfig()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunConfig:
        """Checks `raw` (a nested dict; absent keys take their defaults) and builds the config.

        Raises:
          InputError: for an unknown key, a required key left unset, or an invalid value,
            naming the dotted key and what is allowed.
        """
        top = _section(raw, "", cls)
        config = cls(
            mode=_choice("mode", top, MODES),
            n_runs=_int("n_runs", top, 1),
            seed=_int("seed", top, 0),
            chunk_size=_optional(top, "chunk_size", lambda: _int("chunk_size", top, 1)),
            target_se=_optional(top, "target_se", lambda: _positive("target_se", top)),
            max_runs=_optional(top, "max_runs", lambda: _int("max_runs", top, 1)),
            progress=_bool("progress", top),
            top=_optional(top, "top", lambda: _int("top", top, 1)),
            dir=_optional(top, "dir", lambda: _text("dir", top)),
            data=_data(_section(top.get("data"), "data", DataConfig)),
            pairing=_pairing(_section(top.get("pairing"), "pairing", PairingConfig)),
            elimination=_elimination(_section(top.get("elimination"), "elimination", EliminationConfig)),
            sweep=_sweep(_section(top.get("sweep"), "sweep", SweepConfig)),
            bootstrap=_bootstrap(_section(top.get("bootstrap"), "bootstrap", BootstrapConfig)),
            compare=_compare(_section(top.get("compare"), "compare", CompareConfig)),
            outlier=_outlier(_section(top.get("outlier"), "outlier", OutlierConfig)),
            report=_report(_section(top.get("report"), "report", ReportConfig)),
        )
        if config.mode == "collect" and config.dir is None:
            raise InputError("mode=collect needs dir=FOLDER: the multirun folder to merge")
        if config.mode == "outlier" and config.outlier.model is None:
            raise InputError("mode=outlier needs outlier.model=NAME: the model whose scores to change")
        return config

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON (tuples become lists)."""
        return _plain(dataclasses.asdict(self))

    def engine_options(self) -> dict:
        """The keyword arguments `csd.simulate` and its relatives share (no `elimination`)."""
        return {
            "n_runs": self.n_runs,
            "seed": self.seed,
            "pairing": self.pairing.rule,
            "tie": self.pairing.tie,
            "bye_points": self.pairing.bye_points,
            "draw_points": self.pairing.draw_points,
            "bye": self.pairing.bye,
            "bye_once": self.pairing.bye_once,
            "avoid_rematch": self.pairing.avoid_rematch,
            "min_active": self.elimination.min_active,
            "chunk_size": self.chunk_size,
        }


@dataclasses.dataclass(frozen=True)
class PreparedTable:
    """The table a `DataConfig` names, columns in round order, and its tiers.

    Attributes:
      table: the `ScoreTable`, benchmarks in round order.
      tiers: None, or {tier: [benchmarks in round order]} in the tiers' order.
      name: a short name for reports (the shipped table's name, or the file's path).
    """

    table: ScoreTable
    tiers: dict[str, list[str]] | None
    name: str


def prepare_table(data: DataConfig, seed: int = 0) -> PreparedTable:
    """Reads the table of `data`, applies the missing policy, the tiers and the round order
    (`csd.order_rounds`, with `data.order`, `data.tier_order` and `seed`).

    Raises:
      InputError: for a missing or bad file, or tiers that do not fit the table.
    """
    if data.path is not None:
        source, name = os.path.abspath(os.path.expanduser(data.path)), data.path
    else:
        source, name = shipped_table(data.table), data.table
    table = load_table(source, missing=data.missing)
    tiers_source = _tiers_source(data)
    tiers = None if tiers_source is None else read_tiers(tiers_source, table, option="data.tiers")
    table, tiers = arrange(table, data.order, tiers, data.tier_order, seed)
    return PreparedTable(table, tiers, name)


def schedule_label(t: Schedule | Sequence[int]) -> str:
    """`T=1` for a constant, `T=[0,1,...]` for a per-round schedule."""
    if isinstance(t, (int, np.integer)):
        return f"T={int(t)}"
    values = [int(v) for v in t]
    if len(set(values)) == 1:
        return f"T={values[0]}"
    return "T=[" + ",".join(str(v) for v in values) + "]"


# ----------------------------------------------------------------------------- tables


def _tiers_source(data: DataConfig) -> str | None:
    """The tiers file `data.tiers` names: `auto` is the one shipped with `data.table` (none
    for a `path` or a table that ships none)."""
    if data.tiers != "auto":
        return data.tiers
    if data.path is not None:
        return None
    return shipped_tiers(data.table)


# ----------------------------------------------------------------------------- checks


def _section(raw, name: str, cls) -> dict:
    """`raw` as a dict whose keys are all fields of `cls`, or InputError."""
    if raw is None:
        return {"__name__": name}
    if not isinstance(raw, Mapping):
        raise InputError(f"{name}={raw!r} must be a group of options ({_allowed_keys(name, cls)})")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in raw:
        if key not in allowed:
            raise InputError(f"unknown option {_key(name, key)}; {_allowed_keys(name, cls)}")
    return {"__name__": name, **raw}


def _allowed_keys(name: str, cls) -> str:
    where = f"in {name}" if name else "at the top level"
    return f"allowed {where}: " + ", ".join(f.name for f in dataclasses.fields(cls))


def _key(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _value(section: dict, key: str, default):
    value = section.get(key, default)
    if isinstance(value, str) and value == MISSING:
        name = _key(section.get("__name__", ""), key)
        raise InputError(f"{name} is required; set it, e.g. {name}=...")
    return value


def _get(key: str, section: dict, default=dataclasses.MISSING):
    """The value of a dotted key's last part in `section`, its default if absent."""
    name = key.rsplit(".", 1)[-1]
    return _value(section, name, _DEFAULTS[key] if default is dataclasses.MISSING else default)


def _choice(key: str, section: dict, allowed: Sequence[str]) -> str:
    value = _get(key, section)
    check_choice(key, value, allowed)
    return value


def _int(key: str, section: dict, minimum: int) -> int:
    return check_int(key, _get(key, section), minimum)


def _positive(key: str, section: dict) -> float:
    value = _get(key, section)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InputError(f"{key}={value!r} must be a number > 0")
    return float(value)


def _unit_open(key: str, section: dict) -> float:
    value = _number(key, section)
    if not 0 < value < 1:
        raise InputError(f"{key}={value!r} must be in (0, 1)")
    return value


def _number(key: str, section: dict) -> float:
    value = _get(key, section)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise InputError(f"{key}={value!r} must be a finite number")
    return float(value)


def _bool(key: str, section: dict) -> bool:
    value = _get(key, section)
    if not isinstance(value, bool):
        raise InputError(f"{key}={value!r} is not allowed; choose one of: true, false")
    return value


def _text(key: str, section: dict) -> str:
    value = _get(key, section)
    if not isinstance(value, str) or not value:
        raise InputError(f"{key}={value!r} must be a non-empty string")
    return value


def _optional(section: dict, name: str, build):
    """None if `section[name]` is None (or absent with a None default), else `build()`."""
    key = _key(section.get("__name__", ""), name)
    value = _value(section, name, _DEFAULTS[key])
    return None if value is None else build()


def _names(key: str, value) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InputError(f"{key}={value!r} must be a non-empty list of names, e.g. {key}=[a,b]")
    for item in value:
        if not isinstance(item, str) or not item:
            raise InputError(f"{key}: {item!r} is not a name")
    return tuple(value)


def _schedule(key: str, value, kind: str) -> Schedule:
    """An int T >= 0 (`constant`) or a non-empty list of ints >= 0 (`schedule`)."""
    if kind == "constant":
        if isinstance(value, Sequence) and not isinstance(value, str):
            raise InputError(
                f"{key}={_show(value)} must be one int >= 0 under elimination=constant; "
                "for one T per round use elimination=schedule"
            )
        return check_int(key, value, 0)
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InputError(
            f"{key}={_show(value)} must be a list of ints >= 0, one per round, e.g. {key}=[0,1,1]"
        )
    return tuple(check_int(f"{key}[{k}]", v, 0) for k, v in enumerate(value))


def _show(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return repr(value)


def _data(section: dict) -> DataConfig:
    table = _optional(section, "table", lambda: _choice("data.table", section, tuple(SHIPPED_TABLES)))
    path = _optional(section, "path", lambda: _text("data.path", section))
    if table is None and path is None:
        raise InputError(
            "data: give data.path=FILE (a CSV) or data.table=NAME; choose one of: "
            + ", ".join(SHIPPED_TABLES)
        )
    tiers = _optional(section, "tiers", lambda: _text("data.tiers", section))
    return DataConfig(
        table=table,
        path=path,
        missing=_choice("data.missing", section, MISSING_POLICIES),
        order=_choice("data.order", section, ORDERS),
        tiers=tiers,
        tier_order=_choice("data.tier_order", section, TIER_ORDERS),
    )


def _pairing(section: dict) -> PairingConfig:
    config = PairingConfig(
        rule=_choice("pairing.rule", section, PAIRINGS),
        tie=_choice("pairing.tie", section, TIES),
        bye_points=check_unit_interval("pairing.bye_points", _get("pairing.bye_points", section)),
        draw_points=check_unit_interval("pairing.draw_points", _get("pairing.draw_points", section)),
        bye=_optional(section, "bye", lambda: _choice("pairing.bye", section, BYES)),
        bye_once=_bool("pairing.bye_once", section),
        avoid_rematch=_bool("pairing.avoid_rematch", section),
    )
    try:
        check_pairing_options(config.rule, config.bye, config.bye_once, config.avoid_rematch)
    except InputError as error:
        raise InputError(f"pairing: {error}") from None
    return config


def _elimination(section: dict) -> EliminationConfig:
    kind = _choice("elimination.kind", section, ELIMINATION_KINDS)
    if kind == "none":
        t = 0
        if "t" in section and section["t"] not in (0, None):
            raise InputError(
                f"elimination.t={_show(section['t'])} contradicts elimination=none; use elimination=constant"
            )
    else:
        default = 0 if kind == "constant" else MISSING
        if kind == "schedule" and section.get("t", default) == MISSING:
            raise InputError(
                "elimination.t is required with elimination=schedule: one int >= 0 per round, "
                "e.g. elimination.t=[0,0,1,1,...]"
            )
        t = _schedule("elimination.t", _get("elimination.t", section, default), kind)
    return EliminationConfig(kind=kind, t=t, min_active=_int("elimination.min_active", section, 1))


def _sweep(section: dict) -> SweepConfig:
    schedules = _get("sweep.schedules", section)
    if isinstance(schedules, str) or not isinstance(schedules, Sequence) or not schedules:
        raise InputError(
            f"sweep.schedules={_show(schedules)} must be a non-empty list of schedules, e.g. [0,1,2]"
        )
    built = []
    for s, schedule in enumerate(schedules):
        kind = "schedule" if isinstance(schedule, Sequence) and not isinstance(schedule, str) else "constant"
        built.append(_schedule(f"sweep.schedules[{s}]", schedule, kind))
    return SweepConfig(schedules=tuple(built))


def _bootstrap(section: dict) -> BootstrapConfig:
    return BootstrapConfig(
        n_boot=_int("bootstrap.n_boot", section, 2),
        scheme=_choice("bootstrap.scheme", section, BOOTSTRAP_SCHEMES),
        interval=_optional(section, "interval", lambda: _choice("bootstrap.interval", section, BOOTSTRAP_INTERVALS)),
        score_stderr=_optional(section, "score_stderr", lambda: _positive("bootstrap.score_stderr", section)),
        n_items=_optional(section, "n_items", lambda: _int("bootstrap.n_items", section, 1)),
        coverage=_unit_open("bootstrap.coverage", section),
    )


def _compare(section: dict) -> CompareConfig:
    methods = _get("compare.methods", section)
    return CompareConfig(methods=None if methods is None else _names("compare.methods", methods))


def _outlier(section: dict) -> OutlierConfig:
    benchmarks = _get("outlier.benchmarks", section)
    return OutlierConfig(
        model=_optional(section, "model", lambda: _text("outlier.model", section)),
        benchmarks=None if benchmarks is None else _names("outlier.benchmarks", benchmarks),
        value=_number("outlier.value", section),
    )


def _report(section: dict) -> ReportConfig:
    sizes = ("n_runs", "fsa_runs", "n_boot", "boot_runs", "order_runs")
    return ReportConfig(
        **{size: _optional(section, size, lambda size=size: _int(f"report.{size}", section, 2)) for size in sizes},
        n_random_orders=_optional(section, "n_random_orders", lambda: _int("report.n_random_orders", section, 0)),
        outlier_model=_optional(section, "outlier_model", lambda: _text("report.outlier_model", section)),
        outlier_rank=_int("report.outlier_rank", section, 1),
        outlier_count=_int("report.outlier_count", section, 1),
        quick=_bool("report.quick", section),
    )


def _field_defaults(cls, prefix: str = "") -> dict:
    """{dotted key: default} for every leaf field of `cls`."""
    defaults = {}
    for field in dataclasses.fields(cls):
        value = field.default
        if dataclasses.is_dataclass(value):
            defaults.update(_field_defaults(type(value), _key(prefix, field.name)))
        else:
            defaults[_key(prefix, field.name)] = value
    return defaults


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_DEFAULTS = _field_defaults(RunConfig)
