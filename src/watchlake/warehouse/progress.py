"""Spark's progress report of each streaming micro-batch, kept in the warehouse (``stream_progress``) for the
monitoring figures: messages read, messages older than the watermark, and the batch's duration.

Spark builds the report after the batch's sink returned, so it is written in its own transaction, replacing any
earlier report of the same (query, batch): a replayed batch is counted once.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from typing import Any

from watchlake.warehouse.tables import STREAM_PROGRESS


@dataclass(frozen=True)
class BatchProgress:
    """One row of ``stream_progress`` (columns in the table's order)."""

    query_name: str
    batch_id: int
    messages: int
    older_than_watermark: int
    duration_ms: int
    reported_at: datetime  # naive UTC


def to_batch_progress(progress: Any) -> BatchProgress:
    """A PySpark ``StreamingQueryProgress`` as a row: ``numInputRows``, the state operators'
    ``numRowsDroppedByWatermark`` summed, ``durationMs['triggerExecution']`` and the report's start time."""
    started = datetime.fromisoformat(str(progress.timestamp).replace("Z", "+00:00"))
    return BatchProgress(
        query_name=str(progress.name),
        batch_id=int(progress.batchId),
        messages=int(progress.numInputRows),
        older_than_watermark=sum(int(op.numRowsDroppedByWatermark) for op in progress.stateOperators),
        duration_ms=int(progress.durationMs.get("triggerExecution", 0)),
        reported_at=started.astimezone(UTC).replace(tzinfo=None),
    )


def record_progress(connection: Any, schema: str, row: BatchProgress) -> None:
    """Replace the (query, batch) report with ``row`` in one transaction (DELETE + INSERT: PostgreSQL and
    Redshift alike)."""
    table = f"{schema}.{STREAM_PROGRESS.name}"
    columns = ", ".join(STREAM_PROGRESS.column_names)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE query_name = %s AND batch_id = %s", (row.query_name, row.batch_id)
            )
            placeholders = ", ".join(["%s"] * len(STREAM_PROGRESS.columns))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", astuple(row))
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
