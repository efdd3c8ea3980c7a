"""`csd-run` in the caller's own process, answered like `subprocess.run`.

The console script's entry function (`csd.cli.main`) runs with `sys.argv`, the working
directory and the standard streams swapped for the call, so a test pays for the JAX import
and a kernel's compilation once per process instead of once per command. Hydra's global
state is cleared afterwards, and `HYDRA_FULL_ERROR` (set by `main`) restored.

Hydra's logging setup (`logging.config.dictConfig`) shuts down every handler in the
process, and absl's handler (imported with chex) then closes the stream it holds unless
that is the current `sys.stderr`; under pytest that stream is pytest's capture. So the
handlers are shut down once more before the swap, while `sys.stderr` is still that stream.
"""

from __future__ import annotations

import contextlib
import io
import logging.config
import os
import subprocess
import sys
from pathlib import Path

from csd._start import status_of

PROG = "csd-run"


def run_cli_in_process(*args: str, cwd: Path | str) -> subprocess.CompletedProcess:
    """`csd-run ARGS` from `cwd`: its exit status (0 when `main` returns), stdout and stderr.

    Exceptions other than SystemExit (a bug, not a reported error) propagate.
    """
    from hydra.core.global_hydra import GlobalHydra

    from csd import cli

    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    saved_full_error = os.environ.get("HYDRA_FULL_ERROR")
    sys.argv = [PROG, *args]
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            returncode = status_of(cli.main)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
        GlobalHydra.instance().clear()
    return subprocess.CompletedProcess([PROG, *args], returncode, stdout.getvalue(), stderr.getvalue())
