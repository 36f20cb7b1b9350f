"""Batch predictions into the warehouse's predictions table: the stream's table and MERGE on (device, window
start), committed in chunks with the exactly-once ledger under a query name of the run's own."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.features.transforms import PARTIAL, WINDOW_END, WINDOW_START
from watchlake.score.transforms import KEY, ROWS
from watchlake.settings import Settings
from watchlake.warehouse.batches import write_batch
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import PREDICTIONS, ensure_tables

log = logging.getLogger(__name__)
CHUNK_ROWS = 20_000  # rows per transaction: a few MB on the driver at a time, whatever the run's size
QUERY_PREFIX = "score-"
TIMES = (WINDOW_START, WINDOW_END, "scored_at")


def warehouse_row(row: Any, classes: Sequence[str], query_name: str, batch_id: int) -> tuple[Any, ...]:
    """One PREDICTIONS row (column order) of a collected prediction (times as naive UTC datetimes). A batch
    score has no arrival time: ``latency_ms`` is the time from the window's end to its scoring."""
    columns = {
        "device_id": row[KEY],
        "window_start": row[WINDOW_START],
        "window_end": row[WINDOW_END],
        "predicted_class": row["predicted_activity"],
        "probabilities": orjson.dumps(dict(zip(classes, row["probabilities"], strict=True))).decode(),
        "confidence": float(row["confidence"]),
        "margin": float(row["margin"]),
        "entropy": float(row["entropy"]),
        "events": int(row[ROWS]),
        PARTIAL: bool(row[PARTIAL]),
        "model_version": str(row["model_version"]),
        "query_name": query_name,
        "batch_id": batch_id,
        "predicted_at": row["scored_at"],
        "latency_ms": (row["scored_at"] - row[WINDOW_END]).total_seconds() * 1000.0,
    }
    return tuple(columns[name] for name in PREDICTIONS.column_names)


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def merge_predictions(settings: Settings, predictions: DataFrame, classes: Sequence[str], run_id: str) -> int:
    """MERGE ``predictions`` (Lake.predictions rows of one run) into the warehouse; returns the rows merged."""
    schema = settings.warehouse.schema_name
    query_name = QUERY_PREFIX + run_id
    # timestamp_ntz in a UTC session: collected as the UTC wall clock, whatever the driver's local time zone.
    local = predictions.select(
        *(
            F.col(name).cast("timestamp_ntz").alias(name) if name in TIMES else F.col(name)
            for name in predictions.columns
        )
    )
    connection = connect(settings)
    merged = 0
    try:
        ensure_tables(connection, schema)
        for batch_id, chunk in enumerate(_chunks(local.toLocalIterator(), CHUNK_ROWS)):
            rows = [warehouse_row(row, classes, query_name, batch_id) for row in chunk]
            merged += write_batch(connection, schema, query_name, batch_id, {PREDICTIONS: rows}).rows_written
    finally:
        connection.close()
    log.info("score: %d predictions merged into %s.%s (%s)", merged, schema, PREDICTIONS.name, query_name)
    return merged
