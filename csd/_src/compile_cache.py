"""Compile once per machine: JAX's persistent compilation cache, on by default.

A kernel compiles in seconds (5-10 s for LiveBench's on two CPU cores); loading it from
the cache takes a fraction of that. `enable` points JAX's cache at the user's cache folder
before csd's first kernel compiles (`driver` calls it in `prepare`, which every call passes
through first, and where it builds a jitted kernel):

- where: `$CSD_COMPILATION_CACHE` if it names a folder, else
  `$XDG_CACHE_HOME/csd-swiss/jax` (default `~/.cache/csd-swiss/jax`);
- off: `CSD_COMPILATION_CACHE=0` (or `off`, `false`, `no`);
- left alone: a cache the user set up for JAX itself (`JAX_COMPILATION_CACHE_DIR`,
  `jax.config.update("jax_compilation_cache_dir", ...)`, or the cache switched off with
  `jax_enable_compilation_cache`) is used as the user set it, thresholds included;
- keyed by JAX: an entry's key hashes the compiled computation, its compile options, the
  JAX and jaxlib versions and the backend (platform, version, devices), so an upgrade or
  another machine sharing the folder never loads a stale executable;
- bounded: at most `MAX_BYTES`; when `enable` finds more, it deletes the entries used
  longest ago (JAX's own bound, `jax_compilation_cache_max_size`, needs the `filelock`
  package, which csd does not depend on);
- every kernel is cached, however fast it compiled (JAX's default skips those under 1 s):
  min compile time 0.
- a folder that cannot be written (read-only home, full disk) is one warning and no
  cache, never a failure.

The cache is JAX's, for the whole process: other JAX code in the process compiles into
the same folder.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import jax

VARIABLE = "CSD_COMPILATION_CACHE"
OFF = ("0", "off", "false", "no")
MAX_BYTES = 512 << 20  # LiveBench's kernels take about 0.1 MB each (compressed): thousands fit


def cache_folder(environ=os.environ) -> Path | None:
    """The folder `enable` would use under `environ`, or None when the user switched it off.

    Example:
      >>> str(cache_folder({"XDG_CACHE_HOME": "/var/cache/me"}))
      '/var/cache/me/csd-swiss/jax'
      >>> cache_folder({"CSD_COMPILATION_CACHE": "off"}) is None
      True
    """
    setting = environ.get(VARIABLE, "").strip()
    if setting.lower() in OFF:
        return None
    if setting and setting != "1":
        return Path(setting).expanduser()
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "csd-swiss" / "jax"


@lru_cache(maxsize=1)
def enable() -> Path | None:
    """Turns the cache on at `cache_folder()` unless the user configured JAX's cache
    (or switched csd's off); once per process. Returns the folder in use by csd's
    choice, or None.

    Warns (RuntimeWarning, one line) and leaves the cache off when the folder cannot be
    created or written."""
    if jax.config.jax_compilation_cache_dir is not None or not jax.config.jax_enable_compilation_cache:
        return None
    folder = cache_folder()
    if folder is None:
        return None
    problem = unwritable(folder)
    if problem is not None:
        warnings.warn(
            f"csd: JAX's compilation cache is off: {problem}; kernels compile again in every process "
            f"(set {VARIABLE} to a writable folder, or to 0 to silence this)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    prune(folder, MAX_BYTES)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder


def unwritable(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (created if missing), or None when they can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"csd")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as err:
        return f"{folder} cannot be written ({err.strerror or type(err).__name__})"
    return None


def prune(folder: Path, max_bytes: int) -> list[Path]:
    """Deletes the files of `folder` used longest ago (by the later of access and
    modification time) until the rest hold at most `max_bytes`; returns those deleted.
    A file another process deletes first is skipped."""
    entries = []
    for path in folder.iterdir():
        try:
            info = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            entries.append((max(info.st_atime, info.st_mtime), info.st_size, path))
    total = sum(size for _, size, _ in entries)
    deleted = []
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        deleted.append(path)
    return deleted
