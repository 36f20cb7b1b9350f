"""The two sinks the predict bench swaps into ``watchlake.predict.job``: the real warehouse sink with timers, and
the no-op reference (same collect, features and scoring, nothing written).

Both record per micro-batch: wall seconds in the sink, and for the warehouse sink the part spent in
``commit`` (psycopg2 MERGE + ledger); the rest is Spark (Kafka read, parse, windows, scoring, collect).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame

import watchlake.predict.job as predict_job
from watchlake.features.transforms import WINDOW_END
from watchlake.predict.sinks import PredictionSink
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS


@dataclass
class BatchTiming:
    batch_id: int
    seconds: float
    commit_seconds: float
    windows: int
    steps: dict[str, float] = field(default_factory=dict)  # the sink's own split: spark, scoring, commit
    queued: int = 0
    # Per window, no-op sink only: (window_end epoch s, sink start - last arrival ms, sink end - last arrival ms,
    # sink end - window_end ms).
    latencies: list[tuple[float, float, float, float]] = field(default_factory=list)


class TimedWarehouseSink(PredictionSink):
    """The predictor's own sink, timed."""

    timings: list[BatchTiming]

    def __call__(self, windows: DataFrame, batch_id: int) -> None:
        if not hasattr(self, "timings"):
            self.timings = []
        self._commit_seconds = 0.0
        self._rows = self._queued = 0
        started = time.perf_counter()
        super().__call__(windows, batch_id)
        seconds = time.perf_counter() - started
        timing = BatchTiming(batch_id, seconds, self._commit_seconds, self._rows, dict(self.last_seconds))
        timing.queued = self._queued
        self.timings.append(timing)

    def commit(self, batch_id: int, rows_by_table: dict[Any, list[tuple[Any, ...]]]) -> None:
        self._rows = len(rows_by_table[PREDICTIONS])
        self._queued = len(rows_by_table[ANNOTATION_QUEUE])
        started = time.perf_counter()
        super().commit(batch_id, rows_by_table)
        self._commit_seconds = time.perf_counter() - started


def _naive_utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000.0


class NoopScoredSink(PredictionSink):
    """Reference sink: the real sink's work (collect, features, scoring, rows) without the warehouse: no ledger
    check, no commit; records, per window, the sink's start and end against the window's last arrival."""

    timings: list[BatchTiming]

    def skip_replay(self, batch: DataFrame, batch_id: int) -> bool:
        return False

    def __call__(self, assembled: DataFrame, batch_id: int) -> None:
        if not hasattr(self, "timings"):
            self.timings = []
        self._started_at, started = _naive_utc_now(), time.perf_counter()
        self._latencies: list[tuple[float, float, float, float]] = []
        super().__call__(assembled, batch_id)
        seconds = time.perf_counter() - started
        steps = dict(self.last_seconds)
        self.timings.append(
            BatchTiming(batch_id, seconds, 0.0, len(self._latencies), steps, latencies=self._latencies)
        )

    def commit(self, batch_id: int, rows_by_table: dict[Any, list[tuple[Any, ...]]]) -> None:
        ended_at = _naive_utc_now()
        for row in rows_by_table[PREDICTIONS]:
            prediction = dict(zip(PREDICTIONS.column_names, row, strict=True))
            arrived = prediction["predicted_at"] - timedelta(milliseconds=prediction["latency_ms"])
            window_end = prediction[WINDOW_END]
            self._latencies.append(
                (
                    window_end.replace(tzinfo=UTC).timestamp(),
                    _ms(self._started_at, arrived),
                    _ms(ended_at, arrived),
                    _ms(ended_at, window_end),
                )
            )


SINKS = {"warehouse": TimedWarehouseSink, "noop": NoopScoredSink}


@contextmanager
def sink_swapped(kind: str) -> Iterator[None]:
    """Make ``watchlake.predict.job.start`` build its prediction query on the bench sink ``kind``."""
    original = predict_job.PredictionSink
    predict_job.PredictionSink = SINKS[kind]  # type: ignore[misc]
    try:
        yield
    finally:
        predict_job.PredictionSink = original  # type: ignore[misc]
