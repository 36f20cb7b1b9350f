"""The two sinks the predict bench swaps into ``watchlake.predict.job``: the real warehouse sink with timers, and
the no-op reference (same windows, same champion scoring, nothing written).

Both record per micro-batch: wall seconds in the sink, and for the warehouse sink the part spent in
``commit`` (psycopg2 MERGE + ledger); the rest is Spark (Kafka read, parse, windows, scoring, collect).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

import watchlake.predict.job as predict_job
from watchlake.features.assembly import KEY, windows_of
from watchlake.features.transforms import WINDOW_END, finish_windows
from watchlake.predict.rows import LAST_ARRIVAL
from watchlake.predict.sinks import PredictionSink
from watchlake.scoring import score


@dataclass
class BatchTiming:
    batch_id: int
    seconds: float
    commit_seconds: float
    windows: int
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
        self._rows = 0
        started = time.perf_counter()
        super().__call__(windows, batch_id)
        seconds = time.perf_counter() - started
        self.timings.append(BatchTiming(batch_id, seconds, self._commit_seconds, self._rows))

    def commit(self, batch_id: int, rows_by_table: dict[Any, list[tuple[Any, ...]]]) -> None:
        self._rows = sum(len(rows) for rows in rows_by_table.values())
        started = time.perf_counter()
        super().commit(batch_id, rows_by_table)
        self._commit_seconds = time.perf_counter() - started


def _naive_utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000.0


class NoopScoredSink(PredictionSink):
    """Reference sink: finishes and scores the windows like the real one (dead letters left aside), then only
    collects two timestamps per window."""

    timings: list[BatchTiming]

    def __call__(self, assembled: DataFrame, batch_id: int) -> None:
        if not hasattr(self, "timings"):
            self.timings = []
        started_at, started = _naive_utc_now(), time.perf_counter()
        self.champion.refresh(assembled.sparkSession)
        windows = finish_windows(
            windows_of(assembled).withColumnRenamed(KEY, "device_id"), "device_id", keep=(LAST_ARRIVAL,)
        )
        scored = score(self.champion, windows)
        rows = scored.select(F.col(WINDOW_END), F.col(LAST_ARRIVAL), F.col("predicted_activity")).collect()
        ended_at = _naive_utc_now()
        latencies = [
            (
                row[0].replace(tzinfo=UTC).timestamp(),
                _ms(started_at, row[1]),
                _ms(ended_at, row[1]),
                _ms(ended_at, row[0]),
            )
            for row in rows
        ]
        seconds = time.perf_counter() - started
        self.timings.append(BatchTiming(batch_id, seconds, 0.0, len(rows), latencies))


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
