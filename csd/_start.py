"""The console script `csd-run`, first step: Ctrl-C (and SIGTERM) is caught before
anything heavy is imported. Importing JAX and Hydra takes seconds, and a SIGINT in that window would
otherwise end in Python's KeyboardInterrupt traceback. This module imports only the
standard library (`import csd` itself is lazy), installs the same one-line exit as
`csd.cli`, then hands over to `csd.cli.main`, which installs its own for the run."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports `kill`
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_interrupted(signum: int = signal.SIGINT) -> None:
    """One line, `csd-run: interrupted` (SIGINT, exit status 130) or `csd-run: terminated`
    (SIGTERM, 143), at once. `os._exit`, since unwinding through JAX or Hydra can print
    tracebacks, be swallowed, or crash during interpreter teardown."""
    _flush()
    word, status = ("terminated", EXIT_TERMINATED) if signum == signal.SIGTERM else ("interrupted", EXIT_INTERRUPTED)
    with contextlib.suppress(Exception):
        print(f"csd-run: {word}", file=sys.stderr, flush=True)
    os._exit(status)


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
    _flush()
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


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
