"""Exactly-once micro-batch writes on the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2
import pytest

from watchlake.warehouse.batches import committed_batches, write_batch
from watchlake.warehouse.connection import connection_kwargs
from watchlake.warehouse.tables import (
    DEAD_LETTERS,
    PREDICTIONS,
    Table,
    create_table_sql,
    ensure_tables,
    merge_sql,
)

pytestmark = pytest.mark.services
T0 = datetime(2026, 1, 1, 12, 0)


def prediction(device: str, predicted: str, batch_id: int = 0) -> tuple[Any, ...]:
    return (
        device,
        T0,
        T0,
        predicted,
        '{"Relax": 1.0}',
        1.0,
        1.0,
        0.0,
        600,
        False,
        "1",
        "q",
        batch_id,
        T0,
        5.0,
    )


@pytest.fixture
def warehouse(postgres_settings) -> Any:
    connection = psycopg2.connect(**connection_kwargs(postgres_settings))
    ensure_tables(connection, postgres_settings.warehouse.schema_name)
    yield connection, postgres_settings.warehouse.schema_name
    connection.close()


def rows(connection: Any, schema: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT device_id, predicted_class, batch_id FROM {schema}.predictions ORDER BY 1")
        found = cursor.fetchall()
    connection.rollback()
    return found


def test_write_batch_replay_changes_nothing(warehouse) -> None:
    connection, schema = warehouse
    first = write_batch(connection, schema, "q", 0, {PREDICTIONS: [prediction("a", "Relax")]})
    replay = write_batch(
        connection, schema, "q", 0, {PREDICTIONS: [prediction("a", "Work"), prediction("b", "Work")]}
    )
    assert (first.replayed, first.rows) == (False, {"predictions": 1})
    assert (replay.replayed, replay.rows_written) == (True, 0)
    assert rows(connection, schema) == [("a", "Relax", 0)]


def test_write_batch_merges_on_the_natural_key(warehouse) -> None:
    connection, schema = warehouse
    write_batch(connection, schema, "q", 0, {PREDICTIONS: [prediction("a", "Relax", 0)]})
    write_batch(
        connection, schema, "q", 1, {PREDICTIONS: [prediction("a", "Work", 1), prediction("a", "Work", 1)]}
    )
    assert rows(connection, schema) == [("a", "Work", 1)]
    assert committed_batches(connection, schema, "q") == {0, 1}


def test_write_batch_failure_leaves_warehouse_and_ledger_unchanged(warehouse) -> None:
    connection, schema = warehouse
    write_batch(connection, schema, "q", 0, {PREDICTIONS: [prediction("a", "Relax")]})
    broken_letter = ("topic", 0, 1, "raw", 3, None, T0)  # reason is NOT NULL
    with pytest.raises(psycopg2.IntegrityError):
        write_batch(
            connection,
            schema,
            "q",
            1,
            {PREDICTIONS: [prediction("b", "Work")], DEAD_LETTERS: [broken_letter]},
        )
    assert rows(connection, schema) == [("a", "Relax", 0)]
    assert committed_batches(connection, schema, "q") == {0}


def test_merge_sql_updates_value_columns_only() -> None:
    statement = merge_sql(PREDICTIONS, "wh", "stage")
    assert statement.startswith(
        "MERGE INTO wh.predictions USING stage s ON wh.predictions.device_id = s.device_id"
    )
    assert "device_id = s.device_id," not in statement.split("UPDATE SET")[1].split("WHEN NOT")[0]


TRICKY = ['say "hi", then\nleave', "", "back\\slash\t;", "ünïcödé ✓", "NULL", None]


@pytest.mark.parametrize("loader", ["copy", "insert"])
def test_write_batch_keeps_every_value_exactly(warehouse, monkeypatch, loader: str) -> None:
    import watchlake.warehouse.batches as batches

    if loader == "insert":  # as on Redshift, which cannot COPY from the client
        monkeypatch.setattr(batches, "COPY_FROM_CLIENT_SINCE", 10**9)
    connection, schema = warehouse
    letters = [("t", 0, offset, raw, len(raw or ""), "why", T0) for offset, raw in enumerate(TRICKY)]
    predictions = [
        (*prediction(f"w{i}", "Relax")[:5], 0.1 * i, 1e-300, float("nan"), *prediction("x", "R")[8:])
        for i in range(3)
    ]
    write_batch(connection, schema, "q", 0, {DEAD_LETTERS: letters, PREDICTIONS: predictions})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT raw_value FROM {schema}.dead_letters ORDER BY kafka_offset")
        assert [row[0] for row in cursor.fetchall()] == TRICKY
        cursor.execute(f"SELECT confidence, margin, entropy FROM {schema}.predictions ORDER BY device_id")
        stored = cursor.fetchall()
    connection.rollback()
    assert [row[:2] for row in stored] == [(0.1 * i, 1e-300) for i in range(3)]
    assert all(row[2] != row[2] for row in stored)  # NaN


def test_ensure_tables_adds_a_later_column_to_an_older_table(postgres_settings) -> None:
    schema = postgres_settings.warehouse.schema_name
    connection = psycopg2.connect(**connection_kwargs(postgres_settings))
    try:
        older = Table(
            PREDICTIONS.name, tuple(c for c in PREDICTIONS.columns if c[0] != "partial"), PREDICTIONS.key
        )
        old_row = [value for value in prediction("w1", "Relax") if value is not False]
        with connection.cursor() as cursor:  # the predictions table as it was before `partial`, with a row
            cursor.execute(create_table_sql(older, schema))
            cursor.execute(
                f"INSERT INTO {schema}.predictions VALUES ({', '.join(['%s'] * len(old_row))})", old_row
            )
        connection.commit()
        ensure_tables(connection, schema)
        ensure_tables(connection, schema)  # again: nothing left to add
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT device_id, partial FROM {schema}.predictions")
            assert cursor.fetchall() == [("w1", False)]
            cursor.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (schema, PREDICTIONS.name),
            )
            assert cursor.fetchone()[0] == len(PREDICTIONS.columns)
    finally:
        connection.close()
