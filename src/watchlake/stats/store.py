"""Where the activity statistics of ``watchlake stats`` are read back from (the generator's input): the lake
(Parquet, by path: no metastore needed) or the SQL warehouse copy."""

from __future__ import annotations

import logging
from typing import Literal

from pyspark.sql import SparkSession

from watchlake.errors import ConfigError, DataQualityError
from watchlake.jvm import path_exists
from watchlake.lake import Lake
from watchlake.schemas import ACTIVITY_STATS
from watchlake.settings import Settings
from watchlake.stats.model import ActivityStats
from watchlake.stats.warehouse import latest_run, read_statistics
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ACTIVITY_STATISTICS

log = logging.getLogger(__name__)
StatsSource = Literal["lake", "warehouse"]
STATS_SOURCES: tuple[StatsSource, ...] = ("lake", "warehouse")


def warehouse_location(settings: Settings) -> str:
    """Where the warehouse copy of the statistics lives, for messages: kind, host, database and table."""
    warehouse = settings.warehouse
    return (
        f"{warehouse.kind} {warehouse.host}:{warehouse.port}/{warehouse.database} "
        f"table {warehouse.schema_name}.{ACTIVITY_STATISTICS.name}"
    )


def load_warehouse_stats(settings: Settings) -> ActivityStats:
    """The statistics last published by ``watchlake stats`` to the warehouse (``warehouse.*``).

    ConfigError without a warehouse, ServiceError when it does not answer, DataQualityError when it holds none.
    """
    if not settings.warehouse.host:
        raise ConfigError(
            "no warehouse configured (warehouse.host is empty): load the statistics from the lake"
        )
    schema = settings.warehouse.schema_name
    connection = connect(settings)
    try:
        rows = read_statistics(connection, schema)
        run = latest_run(connection, schema)
    finally:
        connection.close()
    if not rows:
        raise DataQualityError(
            f"no activity statistics in the warehouse ({warehouse_location(settings)}): run `watchlake stats` first, "
            "with the warehouse running"
        )
    if run is not None:
        log.info(
            "activity statistics from the warehouse: published %s UTC from %d readings (%d rows)",
            run.published_at.isoformat(timespec="seconds"),
            run.readings,
            len(rows),
        )
    return ActivityStats.from_rows(rows)


def load_stats(spark: SparkSession, settings: Settings, source: StatsSource = "lake") -> ActivityStats:
    """The statistics from ``source``: ``lake`` (Parquet, the default) or ``warehouse`` (SQL table)."""
    if source == "warehouse":
        return load_warehouse_stats(settings)
    if source != "lake":
        raise ConfigError(f"unknown statistics source {source!r}: choose one of {', '.join(STATS_SOURCES)}")
    return load_activity_stats(spark, settings)


def load_activity_stats(spark: SparkSession, settings: Settings) -> ActivityStats:
    """The statistics last written by ``watchlake stats``, read from the lake by path (no metastore needed)."""
    path = Lake.from_settings(settings).activity_stats
    if not path_exists(spark, path):
        raise DataQualityError(f"no activity statistics at {path}: run `watchlake stats` first")
    try:
        rows = spark.read.schema(ACTIVITY_STATS).parquet(path).collect()
    except Exception as error:  # Spark raises AnalysisException for a missing path
        raise DataQualityError(f"no activity statistics at {path}: run `watchlake stats` first") from error
    return ActivityStats.from_rows(rows)
