"""Readers of the lake's datasets for the stages downstream of them: the declared schema, and an error that says
which stage to run first when a dataset is missing or out of date."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.features.transforms import FEATURE_VERSION, LABELLED_WINDOWS
from watchlake.lake import Lake
from watchlake.schemas import READINGS


def read_readings(spark: SparkSession, lake: Lake) -> DataFrame:
    """The processed readings; DataQualityError saying to run ``watchlake clean`` when there are none."""
    try:
        readings = spark.read.schema(READINGS).parquet(lake.readings)
        empty = readings.isEmpty()
    except Exception as error:  # Spark's PATH_NOT_FOUND AnalysisException
        raise DataQualityError(
            f"no processed readings at {lake.readings}: run `watchlake clean` first"
        ) from error
    if empty:
        raise DataQualityError(f"no processed readings at {lake.readings}: run `watchlake clean` first")
    return readings


def read_windows(spark: SparkSession, lake: Lake) -> DataFrame:
    """The labelled windows of ``watchlake features``; DataQualityError when they are missing or were computed
    by another feature version (both mean: run ``watchlake features``)."""
    try:
        windows = spark.read.schema(LABELLED_WINDOWS).parquet(lake.windows)
        versions = {row[0] for row in windows.select("feature_version").distinct().collect()}
    except Exception as error:
        raise DataQualityError(
            f"no feature windows at {lake.windows}: run `watchlake features` first"
        ) from error
    if versions != {FEATURE_VERSION}:
        found = sorted(versions) or "none"
        raise DataQualityError(
            f"the windows at {lake.windows} have feature version {found}, this code computes "
            f"{FEATURE_VERSION}: run `watchlake features` again"
        )
    return windows
