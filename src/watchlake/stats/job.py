"""``watchlake stats``: processed readings -> activity statistics (Parquet + catalog table, and a copy in the SQL
warehouse). :mod:`watchlake.stats.store` reads them back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError, ServiceError
from watchlake.lake import Lake
from watchlake.schemas import READINGS
from watchlake.settings import Settings, with_section
from watchlake.spark import sql_conf
from watchlake.stats.describe import classify, describe
from watchlake.stats.model import ActivityStats
from watchlake.stats.store import warehouse_location
from watchlake.stats.warehouse import replace_statistics
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ensure_tables

log = logging.getLogger(__name__)
JOB_SQL_CONF = {
    # The 36 motion-axis correlations hold 216 aggregation buffer fields; above spark.sql.codegen.maxFields (100)
    # Spark gives up whole-stage code for the aggregation: 6.3 -> 2.6 s on the demo's 400k readings.
    "spark.sql.codegen.maxFields": "400",
}


@dataclass(frozen=True)
class StatsResult:
    readings: int
    classes: int
    statistics: int
    path: str
    table: str | None
    warehouse: str | None  # where the copy went (warehouse_location), None when not copied


def write_stats(spark: SparkSession, settings: Settings, stats: DataFrame) -> str | None:
    """Overwrite the Parquet dataset and (re)register the catalog table on it; returns the table name."""
    lake = Lake.from_settings(settings)
    stats.coalesce(1).write.mode("overwrite").parquet(lake.activity_stats)
    if settings.catalog.kind == "none":
        return None
    table = lake.activity_stats_table
    spark.sql(f"CREATE TABLE IF NOT EXISTS {table} USING parquet LOCATION '{lake.activity_stats}'")
    spark.sql(f"REFRESH TABLE {table}")
    return table


def publish_to_warehouse(settings: Settings, rows: Sequence[Sequence[Any]], readings: int) -> bool:
    """Replace the warehouse copy of the statistics by ``rows`` (``ACTIVITY_STATS`` order, computed from
    ``readings`` readings) in one transaction; returns whether it did.

    False, with a log line saying why, when ``stats.warehouse_copy`` is off, ``warehouse.host`` is empty, or (with
    ``auto``) the warehouse does not answer. ServiceError when it does not answer and the copy is ``required``,
    or when it refuses the rows: then its previous statistics are unchanged.
    """
    reason = _no_warehouse(settings)
    if reason:
        log.info("activity statistics not copied to the warehouse: %s", reason)
        return False
    try:
        connection = connect(settings)
    except ServiceError as error:
        if settings.stats.warehouse_copy == "required":
            raise
        log.warning("activity statistics not copied to the warehouse (stats.warehouse_copy auto): %s", error)
        return False
    schema = settings.warehouse.schema_name
    try:
        ensure_tables(connection, schema)
        run = replace_statistics(connection, schema, rows, readings, datetime.now(UTC).replace(tzinfo=None))
    except psycopg2.Error as error:
        raise ServiceError(
            f"the warehouse refused the activity statistics ({str(error).strip()}); "
            f"{warehouse_location(settings)} still holds the previous ones"
        ) from error
    finally:
        connection.close()
    log.info(
        "warehouse: %d statistics of %d classes in %s",
        run.statistics,
        run.classes,
        warehouse_location(settings),
    )
    return True


def _no_warehouse(settings: Settings) -> str | None:
    """Why the statistics are not copied to the warehouse, or None when they are."""
    if settings.stats.warehouse_copy == "off":
        return "stats.warehouse_copy is off"
    if not settings.warehouse.host:
        return "no warehouse configured (warehouse.host is empty)"
    return None


def run(settings: Settings, spark: SparkSession, *, warehouse_copy: str | None = None) -> StatsResult:
    """Read the processed readings, compute and store their statistics; ``warehouse_copy`` overrides
    ``stats.warehouse_copy`` (auto, required, off)."""
    if warehouse_copy is not None:
        settings = with_section(settings, "stats", warehouse_copy=warehouse_copy)
    lake = Lake.from_settings(settings)
    try:
        readings = spark.read.schema(READINGS).parquet(lake.readings)
    except Exception as error:
        raise DataQualityError(
            f"no processed readings at {lake.readings}: run `watchlake clean` first"
        ) from error
    count = readings.count()
    if count == 0:
        raise DataQualityError(f"no processed readings at {lake.readings}: run `watchlake clean` first")
    # Every statistic reads the classed readings: keep them, instead of spreading labels (a sort and window
    # functions per participant) once per statistic.
    classed = classify(readings, settings.labels).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        with sql_conf(spark, JOB_SQL_CONF):
            stats = describe(classed, settings.stats).cache()
            rows = stats.count()
    finally:
        classed.unpersist()
    table = write_stats(spark, settings, stats)
    collected = stats.collect()
    stats.unpersist()
    loaded = ActivityStats.from_rows(collected)
    published = publish_to_warehouse(settings, collected, count)
    log.info(
        "stats: %d readings -> %d statistics, %d classes at %s",
        count,
        rows,
        len(loaded.classes),
        lake.activity_stats,
    )
    location = warehouse_location(settings) if published else None
    return StatsResult(count, len(loaded.classes), rows, lake.activity_stats, table, location)
