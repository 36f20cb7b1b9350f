"""Readers of the lake's shared datasets for the stages downstream of them: the declared schema, and an error that
says which stage to run first when a dataset is missing."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.jvm import path_exists
from watchlake.lake import Lake
from watchlake.schemas import READINGS


def read_readings(spark: SparkSession, lake: Lake) -> DataFrame:
    """The processed readings; DataQualityError saying to run ``watchlake clean`` when there are none."""
    if not path_exists(spark, lake.readings):
        raise DataQualityError(f"no processed readings at {lake.readings}: run `watchlake clean` first")
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
