"""The console script `csd-run`, first step: Ctrl-C (and SIGTERM) is caught before
anything heavy is imported. Importing JAX and Hydra takes seconds, and a SIGINT in that window would
otherwise end in Python's KeyboardInterrupt traceback. This module imports only the
standard library (`import csd` itself is lazy), installs the one-line exit of
`csd._exit` (as `csd.cli` does), then hands over to `csd.cli.main`, which installs it again
for the run."""

from __future__ import annotations

import os
import signal
import sys

from csd._exit import STOPPING_SIGNALS, exit_interrupted, flush_streams


def _interrupted(signum, frame) -> None:
    exit_interrupted(signum)


def main() -> None:
    """`csd-run`: `csd.cli.main`, with Ctrl-C during its imports as one line and exit 130,
    and no interpreter teardown after it: Python puts SIGINT back to its default action
    while it finalizes (JAX's threads can make that take a while), so a Ctrl-C then would
    kill the process with no word. The run's outputs and log are written and flushed by
    then; the process ends at once with the job's exit status."""
    for signum in STOPPING_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # SIGINT ignored: started in the background, stay deaf
            signal.signal(signum, _interrupted)
    from csd import cli

    status = status_of(cli.main)
    flush_streams()
    os._exit(status)


def status_of(main) -> int:
    """Runs `main()` and returns the status a process running it would exit with: 0 when
    it returns; for SystemExit(code), an int code as is, None 0, anything else printed to
    stderr and 1, as the interpreter does."""
    try:
        main()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    return 0

