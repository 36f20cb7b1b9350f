"""The activity statistics in the real PostgreSQL warehouse: published by ``watchlake stats`` in one transaction,
read back as the same ``ActivityStats`` for the generator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from test_stats_transforms import CLASSED, ROWS, reading

from conftest import make_settings
from fixtures_services import warehouse_overrides
from watchlake.errors import ConfigError, DataQualityError, ServiceError
from watchlake.lake import Lake
from watchlake.schemas import ACTIVITY_STATS, READINGS
from watchlake.services.process import free_port
from watchlake.settings import Settings, load_settings
from watchlake.stats.job import publish_to_warehouse, run
from watchlake.stats.model import ActivityStats
from watchlake.stats.store import load_activity_stats, load_stats, load_warehouse_stats, warehouse_location
from watchlake.stats.transforms import to_activity_stats
from watchlake.warehouse.connection import connection_kwargs
from watchlake.warehouse.tables import ACTIVITY_STATISTICS

services = pytest.mark.services
Row = tuple[Any, ...]


@pytest.fixture(scope="module")
def lake_rows(spark) -> list[Row]:
    """ACTIVITY_STATS rows of the tiny readings of test_stats_transforms (classes A and B), as plain tuples."""
    readings = spark.createDataFrame([reading(*row) for row in ROWS], CLASSED)
    return [tuple(row) for row in to_activity_stats(readings, [0.5], 10_000, 10.0).collect()]


def by_identity(rows: list[Row]) -> list[Row]:
    """Rows in the order of (scope, activity_class, column, statistic, key), NULL first."""
    return sorted(rows, key=lambda row: tuple((value is not None, value or "") for value in row[:5]))


def only_class_a(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row[1] in (None, "A")]


def query(settings: Settings, sql: str) -> list[Row]:
    connection = psycopg2.connect(**connection_kwargs(settings))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(schema=settings.warehouse.schema_name))
            return list(cursor.fetchall())
    finally:
        connection.close()


def warehouse_rows(settings: Settings) -> list[Row]:
    return by_identity(
        query(
            settings,
            'SELECT scope, activity_class, "column", statistic, key, value FROM {schema}.activity_stats',
        )
    )


def runs(settings: Settings) -> list[Row]:
    """(readings, statistics, classes) of every recorded publish, oldest first."""
    return query(
        settings,
        "SELECT readings, statistics, classes FROM {schema}.activity_stats_runs ORDER BY published_at",
    )


def with_stats(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"stats": settings.stats.model_copy(update=changes)})


def with_warehouse(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"warehouse": settings.warehouse.model_copy(update=changes)})


def test_warehouse_table_has_the_activity_stats_columns() -> None:
    assert ACTIVITY_STATISTICS.column_names == tuple(ACTIVITY_STATS.fieldNames())


def test_aws_settings_require_the_warehouse_copy() -> None:
    assert load_settings("aws").stats.warehouse_copy == "required"


@services
def test_publish_to_warehouse_round_trip_equals_the_lake_statistics(postgres_settings, lake_rows) -> None:
    assert publish_to_warehouse(postgres_settings, lake_rows, 7) is True
    assert warehouse_rows(postgres_settings) == by_identity(lake_rows)
    assert runs(postgres_settings) == [(7, len(lake_rows), 2)]
    loaded = load_warehouse_stats(postgres_settings)
    assert loaded == ActivityStats.from_rows(lake_rows)
    assert loaded.classes["B"].numeric["yaw"].mean == pytest.approx(5.0)
    assert loaded.class_shares == pytest.approx({"A": 5 / 7, "B": 2 / 7})


@services
def test_publish_to_warehouse_rerun_replaces_the_previous_set(postgres_settings, lake_rows) -> None:
    publish_to_warehouse(postgres_settings, lake_rows, 7)
    assert publish_to_warehouse(postgres_settings, only_class_a(lake_rows), 5) is True
    assert warehouse_rows(postgres_settings) == by_identity(only_class_a(lake_rows))
    assert runs(postgres_settings) == [(7, len(lake_rows), 2), (5, len(only_class_a(lake_rows)), 1)]
    assert set(load_warehouse_stats(postgres_settings).classes) == {"A"}


@services
def test_publish_to_warehouse_failure_keeps_the_previous_set(postgres_settings, lake_rows) -> None:
    publish_to_warehouse(postgres_settings, lake_rows, 7)
    # More than one INSERT page (1000 rows) of good rows, then a row with a NULL column: the DELETE and the first
    # page have run when the NOT NULL constraint stops the transaction.
    good = only_class_a(lake_rows) * (1000 // len(lake_rows) + 2)
    broken = [*good, ("class", "B", None, "mean", None, 1.0)]
    assert len(good) > 1000
    with pytest.raises(ServiceError, match="still holds the previous ones"):
        publish_to_warehouse(postgres_settings, broken, 9)
    assert warehouse_rows(postgres_settings) == by_identity(lake_rows)
    assert runs(postgres_settings) == [(7, len(lake_rows), 2)]


def test_publish_to_warehouse_without_warehouse_returns_false(settings, lake_rows, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="watchlake.stats.job"):
        no_host = with_warehouse(with_stats(settings, warehouse_copy="auto"), host="")
        assert publish_to_warehouse(no_host, lake_rows, 7) is False
        assert publish_to_warehouse(with_stats(settings, warehouse_copy="off"), lake_rows, 7) is False
    assert "warehouse.host is empty" in caplog.text
    assert "stats.warehouse_copy is off" in caplog.text


def test_publish_to_warehouse_unreachable_auto_skips_required_fails(settings, lake_rows) -> None:
    nobody = with_warehouse(with_stats(settings, warehouse_copy="auto"), host="127.0.0.1", port=free_port())
    assert publish_to_warehouse(nobody, lake_rows, 7) is False
    with pytest.raises(ServiceError, match="cannot reach the warehouse"):
        publish_to_warehouse(with_stats(nobody, warehouse_copy="required"), lake_rows, 7)


def test_load_warehouse_stats_without_warehouse_is_a_config_error(settings) -> None:
    with pytest.raises(ConfigError, match=r"warehouse\.host is empty"):
        load_warehouse_stats(with_warehouse(settings, host=""))


@services
def test_load_warehouse_stats_without_statistics_says_run_stats_first(postgres_settings, lake_rows) -> None:
    with pytest.raises(DataQualityError, match="run `watchlake stats` first"):
        load_warehouse_stats(postgres_settings)  # no table yet
    publish_to_warehouse(postgres_settings, [], 0)
    with pytest.raises(DataQualityError, match="run `watchlake stats` first"):
        load_warehouse_stats(postgres_settings)  # the table, empty


@services
def test_load_stats_reads_the_chosen_source(spark, postgres_settings, lake_rows) -> None:
    lake = Lake.from_settings(postgres_settings)
    spark.createDataFrame(lake_rows, ACTIVITY_STATS).write.parquet(lake.activity_stats)
    publish_to_warehouse(postgres_settings, only_class_a(lake_rows), 5)
    assert load_stats(spark, postgres_settings, "lake") == ActivityStats.from_rows(lake_rows)
    assert load_stats(spark, postgres_settings, "warehouse") == ActivityStats.from_rows(
        only_class_a(lake_rows)
    )
    with pytest.raises(ConfigError, match="unknown statistics source"):
        load_stats(spark, postgres_settings, "glue")  # type: ignore[arg-type]


@services
@pytest.mark.slow
def test_run_publishes_what_it_writes_to_the_lake(spark, tmp_path: Path, postgres_service, pg_schema) -> None:
    settings = make_settings(
        tmp_path, catalog={"kind": "none"}, **warehouse_overrides(postgres_service, pg_schema)
    )
    labels = {0: "eat", 3: "work"}  # spread over the following readings (labels.span_seconds)
    readings = []
    for i, row in enumerate(ROWS):
        values = list(reading(*row))[:-1]  # READINGS fields, without the test's own class column
        values[READINGS.fieldNames().index("user_activity_label")] = labels.get(i)
        readings.append(tuple(values))
    spark.createDataFrame(readings, READINGS).write.parquet(Lake.from_settings(settings).readings)

    result = run(settings, spark)
    assert (result.readings, result.classes, result.table) == (7, 2, None)
    assert result.warehouse == warehouse_location(settings)
    from_lake = load_activity_stats(spark, settings)
    assert load_stats(spark, settings, "warehouse") == from_lake
    assert set(from_lake.classes) == {"Mealtime", "Work"}
    assert runs(settings) == [(7, result.statistics, 2)]
