"""`csd-run` (also `python -m csd`): the Hydra command line of csd.

    csd-run                                                  # the shipped LiveBench table
    csd-run data.path=my.csv elimination=constant elimination.t=2 n_runs=20000 seed=0
    csd-run -m elimination.t=0,1,2                           # a multirun, one job per T
    csd-run mode=collect dir=multirun/2026-01-01/12-00-00   # merged (the multirun prints this line)
    csd-run -m hydra/launcher=slurm elimination.t=0,1,2      # the same jobs on SLURM

The configs ship inside the package (`csd/configs`, also reachable as `configs/` at the
repository root), so the app finds them from any working directory. The entry point turns
the composed DictConfig (checked against the `RunConfig` schema) into a typed `RunConfig`
(csd/_src/config.py), runs the mode
(csd/_src/runs.py) and writes the outputs into Hydra's run directory.

Bad input (a missing or bad file, an unknown or invalid option, ...) is one line on stderr,
`csd-run: error: ...`, and exit status 2; a busy, full or read-only run folder is one line
and exit status 1; Ctrl-C is one line and exit status 130, SIGTERM one line and 143. A run folder is all or nothing
(csd/_src/rundir.py): the outputs, Hydra's .hydra files among them, are staged and
published in one step after the computation succeeded, under a lock naming the job's pid.
Where the fix of bad input is another command, the error line gives it whole, quoted for
the shell, and it runs as pasted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import signal
import sys
import unicodedata
import warnings
from pathlib import Path

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from csd._src.config import RunConfig, is_list_key, register
from csd._src.errors import InputError
from csd._src import keyhelp, rundir
from csd._src.rundir import RunFolderError
from csd._src.runs import Context, run_mode, write_outputs
from csd._exit import STOPPING_SIGNALS, exit_interrupted

PROG = "csd-run"
SUMMARY_LOGGER = "csd.summary"  # writes to the run's csd-run.log only (hydra.job_logging in config.yaml)
EXIT_FAILED = 1  # the run folder is busy or cannot be written; a cluster job failed
EXIT_BAD_INPUT = 2


def _run_dir(mode, collect_dir, default):
    """Hydra's run directory: `<dir>/collect` for mode=collect, else `default`."""
    if mode == "collect" and collect_dir not in (None, "", "None"):
        return str(Path(str(collect_dir)) / "collect")
    return default


OmegaConf.register_new_resolver("csd_run_dir", _run_dir, replace=True)
OmegaConf.register_new_resolver("csd_config_help", keyhelp.help_text, replace=True)  # --help: keys described
register()


@hydra.main(version_base="1.3", config_path="configs", config_name="config")
def _app(cfg: DictConfig) -> None:
    """One job: the typed config, the mode, the outputs. Bad input exits with one line."""
    try:
        run(cfg)
    except InputError as err:
        _fail(str(err))
    except RunFolderError as err:
        _fail(str(err), EXIT_FAILED)


def run(cfg: DictConfig) -> list[Path]:
    """Runs the job of a composed config inside a Hydra app; returns the files published.

    The job holds the run folder's lock throughout, computes, prints the result, then
    publishes the outputs with Hydra's .hydra files, all or nothing (`csd._src.rundir`).

    Raises:
      InputError: for an invalid option or input, naming it.
      RunFolderError: when the run folder is busy or cannot be written, naming it.
    """
    from hydra.core.hydra_config import HydraConfig

    raw = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    config = RunConfig.from_dict(raw)
    hydra_cfg = HydraConfig.get()
    job_num = hydra_cfg.job.get("num") if hydra_cfg.mode.name == "MULTIRUN" else None
    folder = Path(hydra_cfg.runtime.output_dir)
    _INTERRUPTED_FOLDER[:] = [folder]
    summary = []
    with rundir.locked(folder):
        stage = rundir.staging_folder(folder)
        with _log_into(stage, folder) as end_log:
            ctx = Context(out_dir=stage, overrides=tuple(hydra_cfg.overrides.task), job_num=job_num)
            output = run_mode(config, ctx)
            print(printable(output.terminal), flush=True)

            def log_summary(names: list[str]) -> None:  # into the staged csd-run.log, published with the rest
                summary.append(f"wrote {', '.join(sorted({*names, LOG}))} to {folder}")
                logging.getLogger(SUMMARY_LOGGER).info("%s\n%s\n\n%s", ctx.command(), output.terminal, summary[0])
                end_log()

            written = write_outputs(output, folder, stage, extra=_hydra_files(cfg, hydra_cfg), before_publish=log_summary)
    print(f"\n{printable(summary[0])}", flush=True)
    return written


class CollectHint(Callback):
    """Prints, once at the end of a multirun of mode=simulate, the command that merges its
    runs (`csd-run mode=collect dir=SWEEP_DIR`). Hydra calls `on_multirun_end` in the
    process that launched the jobs, after every job succeeded, whatever the launcher
    (`hydra.callbacks.collect_hint` in config.yaml)."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if OmegaConf.select(config, "mode") == "simulate":
            command = shlex.join([PROG, "mode=collect", f"dir={config.hydra.sweep.dir}"])
            print(f"\nmerge the runs into one sweep table: {command}", flush=True)
LOG = "csd-run.log"  # Hydra's job log (`hydra.job.name` in config.yaml), opened only when first written


def _log_handlers(folder: Path) -> list[logging.FileHandler]:
    """The file handlers of the job's log in `folder` (the root logger's and csd.summary's)."""
    handlers = {*logging.getLogger().handlers, *logging.getLogger(SUMMARY_LOGGER).handlers}
    log = os.path.abspath(folder / LOG)
    return [h for h in handlers if isinstance(h, logging.FileHandler) and h.baseFilename == log]


def _point_log(handlers: list[logging.FileHandler], path) -> None:
    """Closes `handlers`; they open `path` when next written."""
    for handler in handlers:
        handler.close()
        handler.baseFilename = str(path)


@contextlib.contextmanager
def _log_into(stage: Path, folder: Path):
    """The job's log is written into the staging folder while the block runs, so that it
    is published with the outputs (in the manifest) and a failed run leaves none; yields
    the function that ends it, after which (and after the block) lines go nowhere: they
    have no published set to go with."""
    handlers = _log_handlers(folder)
    _point_log(handlers, stage / LOG)
    try:
        yield lambda: _point_log(handlers, os.devnull)
    finally:
        _point_log(handlers, os.devnull)


def _hydra_files(cfg: DictConfig, hydra_cfg: DictConfig) -> dict[str, str]:
    """The .hydra/{config,hydra,overrides}.yaml Hydra would have written at the job's start
    (csd-run sets `hydra.output_subdir: null` and writes them with the outputs instead)."""
    return {
        ".hydra/config.yaml": OmegaConf.to_yaml(cfg),
        ".hydra/hydra.yaml": OmegaConf.to_yaml(OmegaConf.create({"hydra": hydra_cfg})),
        ".hydra/overrides.yaml": OmegaConf.to_yaml(hydra_cfg.overrides.task),
    }


def main() -> None:
    """The console script `csd-run`: the Hydra app, with configuration errors, a busy or
    unwritable run folder and Ctrl-C each as one line. The SIGINT handler and the warning
    format it installs are put back when it returns (it may run inside another program)."""
    handlers, showwarning = {signum: signal.getsignal(signum) for signum in STOPPING_SIGNALS}, warnings.showwarning
    for signum, handler in handlers.items():
        if handler is not signal.SIG_IGN:  # SIGINT ignored: started in the background, stay deaf
            signal.signal(signum, _interrupt)
    warnings.showwarning = _warning_line
    try:
        _main()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        warnings.showwarning = showwarning


def _main() -> None:
    """`main` inside its signal and warning set-up."""
    # Let Hydra raise its errors instead of printing them with a traceback, so they can be
    # reported here as one line. Real bugs still end in a full traceback.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _app()
    except KeyboardInterrupt:
        _interrupt(signal.SIGINT, None)
    except InputError as err:
        _fail(str(err))
    except RunFolderError as err:
        _fail(str(err), EXIT_FAILED)
    except Exception as err:
        message = _describe_config_error(err)
        if message is None and isinstance(err, OSError):  # e.g. Hydra creating the run folder
            _fail(_os_error(err), EXIT_FAILED)
        if message is None:
            raise
        _fail(message)


_INTERRUPTED_FOLDER: list[Path] = []  # the run folder of the running job, to tidy on Ctrl-C


def _interrupt(signum, frame) -> None:
    """SIGINT or SIGTERM: one line, exit status 130 or 143, at once
    (`csd._exit.exit_interrupted`). The published outputs are untouched (a publish in
    progress holds both back until it is done); this job's staging folder and lock are
    dropped."""
    for folder in _INTERRUPTED_FOLDER:
        rundir.release_after_interrupt(folder)
    exit_interrupted(signum)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr: `csd-run: warning: ...`."""
    print(f"{PROG}: warning: {printable(' '.join(str(message).split()))}", file=sys.stderr, flush=True)


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> None:
    """Prints `csd-run: error: <message>` (one line) to stderr and exits with `status`."""
    line = printable(" ".join(message.split()))
    print(f"{PROG}: error: {line}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def printable(text: str) -> str:
    r"""`text` safe for a terminal: every control or format character but a newline or a tab
    (an ANSI escape, a carriage return, a bidi override from a model name) escaped as
    Python writes it, e.g. \x1b.

    Example:
      >>> printable("gpt\x1b[31m-4\u202e\n")
      'gpt\\x1b[31m-4\\u202e\n'
    """
    return "".join(
        char if char in "\n\t" or not unicodedata.category(char).startswith("C") else ascii(char)[1:-1]
        for char in text
    )


def _os_error(err: OSError) -> str:
    where = f"{err.filename}: " if err.filename else ""
    return f"cannot write {where}{err.strerror or err}"


def _describe_config_error(err: Exception) -> str | None:
    """One line for a Hydra/OmegaConf configuration error or a failed cluster job; None
    for anything else (a bug, reported with its traceback)."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    module = type(err).__module__
    if "Could not detect \"srun\"" in str(err):
        return ("srun was not found: hydra/launcher=slurm needs a SLURM cluster; off a cluster use "
                "hydra/launcher=submitit_local (or leave out hydra/launcher)")
    if isinstance(err, ValueError) and "Unable to configure handler" in str(err):  # Hydra's log file
        cause = err.__cause__
        reason = _os_error(cause) if isinstance(cause, OSError) else _first_line(str(cause or err))
        return f"cannot open the run's log file: {reason}"
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
        return f"cannot parse the override {err.override!r}: {_first_line(str(err))}; {_parse_hint(err.override)}"
    text = str(err)
    ambiguous = re.match(r"Ambiguous value for argument '([^=']+)=([^']*)'", text)
    if ambiguous:
        return _sweep_hint(*ambiguous.groups())
    merging = re.fullmatch(r"Error merging override ([^=\s]+)=(.*)", _first_line(text))
    if merging and is_list_key(merging.group(1)) and "is not a ListConfig" in str(err.__cause__):
        typed = f"{merging.group(1)}={merging.group(2)}"
        listed = _quoted_override(f"{merging.group(1)}=[{merging.group(2)}]")
        if listed:
            return f"{merging.group(1)} is a list: {_command(typed, [listed])}"
    unknown = re.match(r"Could not override '([^']+)'", text)
    if unknown:
        return _unknown_key(unknown.group(1), err.__cause__)
    missing = re.search(r"Missing mandatory value: (\S+)", text + str(err.__cause__ or ""))
    if missing:
        return f"{missing.group(1)} is required; set it, e.g. {missing.group(1)}=..."
    return _first_line(text) + (f" ({_first_line(str(err.__cause__))})" if err.__cause__ else "")


def _parse_hint(override: str) -> str:
    """What to type instead of an override Hydra's grammar refuses: the command with each
    value quoted (`'key=["Latency (ms)"]'`), if that parses, else where to look."""
    quoted = _quoted_override(override)
    if quoted is None:
        return 'check its brackets and quotes: a list is [a,b], a value with spaces or brackets is "quoted"'
    return f"quote the values inside the override: {_command(override, [quoted])}"


def _quoted_override(override: str) -> str | None:
    """`override` with every value in double quotes (a list field's lone value made a list),
    or None if that does not parse to the same values."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    key, sep, value = override.partition("=")
    value = value.strip()
    if not sep or not key:
        return None
    listed = value.startswith("[") and value.endswith("]")
    items = [item.strip() for item in value[1:-1].split(",")] if listed else [value]
    if any(not item or item[0] in "\"'" or set(item) & set("[]{}") for item in items):
        return None  # an unclosed bracket or a nested value: a quote would make it a string
    quoted = ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    candidate = f"{key}=[{quoted}]" if listed or is_list_key(key.lstrip("+~")) else f"{key}={quoted}"
    try:
        parsed = OverridesParser.create().parse_overrides([candidate])[0].value()
    except OverrideParseException:
        return None
    return candidate if parsed in (items, items[0]) else None


def _sweep_hint(key: str, value: str) -> str:
    """What to type instead of `key=a,b,c` outside a multirun: Hydra reads the commas as a
    sweep, one job per value. A list field takes the bracketed list; any other key runs one
    job per value with -m (`elimination.t` also one sweep in one process, mode=sweep)."""
    typed = f"{key}={value}"
    intro = f"{typed} is a sweep over {len(value.split(','))} values (Hydra reads a,b,c as one job per value)"
    schedule = key == "elimination.t" and "elimination=schedule" in sys.argv[1:]
    if is_list_key(key) or schedule:
        return f"{intro}; for a list, put it in brackets: {_command(typed, [f'{key}=[{value}]'])}"
    hint = f"{intro}; for one job per value: {_command(typed, [typed], multirun=True)}"
    if key == "elimination.t" and not any(arg.startswith("mode=") for arg in sys.argv[1:]):
        hint += f"; for all of them in one process: {_command(typed, ['mode=sweep', f'sweep.schedules=[{value}]'])}"
    return hint


def _command(typed: str, replacements: list[str], multirun: bool = False) -> str:
    """The command line as run (`sys.argv`), with the argument `typed` replaced by
    `replacements` (added if it is not there) and, with `multirun`, -m in front, quoted for
    the shell."""
    args = sys.argv[1:]
    at = args.index(typed) if typed in args else len(args)
    args = args[:at] + replacements + args[at + 1:]
    if multirun and not {"-m", "--multirun"} & set(args):
        args = ["-m", *args]
    return shlex.join([PROG, *args])


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
