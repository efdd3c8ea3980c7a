"""Compile once per machine: csd's kernels are kept on disk, on by default.

A kernel compiles in seconds (5-10 s for LiveBench's on two CPU cores). csd keeps its
kernels in the user's cache folder (`enable` finds it, `driver.prepare` calls it first):

- on a single device (a CPU, one GPU), csd's own executables (`stored`, on the jitted
  kernels of `driver`): looked up by a hash of csd's source, JAX's and jaxlib's
  versions, the backend, the kernel, its static `Rules` and its argument shapes, and
  loaded without tracing, lowering or compiling (0.1-0.2 s; JAX's persistent cache
  would still trace and lower each kernel in every process, about 1 s for LiveBench's
  on two cores, to compute its key). JAX's persistent cache stays off there: an
  executable XLA:CPU loaded from it does not serialize again whole (running the copy
  fails with `Function ... not found`), so csd's executables are always fresh compiles.
- on several devices, JAX's persistent compilation cache in the same folder, which keys
  an entry by a hash of the compiled computation, its compile options, the JAX and jaxlib
  versions and the backend (platform, version, devices), so an upgrade or another machine
  sharing the folder never loads a stale executable; min compile time 0, so that every
  kernel is cached (JAX's default skips those under 1 s).

Settings:
- where: `$CSD_COMPILATION_CACHE` if it names a folder, else
  `$XDG_CACHE_HOME/csd-swiss/jax` (default `~/.cache/csd-swiss/jax`);
- off: `CSD_COMPILATION_CACHE=0` (or `off`, `false`, `no`);
- left alone: a cache the user set up for JAX itself (`JAX_COMPILATION_CACHE_DIR`,
  `jax.config.update("jax_compilation_cache_dir", ...)`, or the cache switched off with
  `jax_enable_compilation_cache`) is used as the user set it, thresholds included, and
  csd keeps no executables of its own;
- bounded: at most `MAX_BYTES`; when `enable` finds more, it deletes the entries used
  longest ago (JAX's own bound, `jax_compilation_cache_max_size`, needs the `filelock`
  package, which csd does not depend on);
- a folder that cannot be written (read-only home, full disk) is one warning and no
  cache, never a failure.

JAX's cache (several devices) is for the whole process: other JAX code in the process
compiles into the same folder. Loading an executable runs what it holds, as JAX's own
cache does: the folder must be the user's own.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import tempfile
import warnings
import zlib
from functools import lru_cache
from pathlib import Path

import jax
import jaxlib
from jax.experimental import serialize_executable

VARIABLE = "CSD_COMPILATION_CACHE"
OFF = ("0", "off", "false", "no")
MAX_BYTES = 512 << 20  # a LiveBench kernel takes 0.1-0.2 MB, compressed: thousands fit
PREFIX = "csd-"  # csd's own executables; JAX's entries start with the kernel's name (`jit_...`)


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
    (or switched csd's off); once per process: csd's own executables, and with several
    devices JAX's cache. Returns the folder in use by csd's choice, or None.

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
            f"csd: the compilation cache is off: {problem}; kernels compile again in every process "
            f"(set {VARIABLE} to a writable folder, or to 0 to silence this)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    prune(folder, MAX_BYTES)
    if len(jax.devices()) > 1:  # where `StoredKernel` leaves the kernels to `jax.jit`
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


def stored(builder):
    """Decorates a builder of jitted kernels whose first argument is static (`driver`'s):
    the kernels it returns keep their executables in memory and, where `enable` turned
    the cache on, on disk (`StoredKernel`)."""

    @functools.wraps(builder)
    def build(*options):
        return StoredKernel(f"{builder.__name__}{options}", builder(*options))

    return build


class StoredKernel:
    """A jitted kernel `jitted(rules, *args)` (`rules` static) whose compiled executables
    are looked up in memory, then in the cache folder, and compiled (and stored) only
    where neither has them. Calls `jitted` itself where csd's cache is off or JAX's is on.
    The executable is the one `jitted` compiles: results are bit-identical.
    """

    def __init__(self, name: str, jitted):
        self.name, self.jitted = name, jitted
        self.loaded = {}  # (rules, argument tree, shapes) -> jax.stages.Compiled

    def __call__(self, rules, *args):
        folder = enable()
        # JAX's cache on (several devices, or set by the user since): `jax.jit`, as its
        # executables do not serialize again whole
        if folder is None or jax.config.jax_compilation_cache_dir is not None:
            return self.jitted(rules, *args)
        leaves, tree = jax.tree_util.tree_flatten(args)
        signature = (rules, tree, tuple((x.shape, str(x.dtype), bool(getattr(x, "weak_type", False))) for x in leaves))
        compiled = self.loaded.get(signature)
        if compiled is None:
            name = self._file_name(signature)
            if name is None:
                return self.jitted(rules, *args)
            compiled = self.loaded[signature] = self._load_or_compile(folder / name, rules, args)
        return compiled(*args)

    def _file_name(self, signature) -> str | None:
        """The file of the executable for `signature` (a hash of everything it depends on),
        or None where the signature has no text that is the same in every process."""
        device = jax.devices()[0]
        text = stable_text((self.name, source_digest(), jax.__version__, jaxlib.__version__, device.client.platform,
                            device.client.platform_version, device.device_kind, signature))
        if " at 0x" in text:  # an object known by its address
            return None
        return f"{PREFIX}{self.name.split('(')[0].strip('_')}-{hashlib.sha256(text.encode()).hexdigest()}"

    def _load_or_compile(self, path: Path, rules, args):
        try:
            payload, in_tree, out_tree = pickle.loads(zlib.decompress(path.read_bytes()))
            compiled = serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
            os.utime(path)  # used now, for `prune`
            return compiled
        except Exception:  # noqa: BLE001 - none yet, or unreadable: compile it
            pass
        compiled = self.jitted.lower(rules, *args).compile()
        try:
            write_whole(path, zlib.compress(pickle.dumps(serialize_executable.serialize(compiled)), 1))
        except Exception as err:  # noqa: BLE001 - a full disk, a backend that cannot serialize
            if not _STORE_FAILURES:
                warnings.warn(
                    f"csd: could not store a compiled kernel in {path.parent} ({type(err).__name__}: "
                    f"{' '.join(str(err).split())}); kernels compile again in the next process",
                    RuntimeWarning,
                    stacklevel=4,
                )
            _STORE_FAILURES.append(path)
        return compiled


_STORE_FAILURES: list[Path] = []  # kernels this process could not store: one warning for all


def write_whole(path: Path, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file and a rename, so that another
    process reads the whole file or none; leaves no temporary file behind."""
    file = tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False)
    try:
        with file:
            file.write(data)
        os.replace(file.name, path)
    except BaseException:
        Path(file.name).unlink(missing_ok=True)
        raise


def stable_text(value) -> str:
    """`repr(value)`, with functions named by module and qualified name instead of their
    address (the pairing rules in `engine.Rules` hold functions), inside tuples too.

    Example:
      >>> import math
      >>> stable_text(("a", (1, math.floor)))
      "('a', (1, math.floor))"
    """
    if isinstance(value, tuple):
        items = [stable_text(item) for item in value]
        if hasattr(value, "_fields"):
            return f"{type(value).__name__}({', '.join(f'{f}={i}' for f, i in zip(value._fields, items))})"
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    if callable(value) and not isinstance(value, type) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


@lru_cache(maxsize=1)
def source_digest() -> str:
    """A hash of csd's engine source (every module of `csd/_src`): a change of the code
    never loads an executable compiled from the old one."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()

