"""``watchlake stats``: processed readings -> activity statistics (Parquet + catalog table) -> ``ActivityStats``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.labels.mapping import load_mapping
from watchlake.lake import Lake
from watchlake.schemas import ACTIVITY_STATS, READINGS
from watchlake.settings import Settings
from watchlake.stats.classes import with_activity_class
from watchlake.stats.model import ActivityStats
from watchlake.stats.transforms import to_activity_stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatsResult:
    readings: int
    classes: int
    statistics: int
    path: str
    table: str | None
    warehouse: bool


def compute_stats(settings: Settings, readings: DataFrame) -> DataFrame:
    """The ``ACTIVITY_STATS`` frame of processed readings (classes from label spreading)."""
    mapping = load_mapping(settings.labels.mapping_file)
    classed = with_activity_class(readings, settings.labels.span_seconds, mapping)
    return to_activity_stats(
        classed, settings.stats.quantiles, settings.stats.quantile_accuracy, settings.stats.max_gap_seconds
    )


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


def publish_to_warehouse(settings: Settings, stats: ActivityStats) -> bool:
    """Copy the statistics into the SQL warehouse when one is configured; returns whether it did.

    Boundary for the warehouse issue: the statistics stay in the lake until that loader exists.
    """
    log.info("warehouse copy of activity statistics not implemented yet (%s)", settings.warehouse.kind)
    return False


def load_activity_stats(spark: SparkSession, settings: Settings) -> ActivityStats:
    """The statistics last written by ``watchlake stats``, read from the lake by path (no metastore needed)."""
    path = Lake.from_settings(settings).activity_stats
    try:
        rows = spark.read.schema(ACTIVITY_STATS).parquet(path).collect()
    except Exception as error:  # Spark raises AnalysisException for a missing path
        raise DataQualityError(f"no activity statistics at {path}: run `watchlake stats` first") from error
    return ActivityStats.from_rows(rows)


def run(settings: Settings, spark: SparkSession) -> StatsResult:
    """Read the processed readings, compute and store their statistics."""
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
    stats = compute_stats(settings, readings).cache()
    rows = stats.count()
    table = write_stats(spark, settings, stats)
    loaded = ActivityStats.from_rows(stats.collect())
    stats.unpersist()
    published = publish_to_warehouse(settings, loaded)
    log.info(
        "stats: %d readings -> %d statistics, %d classes at %s",
        count,
        rows,
        len(loaded.classes),
        lake.activity_stats,
    )
    return StatsResult(count, len(loaded.classes), rows, lake.activity_stats, table, published)
