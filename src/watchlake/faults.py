"""Test hook: named moments where a process kills itself with SIGKILL, so the reliability tests can crash the
predictor exactly between two steps that must not be separated (tests/reliability/test_predict_kills.py).

``WATCHLAKE_TEST_KILL_AT=<point>`` (or ``<point>:<n>``, the n-th time the point is reached in this process) makes
:func:`reach` kill the process there, as ``kill -9`` would: no cleanup, no finally blocks, no flush. Unset, which
is always the case outside those tests, :func:`reach` does nothing. It is an environment variable and not a
setting because no user run should ever set it, and the hook must work in a subprocess the test only starts.
"""

from __future__ import annotations

import os
import signal
import sys

KILL_AT_VARIABLE = "WATCHLAKE_TEST_KILL_AT"
# The points the code reaches, in the order a micro-batch reaches them.
POINTS = (
    "predict.after_spark",  # the batch's Spark job ran (state stores written), nothing in the warehouse yet
    "warehouse.before_commit",  # the batch's rows merged in an open transaction, not committed
    "warehouse.after_commit",  # the warehouse transaction committed, Spark's checkpoint commit not yet written
)
_reached: dict[str, int] = {}


def reach(point: str) -> None:
    """Kill this process with SIGKILL if ``WATCHLAKE_TEST_KILL_AT`` names ``point`` (and this is its n-th time)."""
    wanted = os.environ.get(KILL_AT_VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] >= int(nth or 1):
        sys.stderr.write(f"{KILL_AT_VARIABLE}: killing pid {os.getpid()} at {point}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
