"""Warehouse tables as data: name, columns with portable SQL types, and the natural key.

Only types and statements that PostgreSQL and Redshift both accept are used (VARCHAR for JSON payloads,
TIMESTAMP without zone holding UTC, MERGE from a staging table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def value_columns(self) -> tuple[str, ...]:
        return tuple(name for name in self.column_names if name not in self.key)


PREDICTIONS = Table(
    name="predictions",
    columns=(
        ("device_id", "VARCHAR(64) NOT NULL"),
        ("window_start", "TIMESTAMP NOT NULL"),
        ("window_end", "TIMESTAMP NOT NULL"),
        ("predicted_class", "VARCHAR(64) NOT NULL"),
        ("probabilities", "VARCHAR(4096) NOT NULL"),  # JSON object: class -> probability
        ("confidence", "DOUBLE PRECISION NOT NULL"),
        ("margin", "DOUBLE PRECISION NOT NULL"),
        ("entropy", "DOUBLE PRECISION NOT NULL"),
        ("events", "INTEGER NOT NULL"),
        # Fewer events than features.min_readings_share of the window's expected readings. Added after the table
        # first shipped: ensure_tables adds it to an older table (its rows read false).
        ("partial", "BOOLEAN NOT NULL DEFAULT FALSE"),
        ("model_version", "VARCHAR(64) NOT NULL"),
        ("query_name", "VARCHAR(128) NOT NULL"),
        ("batch_id", "BIGINT NOT NULL"),
        ("predicted_at", "TIMESTAMP NOT NULL"),
        (
            "latency_ms",
            "DOUBLE PRECISION NOT NULL",
        ),  # predicted_at minus the arrival time of the window's last event
    ),
    key=("device_id", "window_start"),
)

ANNOTATION_QUEUE = Table(
    name="annotation_queue",
    columns=(
        ("device_id", "VARCHAR(64) NOT NULL"),
        ("window_start", "TIMESTAMP NOT NULL"),
        ("window_end", "TIMESTAMP NOT NULL"),
        ("predicted_class", "VARCHAR(64) NOT NULL"),
        ("probabilities", "VARCHAR(4096) NOT NULL"),
        ("confidence_measure", "VARCHAR(32) NOT NULL"),
        ("confidence_value", "DOUBLE PRECISION NOT NULL"),
        ("features", "VARCHAR(65535) NOT NULL"),  # JSON object: feature name -> value
        ("signal", "VARCHAR(65535) NOT NULL"),  # JSON list of {t: s into window, a: |acc| g, r: |rot| rad/s}
        ("model_version", "VARCHAR(64) NOT NULL"),
        ("queued_at", "TIMESTAMP NOT NULL"),
    ),
    key=("device_id", "window_start"),
)

DEAD_LETTERS = Table(
    name="dead_letters",
    columns=(
        ("topic", "VARCHAR(256) NOT NULL"),
        ("kafka_partition", "INTEGER NOT NULL"),
        ("kafka_offset", "BIGINT NOT NULL"),
        ("raw_value", "VARCHAR(65535)"),  # the message bytes, hex-escaped when not valid UTF-8, cut at 64 KiB
        ("raw_size", "INTEGER NOT NULL"),
        ("reason", "VARCHAR(256) NOT NULL"),
        ("received_at", "TIMESTAMP NOT NULL"),
    ),
    key=("topic", "kafka_partition", "kafka_offset"),
)

# One row per (query, micro-batch) whose rows are committed: the exactly-once ledger.
BATCH_LEDGER = Table(
    name="stream_batches",
    columns=(
        ("query_name", "VARCHAR(128) NOT NULL"),
        ("batch_id", "BIGINT NOT NULL"),
        ("rows_written", "BIGINT NOT NULL"),
        ("committed_at", "TIMESTAMP NOT NULL"),
    ),
    key=("query_name", "batch_id"),
)

# Spark's progress report of each micro-batch of a streaming query (the predictor's listener writes it): what only
# Spark knows, and only after the batch's sink returned, so it cannot share the batch's transaction. Keyed like the
# ledger, so a report written twice (a replayed batch) is replaced, not doubled.
STREAM_PROGRESS = Table(
    name="stream_progress",
    columns=(
        ("query_name", "VARCHAR(128) NOT NULL"),
        ("batch_id", "BIGINT NOT NULL"),
        ("messages", "BIGINT NOT NULL"),  # Kafka messages the batch read (numInputRows)
        ("older_than_watermark", "BIGINT NOT NULL"),  # dropped by Spark before the window assembler
        ("duration_ms", "BIGINT NOT NULL"),  # the whole trigger: offsets, Spark job, sink, commit log
        ("reported_at", "TIMESTAMP NOT NULL"),  # when the batch started (the report's timestamp), UTC
    ),
    key=("query_name", "batch_id"),
)

# The tidy ACTIVITY_STATS rows of `watchlake stats` (same columns), replaced as a whole on every run. No key:
# activity_class and key are NULL in some rows, which a PRIMARY KEY column cannot be.
ACTIVITY_STATISTICS = Table(
    name="activity_stats",
    columns=(
        ("scope", "VARCHAR(16) NOT NULL"),
        ("activity_class", "VARCHAR(256)"),
        ("column", "VARCHAR(64) NOT NULL"),  # a reserved word: statements quote column names
        ("statistic", "VARCHAR(64) NOT NULL"),
        ("key", "VARCHAR(1024)"),
        ("value", "DOUBLE PRECISION"),
    ),
    key=(),
)

# One row per publish of the activity statistics, committed with them: when, and from how many readings.
STATISTICS_RUNS = Table(
    name="activity_stats_runs",
    columns=(
        ("published_at", "TIMESTAMP NOT NULL"),
        ("readings", "BIGINT NOT NULL"),
        ("statistics", "INTEGER NOT NULL"),
        ("classes", "INTEGER NOT NULL"),
    ),
    key=("published_at",),
)

# The annotation service (``watchlake annotate``). Accounts: argon2 password hashes, never the passwords.
ANNOTATORS = Table(
    name="annotators",
    columns=(
        ("name", "VARCHAR(64) NOT NULL"),
        ("password_hash", "VARCHAR(256) NOT NULL"),
        ("created_at", "TIMESTAMP NOT NULL"),
    ),
    key=("name",),
)

# Bearer tokens of the JSON API: the SHA-256 of a random 32-byte token (high entropy, so a fast hash suffices).
API_TOKENS = Table(
    name="annotation_tokens",
    columns=(
        ("token_hash", "VARCHAR(64) NOT NULL"),
        ("annotator", "VARCHAR(64) NOT NULL"),
        ("created_at", "TIMESTAMP NOT NULL"),
        ("revoked_at", "TIMESTAMP"),
    ),
    key=("token_hash",),
)

# Every lease ever given (a log): open while ended_at is NULL and expires_at is ahead; outcome says how it ended
# (labelled, skipped). A window has at most one open lease (taken under the queue row's lock).
ANNOTATION_LEASES = Table(
    name="annotation_leases",
    columns=(
        ("lease_id", "VARCHAR(64) NOT NULL"),
        ("device_id", "VARCHAR(64) NOT NULL"),
        ("window_start", "TIMESTAMP NOT NULL"),
        ("annotator", "VARCHAR(64) NOT NULL"),
        ("leased_at", "TIMESTAMP NOT NULL"),
        ("expires_at", "TIMESTAMP NOT NULL"),
        ("ended_at", "TIMESTAMP"),
        ("outcome", "VARCHAR(16)"),
    ),
    key=("lease_id",),
)

# Every accepted submission (a log, never updated but for pushed_at): a label, or an undo (label NULL, retracts
# naming the label it takes back). A window's newest row wins; label_id is the client's idempotency key.
ANNOTATION_LABELS = Table(
    name="annotation_labels",
    columns=(
        ("label_id", "VARCHAR(64) NOT NULL"),
        ("device_id", "VARCHAR(64) NOT NULL"),
        ("window_start", "TIMESTAMP NOT NULL"),
        ("window_end", "TIMESTAMP NOT NULL"),
        ("label", "VARCHAR(64)"),
        ("retracts", "VARCHAR(64)"),
        ("annotator", "VARCHAR(64) NOT NULL"),
        ("labelled_at", "TIMESTAMP NOT NULL"),
        ("note", "VARCHAR(1024) NOT NULL"),
        ("model_version", "VARCHAR(64) NOT NULL"),
        ("lease_id", "VARCHAR(64)"),
        ("pushed_at", "TIMESTAMP"),  # when the label sink (the feature store) took it; NULL: not yet
    ),
    key=("label_id",),
)

ALL_TABLES = (
    PREDICTIONS,
    ANNOTATION_QUEUE,
    DEAD_LETTERS,
    BATCH_LEDGER,
    STREAM_PROGRESS,
    ACTIVITY_STATISTICS,
    STATISTICS_RUNS,
    ANNOTATORS,
    API_TOKENS,
    ANNOTATION_LEASES,
    ANNOTATION_LABELS,
)


def quoted(names: tuple[str, ...]) -> str:
    """Comma-separated double-quoted column names (some, like ``column``, are reserved words)."""
    return ", ".join(f'"{name}"' for name in names)


def create_table_sql(table: Table, schema: str) -> str:
    """CREATE TABLE IF NOT EXISTS with quoted column names; a PRIMARY KEY only when the table has a key."""
    parts = [f'"{name}" {sql_type}' for name, sql_type in table.columns]
    if table.key:
        parts.append(f"PRIMARY KEY ({quoted(table.key)})")
    columns = ",\n  ".join(parts)
    return f"CREATE TABLE IF NOT EXISTS {schema}.{table.name} (\n  {columns}\n)"


def merge_sql(table: Table, schema: str, staging: str) -> str:
    """MERGE the staging table into the target on the natural key (valid in PostgreSQL 15+ and Redshift)."""
    on = " AND ".join(f"{schema}.{table.name}.{col} = s.{col}" for col in table.key)
    updates = ", ".join(f"{col} = s.{col}" for col in table.value_columns)
    columns = ", ".join(table.column_names)
    values = ", ".join(f"s.{col}" for col in table.column_names)
    return (
        f"MERGE INTO {schema}.{table.name} USING {staging} s ON {on} "
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})"
    )


def ensure_tables(connection: Any, schema: str) -> None:
    """Create the schema and every warehouse table when missing, and add the columns an older version of a table
    lacks (a column added later carries a DEFAULT for the rows already there); existing rows are never touched."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in ALL_TABLES:
            cursor.execute(create_table_sql(table, schema))
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (schema, table.name),
            )
            present = {row[0] for row in cursor.fetchall()}
            for name, sql_type in table.columns:
                if name not in present:
                    cursor.execute(f'ALTER TABLE {schema}.{table.name} ADD COLUMN "{name}" {sql_type}')
    connection.commit()
