"""How `csd-run` ends on Ctrl-C or SIGTERM: one line and the shell's exit status, at once.

Only the standard library, so that `csd._start` can install it before anything heavy is
imported and `csd.cli` can install it again for the run, both from here.
"""

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
    flush_streams()
    word, status = ("terminated", EXIT_TERMINATED) if signum == signal.SIGTERM else ("interrupted", EXIT_INTERRUPTED)
    with contextlib.suppress(Exception):
        print(f"csd-run: {word}", file=sys.stderr, flush=True)
    os._exit(status)


def flush_streams() -> None:
    """Flushes stdout and stderr, ignoring a stream that is gone."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
