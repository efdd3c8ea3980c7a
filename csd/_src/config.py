"""The typed configuration of a `csd-run` run: Hydra structured configs, and what they build.

`RunConfig` and its sections are the schema of `csd/configs/config.yaml`: they are stored
in Hydra's ConfigStore (`register`), so OmegaConf checks every key and type as the config
is composed. The values are checked by the library itself, once, where it takes them:
`tournament()` builds the `csd.Tournament`, `prepare_table` reads the table, and the
modes call `csd.bootstrap`, `csd.compare`, ...; an `InputError` from there reaches the user
prefixed with the config key (`config_errors`).

Example:
  >>> from csd._src.config import RunConfig
  >>> config = RunConfig.from_dict({"n_runs": 2000, "elimination": {"kind": "constant", "t": 1}})
  >>> config.n_runs, config.tournament().elimination
  (2000, 1)
  >>> RunConfig.from_dict({"pairing": {"tie": "flip"}}).tournament()
  Traceback (most recent call last):
  ...
  csd._src.errors.InputError: pairing.tie: tie='flip' is not allowed; choose one of: coin, draw
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from typing import Any, List, Optional

from csd._src.datasets import shipped_table, shipped_tiers
from csd._src.errors import InputError, check_choice, check_int
from csd._src.rounds import order_rounds
from csd._src.spec import Tournament
from csd._src.table import ScoreTable, load_table

ELIMINATION_KINDS = ("constant", "schedule", "none")


@dataclasses.dataclass
class DataConfig:
    """Which table, and how to read it. The defaults are the shipped LiveBench config
    (`configs/data/livebench.yaml`): by category, easiest first, the order
    `csd.load_table` gives the shipped table in too; a `path` plays its columns in the
    file's order.

    Attributes:
      table: a shipped table (`livebench`, `epoch_hub_small`, `openllm_v2`); used when
        `path` is None.
      path: a table file (comma-, tab- or semicolon-separated, wide or long) or a folder of
        lm-evaluation-harness results, read instead of `table` (docs/data.md).
      missing: the missing-score policy (`loss`, `drop-model`, `drop-benchmark`, `error`).
      order: the round order: `given`, `easy-first` or `random` (`csd.order_rounds`), or
        `shuffle`: a fresh random order in every tournament (`Tournament(order="shuffle")`,
        inside the tiers, which keep `tier_order`), or `auto`: `easy-first` when the rounds
        play in the shipped tiers (`tiers=auto` with a table that ships them), else `given`
        (`round_order`).
      tiers: `auto` (the tiers shipped with `table`, if any, and none for `path`), None, or
        a JSON file `{"tier": ["benchmark", ...], ...}` listing every benchmark once.
      tier_order: the order of the tiers: `given` or `easy-first` (`csd.order_rounds`).
      format: how to read `path`: `auto`, `wide`, `long` or `lm-eval` (`csd.load_table`).
      lower_is_better: benchmarks whose scores are negated so that higher is better.
      higher_is_better: benchmarks played as they are, against the harness's
        `higher_is_better` or a metric name that suggests lower-is-better.
      benchmarks: None (every column but aggregates such as `Average`, and for lm-eval the
        `tasks` level), or the benchmarks played, in this order (the given round order).
      drop: columns left out (e.g. a parameter count).
      metric: lm-eval: None (each task's first metric), one metric name, or {task: name}.
      tasks: lm-eval: `groups`, `subtasks` or `all` (`csd.load_table`).
      sheet: an .xlsx `path`: the sheet read (None: the first).
    """

    table: Optional[str] = "livebench"
    path: Optional[str] = None
    missing: str = "loss"
    order: str = "auto"
    tiers: Optional[str] = "auto"
    tier_order: str = "easy-first"
    format: str = "auto"
    lower_is_better: List[str] = dataclasses.field(default_factory=list)
    higher_is_better: List[str] = dataclasses.field(default_factory=list)
    benchmarks: Optional[List[str]] = None
    drop: List[str] = dataclasses.field(default_factory=list)
    metric: Any = None
    tasks: str = "groups"
    sheet: Optional[str] = None

    def round_order(self) -> str:
        """`order` with `auto` resolved: `easy-first` inside shipped tiers, else `given`."""
        if self.order != "auto":
            return self.order
        shipped = self.tiers == "auto" and self.path is None and self.table is not None
        return "easy-first" if shipped and tiers_source(self) is not None else "given"


@dataclasses.dataclass
class PairingConfig:
    """The tournament's rules (docs/rules.md), as `csd.Tournament` names them, with the
    pairing rule under `rule`."""

    rule: str = "random"
    tie: str = "coin"
    bye_points: float = 0.0
    draw_points: float = 0.5
    bye: Optional[str] = None
    bye_once: bool = False
    avoid_rematch: bool = False


@dataclasses.dataclass
class EliminationConfig:
    """`constant` (`t` an int, every round), `schedule` (`t` one int per round) or `none`."""

    kind: str = "constant"
    t: Any = 0
    min_active: int = 1

    def schedule(self):
        """`t` for the `Tournament`: an int (`constant`), a list (`schedule`), 0 (`none`).

        Raises:
          InputError: for an unknown kind, or a `t` of the wrong form for the kind.
        """
        check_choice("elimination.kind", self.kind, ELIMINATION_KINDS)
        listed = isinstance(self.t, (list, tuple))
        if self.kind == "none":
            if self.t not in (0, None):
                raise InputError(f"elimination.t={self.t!r} contradicts elimination=none; use elimination=constant")
            return 0
        if self.kind == "constant" and listed:
            values = ",".join(map(str, self.t))
            raise InputError(
                f"elimination.t={list(self.t)} must be one int >= 0 under elimination=constant; for one job per T: "
                f"csd-run -m elimination.t={values}; for all of them in one process: csd-run mode=sweep "
                f"'sweep.schedules=[{values}]'; for one T per round: elimination=schedule with one entry per round"
            )
        if self.kind == "schedule" and not listed:
            raise InputError(
                f"elimination.t={self.t!r} must be a list of ints >= 0, one per round (3 rounds: "
                "'elimination.t=[0,1,1]')"
            )
        return tuple(self.t) if listed else self.t


@dataclasses.dataclass
class SweepConfig:
    """mode=sweep: the schedules of the Failure Sensitivity Analysis (ints or per-round lists)."""

    schedules: List[Any] = dataclasses.field(default_factory=lambda: [0, 1, 2])


@dataclasses.dataclass
class BootstrapConfig:
    """mode=bootstrap: the options of `csd.bootstrap` of the same names."""

    n_boot: int = 200
    scheme: str = "benchmarks"
    interval: Optional[str] = None
    score_stderr: Optional[float] = None
    n_items: Optional[int] = None
    coverage: float = 0.95


@dataclasses.dataclass
class CompareConfig:
    """mode=compare: the baselines (None: all that `csd.compare` knows) and, with n_boot > 0,
    bootstrap intervals for every method (`csd.compare`'s options of the same names)."""

    methods: Optional[List[str]] = None
    n_boot: int = 0
    coverage: float = 0.95
    boot_runs: int = 2000


@dataclasses.dataclass
class ShardConfig:
    """One run split over jobs (docs/cluster.md): shard `index` of `count` plays 1/count of
    the runs; `csd-run mode=collect dir=PARENT` merges the shards bit for bit."""

    index: Optional[int] = None
    count: int = 1


@dataclasses.dataclass
class PlotsConfig:
    """The figures' file formats: any of png, pdf, svg."""

    format: List[str] = dataclasses.field(default_factory=lambda: ["png"])


@dataclasses.dataclass
class OutlierConfig:
    """mode=outlier: set `model`'s scores on `benchmarks` (None: the default) to `value`."""

    model: Optional[str] = None
    benchmarks: Optional[List[str]] = None
    value: float = 0.0


@dataclasses.dataclass
class CollectConfig:
    """mode=collect: `skip_broken` merges the whole runs and names each broken one in a
    warning; False (the default) refuses, naming them."""

    skip_broken: bool = False


@dataclasses.dataclass
class ReportConfig:
    """mode=report: the sizes of `csd.report` (None: its defaults, or its quick ones with
    `quick`); the top-level n_runs is not used. The outlier test zeroes the `outlier_count`
    best scores of `outlier_model` (None: the model at CSD place `outlier_rank`)."""

    n_runs: Optional[int] = None
    fsa_runs: Optional[int] = None
    n_boot: Optional[int] = None
    boot_runs: Optional[int] = None
    order_runs: Optional[int] = None
    n_random_orders: Optional[int] = None
    outlier_model: Optional[str] = None
    outlier_rank: int = 7
    outlier_count: int = 3
    quick: bool = False


@dataclasses.dataclass
class RunConfig:
    """Everything one `csd-run` run does; see `csd/configs/config.yaml` for each key."""

    mode: str = "simulate"
    n_runs: int = 100_000
    seed: int = 0
    chunk_size: Optional[int] = None
    target_se: Optional[float] = None
    max_runs: Optional[int] = None
    estimator: str = "cv"
    progress: bool = True
    top: Optional[int] = None
    order_sensitivity: int = 8
    plot_top: int = 40
    dir: Optional[str] = None
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    pairing: PairingConfig = dataclasses.field(default_factory=PairingConfig)
    elimination: EliminationConfig = dataclasses.field(default_factory=EliminationConfig)
    sweep: SweepConfig = dataclasses.field(default_factory=SweepConfig)
    bootstrap: BootstrapConfig = dataclasses.field(default_factory=BootstrapConfig)
    compare: CompareConfig = dataclasses.field(default_factory=CompareConfig)
    outlier: OutlierConfig = dataclasses.field(default_factory=OutlierConfig)
    collect: CollectConfig = dataclasses.field(default_factory=CollectConfig)
    report: ReportConfig = dataclasses.field(default_factory=ReportConfig)
    plots: PlotsConfig = dataclasses.field(default_factory=PlotsConfig)
    shard: ShardConfig = dataclasses.field(default_factory=ShardConfig)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunConfig:
        """The config of a nested dict (absent keys take their defaults), its keys and types
        checked against the schema.

        Raises:
          InputError: for an unknown key, a required key left unset, or a value of the
            wrong type, naming the dotted key.
        """
        from omegaconf import OmegaConf

        with config_errors():
            return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), dict(raw)))

    def tournament(self, prepared: PreparedTable | None = None) -> Tournament:
        """The `csd.Tournament` of `pairing` and `elimination`, with the tiers of `prepared`
        (the table read, already in round order); with `data.order=shuffle` it shuffles
        the rounds itself, inside those tiers.

        Raises:
          InputError: prefixed with the config key at fault.
        """
        fields = {("pairing" if key == "rule" else key): value for key, value in dataclasses.asdict(self.pairing).items()}
        if prepared is not None and prepared.tiers:
            fields["tiers"] = tuple(map(tuple, prepared.tiers.values()))
        if self.data.round_order() == "shuffle":
            fields["order"] = "shuffle"
        with prefixed(TOURNAMENT_KEYS):
            return Tournament(**fields, elimination=self.elimination.schedule(), min_active=self.elimination.min_active)

    def to_dict(self) -> dict:
        """Plain lists and numbers, ready for JSON (tuples become lists)."""
        return _plain(dataclasses.asdict(self))


# The config key of each `Tournament` field.
TOURNAMENT_KEYS = {
    **{("pairing" if f.name == "rule" else f.name): f"pairing.{f.name}" for f in dataclasses.fields(PairingConfig)},
    "elimination": "elimination.t",
    "min_active": "elimination.min_active",
    "order": "data.order",
    "tiers": "data.tiers",
}


def register() -> None:
    """Stores `RunConfig` in Hydra's ConfigStore as `csd_schema`, the schema config.yaml
    names first in its defaults list."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="csd_schema", node=RunConfig)


@contextlib.contextmanager
def prefixed(keys: Mapping[str, str] | str):
    """Re-raises an `InputError` with the config key of its option in front: `keys` maps an
    option name to its key, or is a section name whose options are `section.option`."""
    try:
        yield
    except InputError as error:
        option = error.option
        if isinstance(keys, str):
            key = f"{keys}.{option}" if option else keys
        else:
            key = keys.get(option)
        raise (error.prefixed(key) if key else error) from None


@contextlib.contextmanager
def config_errors():
    """Turns OmegaConf's key and type errors into an `InputError` naming the dotted key."""
    from omegaconf.errors import ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

    try:
        yield
    except MissingMandatoryValue as error:
        raise InputError(f"{error.full_key} is required; set it, e.g. {error.full_key}=...", error.full_key) from None
    except ConfigKeyError as error:
        raise InputError(f"unknown option {error.full_key}; {_allowed(error.full_key)}", error.full_key) from None
    except OmegaConfBaseException as error:
        message = str(error).splitlines()[0]
        raise InputError(f"{error.full_key}: {message}", error.full_key) from None


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
      InputError: for a missing or bad file, or tiers that do not fit the table, prefixed
        with the `data.` key at fault.
    """
    seed = check_int("seed", seed, 0)  # the top-level key, not one of data's
    with prefixed("data"):
        if data.path is not None and not data.path.strip():
            raise InputError(f"path={data.path!r} names no file: give a table file or an lm-eval folder, "
                             "or leave data.path out to read data.table", "path")
        if data.path is not None:
            source, name = os.path.abspath(os.path.expanduser(data.path)), data.path
        elif data.table is not None:
            source, name = shipped_table(data.table), data.table
        else:
            raise InputError("give data.path=FILE (a CSV) or data.table=NAME")
        table = load_table(
            source, missing=data.missing, format=data.format, lower_is_better=data.lower_is_better,
            higher_is_better=data.higher_is_better, metric=data.metric, tasks=data.tasks, sheet=data.sheet,
            benchmarks=data.benchmarks, drop=data.drop,
        )
        tiers = tiers_source(data)
        # `shuffle` is played by the tournament (`RunConfig.tournament`): the table keeps its order.
        order = "given" if data.round_order() == "shuffle" else data.round_order()
        table, tiers = order_rounds(table, order, tiers, tier_order=data.tier_order, seed=seed)
    return PreparedTable(table, tiers, name)


def tiers_source(data: DataConfig) -> str | dict[str, list[str]] | None:
    """The tiers file `data.tiers` names: `auto` is the one shipped with `data.table` (none
    for a `path` or a table that ships none). With `data.benchmarks` or `data.drop`, its
    tiers {tier: [benchmarks]} restricted to the benchmarks chosen."""
    if data.tiers != "auto":
        source = data.tiers
    elif data.path is not None:
        return None
    else:
        source = shipped_tiers(data.table)
    if source is None or (data.benchmarks is None and not data.drop):
        return source
    return _chosen_tiers(source, data)


def _chosen_tiers(source: str, data: DataConfig):
    """The tiers of the JSON file `source` without the benchmarks `data.benchmarks` leaves
    out or `data.drop` names; `source` itself where it cannot be read as tiers, for
    `order_rounds` to report why."""
    try:
        with open(os.path.expanduser(source), encoding="utf-8") as handle:
            tiers = json.load(handle)
    except (OSError, ValueError):
        return source
    if not isinstance(tiers, Mapping) or not all(isinstance(names, list) for names in tiers.values()):
        return source

    def chosen(name) -> bool:
        return (data.benchmarks is None or name in data.benchmarks) and name not in data.drop

    return {tier: [name for name in names if chosen(name)] for tier, names in tiers.items()}


def is_list_key(key: str) -> bool:
    """Whether the dotted config `key` (e.g. `data.lower_is_better`) is a list field of the
    schema, so that `key=[a,b]` is its value (and `key=a,b` is not a sweep it wants)."""
    node, hints = RunConfig, None
    for part in key.split("."):
        if not (isinstance(node, type) and dataclasses.is_dataclass(node)):
            return False
        hints = typing.get_type_hints(node)
        if part not in hints:
            return False
        node = hints[part]
        if typing.get_origin(node) is typing.Union:  # Optional[X]
            node = next(arg for arg in typing.get_args(node) if arg is not type(None))
    return typing.get_origin(node) is list


def _allowed(key: str) -> str:
    """Which keys the section of dotted `key` has."""
    section, _, _ = key.rpartition(".")
    node = RunConfig()
    for part in filter(None, section.split(".")):
        node = getattr(node, part, None)
    if not dataclasses.is_dataclass(node):
        return "see csd-run --cfg job"
    where = f"in {section}" if section else "at the top level"
    return f"allowed {where}: " + ", ".join(f.name for f in dataclasses.fields(node))


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
