"""The activity statistics in the SQL warehouse: replaced as a whole by ``watchlake stats``, read back by the
generator (``watchlake generate --stats-from warehouse``). Plain DB-API on a psycopg2 connection, no Spark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2 import errors
from psycopg2.extras import execute_values

from watchlake.warehouse.tables import ACTIVITY_STATISTICS, STATISTICS_RUNS, quoted

Row = Sequence[Any]
_SCOPE, _CLASS = 0, 1  # positions in ACTIVITY_STATS field order


@dataclass(frozen=True)
class StatisticsRun:
    """One publish of the statistics: when (UTC, naive), from how many readings, how many rows and classes."""

    published_at: datetime
    readings: int
    statistics: int
    classes: int


def replace_statistics(
    connection: Any, schema: str, rows: Sequence[Row], readings: int, published_at: datetime
) -> StatisticsRun:
    """Replace every row of the statistics table by ``rows`` (``ACTIVITY_STATS`` field order) and add a run row.

    One transaction: a reader sees the previous set or the new one, never a mix. On any error (a NULL in a NOT
    NULL column, a value too long...) it is rolled back, so the previous set stays, and the error is re-raised.
    The tables must exist (``watchlake.warehouse.tables.ensure_tables``).
    """
    run = StatisticsRun(
        published_at,
        readings,
        len(rows),
        len({row[_CLASS] for row in rows if row[_SCOPE] == "class"}),
    )
    target = f"{schema}.{ACTIVITY_STATISTICS.name}"
    try:
        with connection.cursor() as cursor:
            # DELETE, not TRUNCATE: Redshift's TRUNCATE commits at once, which would expose an empty table.
            cursor.execute(f"DELETE FROM {target}")
            execute_values(
                cursor,
                f"INSERT INTO {target} ({quoted(ACTIVITY_STATISTICS.column_names)}) VALUES %s",
                [tuple(row) for row in rows],
                page_size=1000,
            )
            cursor.execute(
                f"INSERT INTO {schema}.{STATISTICS_RUNS.name} ({quoted(STATISTICS_RUNS.column_names)}) "
                "VALUES (%s, %s, %s, %s)",
                (run.published_at, run.readings, run.statistics, run.classes),
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return run


def _select(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a read-only query; empty when its table is missing. Ends the transaction psycopg2 opened."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    except errors.UndefinedTable:
        return []
    finally:
        connection.rollback()  # end the read-only transaction (or the failed one)


def read_statistics(connection: Any, schema: str) -> list[tuple[Any, ...]]:
    """Every statistics row as a tuple in ``ACTIVITY_STATS`` field order; empty when the table is missing."""
    columns = quoted(ACTIVITY_STATISTICS.column_names)
    return _select(connection, f"SELECT {columns} FROM {schema}.{ACTIVITY_STATISTICS.name}")


def latest_run(connection: Any, schema: str) -> StatisticsRun | None:
    """The last publish recorded, or None when there is none (or no run table)."""
    columns = quoted(STATISTICS_RUNS.column_names)
    found = _select(
        connection,
        f"SELECT {columns} FROM {schema}.{STATISTICS_RUNS.name} ORDER BY published_at DESC LIMIT 1",
    )
    if not found:
        return None
    published_at, readings, statistics, classes = found[0]
    return StatisticsRun(published_at, int(readings), int(statistics), int(classes))
