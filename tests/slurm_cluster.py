"""A one-node Slurm cluster for the tests, from the OS packages (Debian `slurm-wlm`, `munge`).

`SlurmCluster(folder).start()` starts munged, slurmctld and slurmd in the foreground as
children of this process, every path (key, sockets, pids, state, spool, logs, slurm.conf)
inside `folder` and every port a free one on 127.0.0.1, so it touches no system-wide
munge or Slurm and can run beside them. Client commands (sinfo, sbatch, and the jobs
submitit submits) find it through `SLURM_CONF` in `cluster.env`. `stop()` ends exactly
the three processes it started.

Slurm needs root here (slurmd starts the jobs' processes); `missing()` says why a cluster
cannot start, for a skip. Accounting is off (no slurmdbd), so `sacct` answers with an
error; submitit then learns that a job ended from the job's result file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "srun", "scontrol")
PARTITION = "debug"
# GPUs the node advertises (no device files): jobs that ask for GPUs are scheduled as on a
# GPU cluster, and run on the CPU.
GPUS = 1


def missing() -> str | None:
    """Why a cluster cannot start on this machine (None: it can)."""
    absent = [name for name in BINARIES if shutil.which(name, path=_search_path()) is None]
    if absent:
        return f"Slurm/munge binaries not found: {', '.join(absent)} (apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "a test Slurm cluster needs root (slurmd starts jobs as their users)"
    return None


def _search_path() -> str:
    """PATH with the sbin folders, where Debian installs the daemons."""
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _node_line(hostname: str) -> str:
    """This machine as a Slurm node: `slurmd -C`'s CPUs/sockets/cores/threads and memory."""
    probe = subprocess.run([shutil.which("slurmd", path=_search_path()), "-C"], capture_output=True, text=True, check=True)
    fields = dict(item.split("=", 1) for item in probe.stdout.split()[:8] if "=" in item)
    keys = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")
    shape = " ".join(f"{key}={fields[key]}" for key in keys if key in fields)
    return f"NodeName={hostname} NodeAddr=127.0.0.1 {shape} State=UNKNOWN"


class SlurmCluster:
    """One slurmctld + one slurmd + their munged, all under `folder`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.hostname = socket.gethostname().split(".")[0]
        self.partition = PARTITION
        self.conf = self.folder / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), "PATH": _search_path()}
        self._processes: dict[str, subprocess.Popen] = {}

    def start(self, timeout: float = 60.0) -> SlurmCluster:
        try:
            self._start_munged()
            self._write_conf()
            for name in ("slurmctld", "slurmd"):
                self._spawn(name, [name, "-D", "-f", str(self.conf)] + (["-N", self.hostname] if name == "slurmd" else []))
            self._wait_idle(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Cancel this cluster's jobs, then SIGTERM (SIGKILL after 10 s) each process it started, last first."""
        if "slurmctld" in self._processes and self._processes["slurmctld"].poll() is None:
            self.run("scancel", f"--partition={self.partition}", check=False)
        for name in reversed(list(self._processes)):
            process = self._processes.pop(name)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm client command against this cluster."""
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def logs(self) -> str:
        """The daemons' logs, for a failure message."""
        parts = []
        for name in ("munged", "slurmctld", "slurmd"):
            path = self.folder / f"{name}.log"
            text = path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"
            parts.append(f"--- {name}.log ---\n{text}")
        return "\n".join(parts)

    def _spawn(self, name: str, command: list[str]) -> None:
        command[0] = shutil.which(command[0], path=_search_path())
        output = open(self.folder / f"{name}.out", "wb")
        self._processes[name] = subprocess.Popen(command, env=self.env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        output.close()

    def _start_munged(self) -> None:
        munge = self.folder / "munge"
        munge.mkdir(mode=0o700)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.munge_socket = munge / "munge.socket"
        self._spawn("munged", [
            "munged", "--foreground", "--force", f"--key-file={key}", f"--socket={self.munge_socket}",
            f"--pid-file={munge / 'munged.pid'}", f"--seed-file={munge / 'munged.seed'}",
            f"--log-file={self.folder / 'munged.log'}",
        ])
        deadline = time.monotonic() + 15
        while not self.munge_socket.exists():
            if self._processes["munged"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"munged did not start\n{(self.folder / 'munged.out').read_text()}\n{self.logs()}")
            time.sleep(0.1)

    def _write_conf(self) -> None:
        for sub in ("state", "spool"):
            (self.folder / sub).mkdir()
        ctld_port, slurmd_port, srun_low = _free_ports(3)
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
        self.conf.write_text("\n".join([
            "ClusterName=csdtest",
            f"SlurmctldHost={self.hostname}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            f"SrunPortRange={srun_low}-{srun_low + 20}",
            f"SlurmUser={user}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={self.folder / 'state'}",
            f"SlurmdSpoolDir={self.folder / 'spool'}",
            f"SlurmctldPidFile={self.folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.folder / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.folder / 'slurmctld.log'}",
            f"SlurmdLogFile={self.folder / 'slurmd.log'}",
            f"PlugStackConfig={self.folder / 'plugstack.conf'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "GresTypes=gpu",
            "ReturnToService=2",
            "SlurmdTimeout=60",
            "InactiveLimit=0",
            "KillWait=5",
            "MinJobAge=300",
            f"{_node_line(self.hostname)} Gres=gpu:{GPUS}",
            f"PartitionName={self.partition} Nodes={self.hostname} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4",
            "",
        ]))
        (self.folder / "plugstack.conf").write_text("")
        (self.folder / "gres.conf").write_text(f"NodeName={self.hostname} Name=gpu File=/dev/null Count=1\n")

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name, process in self._processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}\n{(self.folder / f'{name}.out').read_text(errors='replace')}\n{self.logs()}")
            listing = self.run("sinfo", "--noheader", "--Node", "--format=%N %t", check=False)
            state = (listing.stdout + listing.stderr).strip()
            if f"{self.hostname} idle" in state:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the node was not idle after {timeout:.0f} s (sinfo: {state!r})\n{self.logs()}")
