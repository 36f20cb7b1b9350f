"""Process plumbing shared by the local services: pid files, port checks, health waits, log tails, stopping.

Services run in their own session (process group) so that stopping one stops its children too, and a pid is only
trusted when ``/proc/<pid>/cmdline`` still names the service (pids get reused).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from watchlake.errors import ServiceError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServiceInfo:
    """What ``watchlake status`` shows of one service.

    ``state`` is ``running`` (started by watchlake), ``external`` (someone else's server that answers),
    ``stopped`` or ``skipped`` (not wanted with these settings).
    """

    name: str
    state: str
    address: str = ""
    pid: int | None = None
    healthy: bool = False
    log_file: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def service_dir(runtime_dir: str, name: str) -> Path:
    """``<runtime_dir>/<name>``, absolute, created on demand."""
    path = Path(runtime_dir, name).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``; a missing port gives ``default_port``."""
    host, _, port = address.strip().rpartition(":")
    if not host:
        return port or LOOPBACK, default_port
    return host.strip("[]"), int(port)


# Ports --------------------------------------------------------------------------------------------------------
def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ensure_port_free(host: str, port: int, service: str, setting: str) -> None:
    """Raise :class:`ServiceError` when another program already listens where ``service`` should."""
    if port_open(host, port):
        raise ServiceError(
            f"{service}: port {host}:{port} is already in use by another program; stop it or choose another "
            f"port with {setting} (see `ss -ltnp 'sport = :{port}'`)"
        )


# Processes ----------------------------------------------------------------------------------------------------
def _reap(pid: int) -> None:
    """Collect ``pid`` if it is our own exited child, so it does not linger as a zombie."""
    if pid in _children:
        _children[pid].poll()
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def is_alive(pid: int, token: str = "") -> bool:
    """True when ``pid`` runs (not a zombie) and, if ``token`` is given, its command line contains it."""
    _reap(pid)
    # A process shows an empty command line for a moment while it execs or exits: look again until it has one,
    # has become a zombie or is gone; an empty line that stays is an exiting process, still ours.
    for _ in range(25):
        snapshot = _proc_snapshot(pid)
        if snapshot is None:
            return False
        state, cmdline = snapshot
        if state in ("Z", "X"):
            return False
        if cmdline:
            return token in cmdline
        time.sleep(0.02)
    return True


def _proc_snapshot(pid: int) -> tuple[str, str] | None:
    """(state letter, command line) of ``pid`` from /proc, or None when it is gone."""
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0], cmdline


# Services this process started, so their exit codes can be reported (and they are reaped).
_children: dict[int, subprocess.Popen[bytes]] = {}


def exit_code(pid: int) -> int | None:
    """The exit status of a service this process started and that has ended (negative: killed by that signal)."""
    child = _children.get(pid)
    return child.poll() if child is not None else None


def spawn(command: Sequence[str], log_file: Path, env: Mapping[str, str] | None = None) -> int:
    """Start ``command`` in its own session with stdout and stderr appended to ``log_file``; return its pid."""
    log.debug("starting %s", " ".join(command))
    with open(log_file, "ab") as output:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            close_fds=True,
        )
    _children[process.pid] = process
    return process.pid


def stop_pid(pid: int, token: str, name: str, timeout: float = 30.0) -> None:
    """Stop ``pid`` and its process group: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if not is_alive(pid, token):
        return
    _signal_group(pid, signal.SIGTERM)
    if wait_for(lambda: not is_alive(pid, token), timeout):
        return
    log.warning("%s (pid %d) did not stop within %.0f s; killing it", name, pid, timeout)
    _signal_group(pid, signal.SIGKILL)
    if not wait_for(lambda: not is_alive(pid, token), 10.0):
        raise ServiceError(f"{name}: pid {pid} survived SIGKILL; stop it by hand (kill -9 {pid})")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``check`` until it is true (return True) or ``timeout`` seconds pass (return False)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_healthy(
    name: str, pid: int, token: str, healthy: Callable[[], bool], log_file: Path, timeout: float
) -> None:
    """Wait until ``healthy()``; raise :class:`ServiceError` with the log tail if the process dies or times out."""
    deadline = time.monotonic() + timeout
    while not healthy():
        if not is_alive(pid, token):
            code = exit_code(pid)
            how = f" (exit code {code})" if code is not None else ""
            raise ServiceError(
                f"{name} died while starting{how}; last lines of {log_file}:\n{log_tail(log_file)}"
            )
        if time.monotonic() >= deadline:
            stop_pid(pid, token, name, timeout=10.0)
            raise ServiceError(
                f"{name} did not become healthy within {timeout:.0f} s (stopped it); "
                f"last lines of {log_file}:\n{log_tail(log_file)}"
            )
        time.sleep(0.3)


def log_tail(log_file: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of ``log_file`` (empty string when it does not exist)."""
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# Pid and state files --------------------------------------------------------------------------------------------
def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def live_pid(pid_file: Path, token: str, name: str) -> int | None:
    """The pid in ``pid_file`` if that process still runs; a stale file is removed with a warning."""
    pid = read_pid(pid_file)
    if pid is None and not pid_file.exists():
        return None
    if pid is not None and is_alive(pid, token):
        return pid
    log.warning("%s: removing stale pid file %s (pid %s is not running)", name, pid_file, pid)
    pid_file.unlink(missing_ok=True)
    return None


def write_state(path: Path, **values: object) -> None:
    """Record where a started service runs (read back by ``status``)."""
    path.write_text(json.dumps(values, indent=2) + "\n")


def read_state(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
