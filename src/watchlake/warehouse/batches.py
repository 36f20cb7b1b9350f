"""Exactly-once writes of streaming micro-batches into the warehouse.

A micro-batch's rows for every table and its ledger row (query name, batch id) are committed in one transaction.
A replayed batch (same query, same batch id, as Spark does after a restart) finds its ledger row and changes
nothing; rows are MERGEd on their natural key, so a window scored again in a later batch is updated, not
duplicated. A lost connection (a warehouse restart) is retried with bounded, logged exponential backoff
(:func:`retry_lost_connection`): the ledger makes a retry of a commit whose outcome was unknown harmless.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg2
from psycopg2.extras import execute_values

from watchlake import faults
from watchlake.errors import ServiceError
from watchlake.warehouse.tables import BATCH_LEDGER, Table, merge_sql

log = logging.getLogger(__name__)
COPY_FROM_CLIENT_SINCE = 90_000  # psycopg2 server_version of PostgreSQL 9.0; Redshift reports 80002
CSV_NULL = "\\N"

Row = Sequence[Any]
T = TypeVar("T")
# What a lost or refused connection raises: psycopg2 on a dropped socket or a failed login, ServiceError from
# watchlake.warehouse.connection.connect while the server is down.
LOST_CONNECTION: tuple[type[Exception], ...] = (
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    ServiceError,
)


@dataclass(frozen=True)
class Reconnect:
    """How long to retry a lost warehouse connection: ``attempts`` tries in all, the first retry after
    ``first_delay_seconds``, each next one twice as late, at most ``max_delay_seconds`` apart."""

    attempts: int = 8
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 30.0

    def delays(self) -> list[float]:
        """The waits before the second, third, ... attempt."""
        first, cap = self.first_delay_seconds, self.max_delay_seconds
        return [min(cap, first * 2**retry) for retry in range(self.attempts - 1)]


def retry_lost_connection(
    work: Callable[[], T],
    *,
    reconnect: Reconnect,
    on_lost: Callable[[], None],
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work()``, run again after ``on_lost()`` (drop the connection, so the next try opens a new one) and a
    backoff wait each time it loses its connection; a ServiceError once ``reconnect.attempts`` tries failed. Other
    errors propagate at once. Each retry is logged as a warning naming ``what`` and the error."""
    delays = reconnect.delays()
    for attempt in range(1, len(delays) + 2):
        try:
            return work()
        except LOST_CONNECTION as error:
            on_lost()
            problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            if attempt > len(delays):
                raise ServiceError(
                    f"{what}: the warehouse connection is lost ({problem}) and {attempt} attempts over "
                    f"{sum(delays):.0f} s failed; check the warehouse (`watchlake status`), then start the "
                    "stream again: it resumes where it stopped (warehouse.reconnect_* set how long it waits)"
                ) from error
            delay = delays[attempt - 1]
            log.warning(
                "%s: warehouse connection lost (%s); attempt %d of %d in %.1f s",
                what,
                problem,
                attempt + 1,
                len(delays) + 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


@dataclass(frozen=True)
class BatchWrite:
    """What one call of :func:`write_batch` did."""

    query_name: str
    batch_id: int
    replayed: bool
    rows: Mapping[str, int]  # rows merged per table name; empty for a replay

    @property
    def rows_written(self) -> int:
        return sum(self.rows.values())


def is_committed(connection: Any, schema: str, query_name: str, batch_id: int) -> bool:
    """True when (query_name, batch_id) is in the ledger."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {schema}.{BATCH_LEDGER.name} WHERE query_name = %s AND batch_id = %s",
            (query_name, batch_id),
        )
        found = cursor.fetchone() is not None
    connection.rollback()  # end the read-only transaction psycopg2 opened
    return found


def committed_batches(connection: Any, schema: str, query_name: str) -> set[int]:
    """The batch ids of ``query_name`` already in the ledger."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT batch_id FROM {schema}.{BATCH_LEDGER.name} WHERE query_name = %s", (query_name,)
        )
        return {row[0] for row in cursor.fetchall()}


def forget_query(connection: Any, schema: str, query_name: str) -> int:
    """Delete the ledger rows of ``query_name`` (its stream starts over); returns how many there were. The rows
    the query wrote stay: a replay MERGEs the same keys again."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {schema}.{BATCH_LEDGER.name} WHERE query_name = %s", (query_name,))
        deleted = int(cursor.rowcount)
    connection.commit()
    return deleted


def write_batch(
    connection: Any,
    schema: str,
    query_name: str,
    batch_id: int,
    rows_by_table: Mapping[Table, Sequence[Row]],
) -> BatchWrite:
    """Commit ``rows_by_table`` (rows in each table's column order) once per (query_name, batch_id).

    Rolls back and re-raises on any error, leaving the warehouse as it was.
    """
    try:
        if is_committed(connection, schema, query_name, batch_id):
            log.info("batch %s of %s already committed: replay skipped", batch_id, query_name)
            return BatchWrite(query_name, batch_id, replayed=True, rows={})
        with connection.cursor() as cursor:
            merged = {
                table.name: _merge_rows(cursor, schema, table, rows) if rows else 0
                for table, rows in rows_by_table.items()
            }
            written = sum(merged.values())
            cursor.execute(
                f"INSERT INTO {schema}.{BATCH_LEDGER.name} (query_name, batch_id, rows_written, committed_at) "
                "VALUES (%s, %s, %s, %s)",
                (query_name, batch_id, written, datetime.now(UTC).replace(tzinfo=None)),
            )
        faults.reach("warehouse.before_commit")
        connection.commit()
        faults.reach("warehouse.after_commit")
    except BaseException:
        # On a lost connection the rollback fails too; the first error is the one to report.
        with contextlib.suppress(*LOST_CONNECTION):
            connection.rollback()
        raise
    return BatchWrite(query_name, batch_id, replayed=False, rows=merged)


def _merge_rows(cursor: Any, schema: str, table: Table, rows: Sequence[Row]) -> int:
    """MERGE ``rows`` into ``table`` through a temporary staging table; returns the rows merged."""
    staging = f"stage_{table.name}"
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {schema}.{table.name})")
    cursor.execute(f"DELETE FROM {staging}")
    _load(cursor, staging, table.column_names, rows)
    # A batch may hold the same key twice (a window re-scored within the batch): keep one, or MERGE fails.
    cursor.execute(merge_sql(table, schema, _deduplicated(staging, table)))
    return int(cursor.rowcount)


def _load(cursor: Any, staging: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Fill the staging table: PostgreSQL's COPY from memory (several times faster than INSERTs for a
    micro-batch of thousands of rows), or multi-row INSERTs where COPY cannot read the client (Redshift, which
    reports server version 8.0.2)."""
    if cursor.connection.server_version < COPY_FROM_CLIENT_SINCE:
        execute_values(
            cursor, f"INSERT INTO {staging} ({', '.join(columns)}) VALUES %s", rows, page_size=1000
        )
        return
    text = "".join(",".join(map(_csv_field, row)) + "\n" for row in rows)
    sql = f"COPY {staging} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '{CSV_NULL}')"
    cursor.copy_expert(sql, io.StringIO(text))


def _csv_field(value: Any) -> str:
    """One value as a COPY CSV field: NULL unquoted, text always quoted (so text equal to the NULL marker stays
    text), numbers and booleans bare, times in ISO form."""
    if value is None:
        return CSV_NULL
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest exact form; nan and inf as PostgreSQL reads them
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _deduplicated(staging: str, table: Table) -> str:
    # ROW_NUMBER rather than PostgreSQL's DISTINCT ON, which Redshift lacks.
    keys = ", ".join(table.key)
    columns = ", ".join(table.column_names)
    ranked = (
        f"SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {keys}) AS copy_no FROM {staging}"
    )
    return f"(SELECT {columns} FROM ({ranked}) ranked WHERE copy_no = 1)"
