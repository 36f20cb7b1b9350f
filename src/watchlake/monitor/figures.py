"""The monitoring figures' SQL over the warehouse, in one place: the ``/monitor`` page and ``watchlake status`` both
read :func:`read_figures`.

Every figure is taken as of one instant ``as_of`` (naive UTC) over half-open spans ``(as_of - span, as_of]``, so a
test, or a reader comparing the page with the database, can compute the same numbers again. Rates use the short
``rate_seconds`` span; percentiles, dead letters, watermark drops and the confidence distribution the longer
``window_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watchlake.annotate.queue import standing_label_sql, unlabelled_count_sql
from watchlake.monitor.confidence import BINS, bin_sql, counts_from
from watchlake.settings import MonitorSettings
from watchlake.warehouse.tables import (
    ANNOTATION_LABELS,
    DEAD_LETTERS,
    PREDICTIONS,
    STREAM_PROGRESS,
)


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float


@dataclass(frozen=True)
class Figures:
    """What the warehouse says about the stream and the annotators at ``as_of``."""

    as_of: datetime
    window_seconds: int
    rate_seconds: int
    messages_per_second: float  # Kafka messages the predictor read (Spark's progress reports)
    windows_per_second: float  # predictions written
    batches: int  # micro-batches reported in the window
    batch_ms: Percentiles | None  # micro-batch duration; None without batches
    latency_ms: Percentiles | None  # event-to-row latency of the predictions; None without predictions
    older_than_watermark: int
    dead_letters: list[tuple[str, int]]  # (reason, count), most first
    queue_depth: int  # unlabelled windows in the annotation queue
    labels_per_hour: list[tuple[datetime, int]]  # (hour start, standing labels), oldest first
    confidence: list[int] = field(default_factory=lambda: [0] * BINS)  # recent predictions per bin

    @property
    def predictions(self) -> int:
        return sum(self.confidence)

    @property
    def dead_letter_total(self) -> int:
        return sum(count for _, count in self.dead_letters)


def _one(cursor: Any, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    cursor.execute(sql, params)
    return tuple(cursor.fetchone())


def _percentiles(
    cursor: Any, table: str, column: str, time_column: str, span: tuple[datetime, datetime]
) -> Any:
    # percentile_cont is an ordered-set aggregate in PostgreSQL and Redshift alike.
    p50, p95 = _one(
        cursor,
        f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}), "
        f"percentile_cont(0.95) WITHIN GROUP (ORDER BY {column}) FROM {table} "
        f"WHERE {time_column} > %s AND {time_column} <= %s",
        span,
    )
    return None if p50 is None else Percentiles(float(p50), float(p95))


def hours_back(as_of: datetime, hours: int) -> list[datetime]:
    """The starts of the ``hours`` clock hours ending with the one holding ``as_of``, oldest first."""
    current = as_of.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=back) for back in range(hours - 1, -1, -1)]


def read_figures(connection: Any, schema: str, monitor: MonitorSettings, as_of: datetime) -> Figures:
    """The figures at ``as_of`` (naive UTC), read in one transaction, which is ended (read-only) before return."""
    window = (as_of - timedelta(seconds=monitor.window_seconds), as_of)
    rate = (as_of - timedelta(seconds=monitor.rate_seconds), as_of)
    predictions = f"{schema}.{PREDICTIONS.name}"
    progress = f"{schema}.{STREAM_PROGRESS.name}"
    labels = f"{schema}.{ANNOTATION_LABELS.name}"
    hours = hours_back(as_of, monitor.label_hours)
    try:
        with connection.cursor() as cursor:
            (messages,) = _one(
                cursor,
                f"SELECT coalesce(sum(messages), 0) FROM {progress} WHERE reported_at > %s AND reported_at <= %s",
                rate,
            )
            (scored,) = _one(
                cursor,
                f"SELECT count(*) FROM {predictions} WHERE predicted_at > %s AND predicted_at <= %s",
                rate,
            )
            batches, dropped = _one(
                cursor,
                f"SELECT count(*), coalesce(sum(older_than_watermark), 0) FROM {progress} "
                "WHERE reported_at > %s AND reported_at <= %s",
                window,
            )
            batch_ms = _percentiles(cursor, progress, "duration_ms", "reported_at", window)
            latency_ms = _percentiles(cursor, predictions, "latency_ms", "predicted_at", window)
            cursor.execute(
                f"SELECT reason, count(*) FROM {schema}.{DEAD_LETTERS.name} "
                "WHERE received_at > %s AND received_at <= %s GROUP BY reason ORDER BY count(*) DESC, reason",
                window,
            )
            dead_letters = [(str(reason), int(count)) for reason, count in cursor.fetchall()]
            (depth,) = _one(cursor, unlabelled_count_sql(schema), ())
            cursor.execute(
                f"SELECT date_trunc('hour', lb.labelled_at) AS hour, count(*) FROM {labels} lb "
                f"WHERE lb.labelled_at >= %s AND lb.labelled_at <= %s AND {standing_label_sql(schema)} "
                "GROUP BY date_trunc('hour', lb.labelled_at)",
                (hours[0], as_of),
            )
            per_hour = {hour: int(count) for hour, count in cursor.fetchall()}
            cursor.execute(
                f"SELECT {bin_sql('confidence')}, count(*) FROM {predictions} "
                f"WHERE predicted_at > %s AND predicted_at <= %s GROUP BY {bin_sql('confidence')}",
                window,
            )
            confidence = counts_from((int(b), int(n)) for b, n in cursor.fetchall())
    finally:
        connection.rollback()  # end the read-only transaction
    return Figures(
        as_of=as_of,
        window_seconds=monitor.window_seconds,
        rate_seconds=monitor.rate_seconds,
        messages_per_second=int(messages) / monitor.rate_seconds,
        windows_per_second=int(scored) / monitor.rate_seconds,
        batches=int(batches),
        batch_ms=batch_ms,
        latency_ms=latency_ms,
        older_than_watermark=int(dropped),
        dead_letters=dead_letters,
        queue_depth=int(depth),
        labels_per_hour=[(hour, per_hour.get(hour, 0)) for hour in hours],
        confidence=confidence,
    )
