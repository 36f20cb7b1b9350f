"""Exactly-once writes of streaming micro-batches into the warehouse.

A micro-batch's rows for every table and its ledger row (query name, batch id) are committed in one transaction.
A replayed batch (same query, same batch id, as Spark does after a restart) finds its ledger row and changes
nothing; rows are MERGEd on their natural key, so a window scored again in a later batch is updated, not
duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2.extras import execute_values

from watchlake.warehouse.tables import ALL_TABLES, BATCH_LEDGER, Table, create_table_sql, merge_sql

log = logging.getLogger(__name__)

Row = Sequence[Any]


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


def ensure_tables(connection: Any, schema: str) -> None:
    """Create the schema and every warehouse table when missing; existing rows are never touched."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in ALL_TABLES:
            cursor.execute(create_table_sql(table, schema))
    connection.commit()


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
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return BatchWrite(query_name, batch_id, replayed=False, rows=merged)


def _merge_rows(cursor: Any, schema: str, table: Table, rows: Sequence[Row]) -> int:
    """MERGE ``rows`` into ``table`` through a temporary staging table; returns the rows merged."""
    staging = f"stage_{table.name}"
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {schema}.{table.name})")
    cursor.execute(f"DELETE FROM {staging}")
    execute_values(
        cursor,
        f"INSERT INTO {staging} ({', '.join(table.column_names)}) VALUES %s",
        rows,
        page_size=1000,
    )
    # A batch may hold the same key twice (a window re-scored within the batch): keep one, or MERGE fails.
    cursor.execute(merge_sql(table, schema, _deduplicated(staging, table)))
    return int(cursor.rowcount)


def _deduplicated(staging: str, table: Table) -> str:
    # ROW_NUMBER rather than PostgreSQL's DISTINCT ON, which Redshift lacks.
    keys = ", ".join(table.key)
    columns = ", ".join(table.column_names)
    ranked = (
        f"SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {keys}) AS copy_no FROM {staging}"
    )
    return f"(SELECT {columns} FROM ({ranked}) ranked WHERE copy_no = 1)"
