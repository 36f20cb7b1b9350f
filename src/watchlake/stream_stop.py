"""Stopping a streaming query between micro-batches: the generator's and the predictor's way to end a run."""

from __future__ import annotations

import logging
import time

from pyspark import SparkContext
from pyspark.sql.streaming import StreamingQuery

log = logging.getLogger(__name__)


def stop_between_batches(
    query: StreamingQuery,
    name: str,
    *,
    cut_means: str,
    timeout_seconds: float = 60.0,
    log_level: str = "ERROR",
) -> None:
    """Stop ``query`` (the stream of stage ``name``) while no micro-batch is running, so every started batch ends.

    A stream behind its input runs batches back to back; after ``timeout_seconds`` the batch in flight is cut.
    Spark then logs each killed task as an ERROR with a trace, which says nothing to the user: the JVM is silenced
    for the stop (back to ``log_level`` after it) and one warning says what happened and what it means
    (``cut_means``)."""
    deadline = time.monotonic() + timeout_seconds
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.05)
    if not (query.isActive and query.status.get("isTriggerActive")):
        query.stop()
        return
    log.warning(
        "%s: no pause between micro-batches for %.0f s (the stream is behind); cutting the batch in flight: %s",
        name,
        timeout_seconds,
        cut_means,
    )
    context = SparkContext.getOrCreate()  # the running one: a query belongs to this process's context
    context.setLogLevel("OFF")
    try:
        query.stop()
    finally:
        context.setLogLevel(log_level)
