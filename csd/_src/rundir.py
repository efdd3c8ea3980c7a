"""A run folder that is all or nothing: a lock, a staging folder, and a manifest written last.

A `csd-run` job holds `.csd-run.lock` (its pid and the process's start inside) for as long
as it runs; a second job on the same folder stops at once, and the lock of a dead pid, or
of a pid now reused by another process, is taken over. Every
output is written into a staging folder `.staging-<pid>` inside the run folder. Publishing
renames the staging folder to `.publishing` (the one step that commits the new outputs),
then moves its files into place and writes `manifest.json` last, naming every output with
its SHA-256. Until then the previous outputs stay as they were; a job killed after the
commit is rolled forward by the next job on the folder. A reader that finds the manifest
and matching hashes (`check_manifest`) has one run's whole set.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import threading
from pathlib import Path

LOCK = ".csd-run.lock"
MANIFEST = "manifest.json"
STAGING = ".staging-"
PUBLISHING = ".publishing"


class RunFolderError(Exception):
    """The run folder cannot be used: busy, read-only, full, ... (one line)."""


@contextlib.contextmanager
def locked(folder: Path):
    """Holds the folder's lock file (recording this pid) while the block runs; cleans up
    what dead jobs left (staging folders, `*.tmp` files) and rolls an interrupted publish
    forward first.

    Raises:
      RunFolderError: when another live job holds the lock, or the folder cannot be written.
    """
    folder = Path(folder)
    lock = folder / LOCK
    with os_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        _acquire(lock)
    try:
        with os_errors(folder):
            _clean_stale(folder)
            _roll_forward(folder)
        yield
    finally:
        shutil.rmtree(folder / f"{STAGING}{os.getpid()}", ignore_errors=True)  # left by a failure
        with contextlib.suppress(OSError):
            if _holds(lock):
                lock.unlink()


@contextlib.contextmanager
def os_errors(folder: Path):
    """Turns an OSError in the block into a one-line `RunFolderError` naming `folder`."""
    try:
        yield
    except OSError as err:
        name = errno.errorcode.get(err.errno, "")
        reason = f"{err.strerror or err} ({name})" if name else str(err)
        raise RunFolderError(f"cannot write the run folder {folder}: {reason}") from None


def staging_folder(folder: Path) -> Path:
    """A fresh, empty staging folder for this job inside `folder`."""
    stage = Path(folder) / f"{STAGING}{os.getpid()}"
    with os_errors(folder):
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    return stage


def publish(folder: Path, stage: Path) -> list[Path]:
    """Makes the files of `stage` the run folder's whole output set, in one committing
    rename; returns their final paths. The previous set's other files are removed. SIGINT
    and SIGTERM wait until it is done.
    """
    folder = Path(folder)
    with os_errors(folder):
        files = {rel: _sha256(stage / rel) for rel in _files(stage)}
        (stage / MANIFEST).write_text(json.dumps({"files": files}, indent=1, sort_keys=True) + "\n")
        with _sigint_deferred():
            os.rename(stage, folder / PUBLISHING)  # the commit
            _roll_forward(folder)
    return [folder / rel for rel in files]


def check_manifest(folder: Path) -> dict[str, str]:
    """{file: sha256} of the folder's published set, each file checked against its hash.

    Raises:
      RunFolderError: if the manifest is missing or a file does not match it.
    """
    files = _manifest(Path(folder))
    if not (Path(folder) / MANIFEST).exists():
        raise RunFolderError(f"{folder}: no {MANIFEST}; the outputs are not a published set")
    for rel, digest in files.items():
        path = Path(folder) / rel
        if not path.is_file() or _sha256(path) != digest:
            raise RunFolderError(f"{path}: does not match {MANIFEST}")
    return files


def release_after_interrupt(folder: Path) -> None:
    """Best effort on the way out of an interrupted job: drop this job's staging folder
    and lock (the next job would clean them up anyway)."""
    folder = Path(folder)
    shutil.rmtree(folder / f"{STAGING}{os.getpid()}", ignore_errors=True)
    with contextlib.suppress(OSError):
        if _holds(folder / LOCK):
            (folder / LOCK).unlink()


# ---------------------------------------------------------------------------- helpers


def _acquire(lock: Path) -> None:
    """Creates `lock` holding this pid; takes over the lock of a dead pid once."""
    for attempt in range(2):
        try:
            handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None and holder[0] != os.getpid() and _alive(*holder):
                raise RunFolderError(
                    f"the run folder {lock.parent} is in use by another csd-run (pid {holder[0]}, "
                    f"lock {lock.name}); wait for it or choose another hydra.run.dir"
                ) from None
            if attempt == 0:  # a dead holder's lock: take it over
                stale = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
                with contextlib.suppress(FileNotFoundError):
                    os.rename(lock, stale)
                    stale.unlink()
            continue
        try:
            with os.fdopen(handle, "w") as out:
                out.write(f"{os.getpid()} {_process_start(os.getpid()) or '-'}\n")
        except OSError:  # e.g. a full disk: leave no empty lock behind
            lock.unlink(missing_ok=True)
            raise
        return
    raise RunFolderError(f"the run folder {lock.parent} is in use by another csd-run (lock {lock.name})")


def _holder(lock: Path) -> tuple[int, str | None] | None:
    """(pid, its start as `_process_start` wrote it, or None) of the job holding `lock`."""
    try:
        pid, *started = lock.read_text().split()
        return int(pid), (started[0] if started and started[0] != "-" else None)
    except (OSError, ValueError):
        return None


def _holds(lock: Path) -> bool:
    """Whether this process holds `lock`."""
    holder = _holder(lock)
    return holder is not None and holder[0] == os.getpid()


def _alive(pid: int, started: str | None = None) -> bool:
    """Whether process `pid` runs, and is the one that started at `started` (where known):
    a pid reused by another process after the holder died is not the holder."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    now = _process_start(pid)
    return started is None or now is None or now == started


def _process_start(pid: int) -> str | None:
    """When process `pid` started, as 'boot id:clock ticks since boot' (Linux /proc); None
    where the system does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, starttime
    except (OSError, IndexError):
        return None


def _clean_stale(folder: Path) -> None:
    """Removes staging folders and temporary files of jobs that no longer hold the lock."""
    for path in folder.glob(f"{STAGING}*"):
        if path.name != f"{STAGING}{os.getpid()}":
            shutil.rmtree(path, ignore_errors=True)
    for path in [*folder.glob(".*.tmp"), *folder.glob(f"{LOCK}.stale-*")]:
        path.unlink(missing_ok=True)


def _roll_forward(folder: Path) -> None:
    """Finishes a committed publish: moves `.publishing`'s files into place, removes the
    previous set's files not in the new one, writes the manifest last."""
    pending = folder / PUBLISHING
    if not (pending / MANIFEST).is_file():
        shutil.rmtree(pending, ignore_errors=True)  # renamed but not committed: impossible, but harmless
        return
    new = json.loads((pending / MANIFEST).read_text())["files"]
    old = _manifest(folder)
    (folder / MANIFEST).unlink(missing_ok=True)  # no manifest: the set is changing
    for rel in new:
        source = pending / rel
        if source.exists():  # else: moved before an interruption
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, folder / rel)
    for rel in set(old) - set(new):
        (folder / rel).unlink(missing_ok=True)
    os.replace(pending / MANIFEST, folder / MANIFEST)
    shutil.rmtree(pending)


def _manifest(folder: Path) -> dict[str, str]:
    try:
        return dict(json.loads((folder / MANIFEST).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _files(stage: Path) -> list[str]:
    return sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _sigint_deferred():
    """A SIGINT or SIGTERM during the block is held back and delivered (to the handler
    there was) after it; on a thread other than the main one, nothing is held back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = {signum: signal.signal(signum, lambda signum, frame: pending.append(signum))
                for signum in DEFERRED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)
