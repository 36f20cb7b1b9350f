"""The test hook ``watchlake.faults``: a process kills itself with SIGKILL at the named point (its n-th time), and
nowhere else; unset, the hook does nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from watchlake.faults import KILL_AT_VARIABLE, POINTS

pytestmark = pytest.mark.reliability

SCRIPT = """
from watchlake import faults
for step in range(3):
    for point in faults.POINTS:
        print(step, point, flush=True)
        faults.reach(point)
"""


def _run(kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != KILL_AT_VARIABLE}
    if kill_at is not None:
        env[KILL_AT_VARIABLE] = kill_at
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)


def test_reach_kills_at_the_named_point_the_nth_time() -> None:
    done = _run(f"{POINTS[1]}:2")
    assert done.returncode == -9
    assert done.stdout.splitlines()[-1] == f"1 {POINTS[1]}"
    assert done.stderr.endswith(f"at {POINTS[1]}\n")


def test_reach_does_nothing_unset_or_elsewhere() -> None:
    assert _run(None).returncode == 0
    assert _run("no.such_point").returncode == 0
    assert len(_run(None).stdout.splitlines()) == 3 * len(POINTS)
