"""`csd-run` (also `python -m csd`): the Hydra command line of csd.

    csd-run                                                  # the shipped LiveBench table
    csd-run data.path=my.csv elimination=constant elimination.t=2 n_runs=20000 seed=0
    csd-run -m elimination.t=0,1,2                           # a multirun, one job per T
    csd-run mode=collect dir=multirun/2026-01-01/12-00-00   # merged into one sweep table
    csd-run -m hydra/launcher=slurm elimination.t=0,1,2      # the same jobs on SLURM

The configs ship inside the package (`csd/configs`, also reachable as `configs/` at the
repository root), so the app finds them from any working directory. The entry point turns
the composed DictConfig (checked against the `RunConfig` schema) into a typed `RunConfig`
(csd/_src/config.py), runs the mode
(csd/_src/runs.py) and writes the outputs into Hydra's run directory.

Bad input (a missing or bad file, an unknown or invalid option, ...) is one line on stderr,
`csd-run: error: ...`, and exit status 2; nothing is written over the outputs of an earlier
run, since the files are written only after the computation succeeded, each atomically.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from csd._src.config import RunConfig, register
from csd._src.errors import InputError
from csd._src.runs import Context, run_mode, write_outputs

PROG = "csd-run"
SUMMARY_LOGGER = "csd.summary"  # writes to the run's csd-run.log only (hydra.job_logging in config.yaml)
EXIT_BAD_INPUT = 2


def _run_dir(mode, collect_dir, default):
    """Hydra's run directory: `<dir>/collect` for mode=collect, else `default`."""
    if mode == "collect" and collect_dir not in (None, "", "None"):
        return str(Path(str(collect_dir)) / "collect")
    return default


OmegaConf.register_new_resolver("csd_run_dir", _run_dir, replace=True)
register()


@hydra.main(version_base="1.3", config_path="configs", config_name="config")
def _app(cfg: DictConfig) -> None:
    """One job: the typed config, the mode, the outputs. Bad input exits with one line."""
    try:
        run(cfg)
    except InputError as err:
        _fail(str(err))


def run(cfg: DictConfig) -> list[Path]:
    """Runs the job of a composed config inside a Hydra app; returns the files written.

    Raises:
      InputError: for an invalid option or input, naming it.
    """
    from hydra.core.hydra_config import HydraConfig

    raw = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    config = RunConfig.from_dict(raw)
    hydra_cfg = HydraConfig.get()
    job_num = hydra_cfg.job.get("num") if hydra_cfg.mode.name == "MULTIRUN" else None
    ctx = Context(
        out_dir=Path(hydra_cfg.runtime.output_dir),
        overrides=tuple(hydra_cfg.overrides.task),
        job_num=job_num,
    )
    output = run_mode(config, ctx)
    written = write_outputs(output, ctx.out_dir)
    done = f"{output.terminal}\n\nwrote {', '.join(p.name for p in written)} to {ctx.out_dir}"
    print(done, flush=True)
    logging.getLogger(SUMMARY_LOGGER).info("%s\n%s", ctx.command(), done)  # csd-run.log only (config.yaml)
    return written


def main() -> None:
    """The console script `csd-run`: the Hydra app, with configuration errors as one line."""
    # Let Hydra raise its errors instead of printing them with a traceback, so they can be
    # reported here as one line. Real bugs still end in a full traceback.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _app()
    except InputError as err:
        _fail(str(err))
    except Exception as err:
        message = _describe_config_error(err)
        if message is None:
            raise
        _fail(message)


def _fail(message: str) -> None:
    """Prints `csd-run: error: <message>` (one line) to stderr and exits with status 2."""
    line = " ".join(message.split())
    print(f"{PROG}: error: {line}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_BAD_INPUT)


def _describe_config_error(err: Exception) -> str | None:
    """One line for a Hydra/OmegaConf configuration error or a failed cluster job; None
    for anything else (a bug, reported with its traceback)."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    module = type(err).__module__
    if module.startswith("submitit"):
        own = re.findall(rf"{PROG}: error: (.*)", str(err))
        return own[-1] if own else f"a job failed: {_first_line(str(err))}"
    if isinstance(err, ValueError) and _raised_in("hydra", err):  # e.g. --cfg together with -m
        return _first_line(str(err))
    if not isinstance(err, (HydraException, OmegaConfBaseException)):
        return None
    if isinstance(err, MissingConfigException) and err.options and err.missing_cfg_file:
        group, _, name = err.missing_cfg_file.rpartition("/")
        if group:
            return f"{group}={name} is not allowed; choose one of: {', '.join(sorted(err.options))}"
    if isinstance(err, OverrideParseException):
        return (f"cannot parse the override {err.override!r}: {_first_line(str(err))} (quote an override "
                "that holds brackets, commas or spaces for the shell: 'key=[a,b]')")
    text = str(err)
    ambiguous = re.match(r"Ambiguous value for argument '([^=']+)=([^']*)'", text)
    if ambiguous:
        return _sweep_hint(*ambiguous.groups())
    unknown = re.match(r"Could not override '([^']+)'", text)
    if unknown:
        return _unknown_key(unknown.group(1), err.__cause__)
    missing = re.search(r"Missing mandatory value: (\S+)", text + str(err.__cause__ or ""))
    if missing:
        return f"{missing.group(1)} is required; set it, e.g. {missing.group(1)}=..."
    return _first_line(text) + (f" ({_first_line(str(err.__cause__))})" if err.__cause__ else "")


def _sweep_hint(key: str, value: str) -> str:
    """What to type instead of `key=a,b,c` outside a multirun: Hydra reads the commas as a
    sweep, one job per value."""
    return (f"{key}={value} is a sweep over {len(value.split(','))} values (Hydra reads a,b,c as one job per "
            f"value); for a list, quote it with brackets: '{key}=[{value}]'; for one job per value, add -m")


def _unknown_key(key: str, cause) -> str:
    """`unknown option KEY; allowed ...` from the node the override did not find."""
    parent = getattr(cause, "parent_node", None)
    section, _, _ = key.rpartition(".")
    if isinstance(parent, DictConfig):
        keys = [k for k in parent if k != "hydra"]
        where = f"in {section}" if section else "at the top level"
        return f"unknown option {key}; allowed {where}: {', '.join(map(str, keys))}"
    return f"unknown option {key}"


def _raised_in(package: str, err: BaseException) -> bool:
    """Whether the innermost frame of `err`'s traceback is in `package`."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return name == package or name.startswith(package + ".")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else text


if __name__ == "__main__":
    main()
