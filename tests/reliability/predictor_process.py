"""``watchlake predict`` as a real subprocess, as a user runs it: settings from a conf file and ``WATCHLAKE_*``
variables, its own process group (the Python driver and Spark's JVM), its output in a log file per start, and a
SIGKILL of the whole group at any moment. It runs with ``-v`` (debug logs, Spark at WARN): the most output a user
could produce, all of it searched for secrets afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from watchlake.faults import KILL_AT_VARIABLE
from watchlake.settings import Settings


def write_conf(settings: Settings, path: Path) -> Path:
    """``settings`` as a conf file (``WATCHLAKE_CONF_FILE``), without the password: secrets come from the
    environment only."""
    data = settings.model_dump(mode="json", exclude={"warehouse": {"password"}})
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass
class Predictor:
    """Starts ``watchlake predict`` with ``conf`` and ``env`` (added to this process's environment); each start
    writes ``<logs>/predict-<n>.log``."""

    conf: Path
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    starts: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self, *arguments: str, kill_at: str | None = None) -> subprocess.Popen[bytes]:
        assert self.process is None, "stop the running predictor first"
        self.logs.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **self.env, "WATCHLAKE_CONF_FILE": str(self.conf)}
        environment.pop(KILL_AT_VARIABLE, None)
        if kill_at:
            environment[KILL_AT_VARIABLE] = kill_at
        self.starts += 1
        with (self.logs / f"predict-{self.starts:02d}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "watchlake", "-v", "predict", *arguments],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,  # its own process group: the JVM dies with it
            )
        return self.process

    @property
    def log(self) -> str:
        return (self.logs / f"predict-{self.starts:02d}.log").read_text(errors="replace")

    def kill(self) -> int:
        """SIGKILL the whole process group at once (no shutdown of any kind); wait until every member is gone.
        Returns the driver's exit status (-9 when this kill ended it)."""
        assert self.process is not None
        process, self.process = self.process, None
        return _kill_group(process)

    def wait(self, timeout: float) -> int | None:
        """The exit status once the driver ended by itself within ``timeout`` s (its group then killed, to reap
        a JVM it left), else None (still running)."""
        assert self.process is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        process, self.process = self.process, None
        _kill_group(process)
        return status

    def stop(self) -> None:
        """Kill whatever is still running (a test's finally)."""
        if self.process is not None:
            self.kill()


def _kill_group(leader: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGKILL the process group that ``leader`` leads, reap the leader and wait until no member is left (the
    others are reaped by init); returns the leader's exit status."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGKILL)
    status = leader.wait(timeout)
    while True:
        try:
            os.killpg(leader.pid, signal.SIGKILL)
        except ProcessLookupError:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"process group {leader.pid} still alive {timeout:.0f} s after SIGKILL")
        time.sleep(0.05)
