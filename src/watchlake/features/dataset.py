"""The labelled windows dataset of ``watchlake features`` as training (and batch scoring) read it."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.features.transforms import FEATURE_VERSION, LABELLED_WINDOWS
from watchlake.jvm import path_exists
from watchlake.lake import Lake


def read_windows(spark: SparkSession, lake: Lake) -> DataFrame:
    """The labelled windows of ``watchlake features``; DataQualityError when they are missing or were computed
    by another feature version (both mean: run ``watchlake features``)."""
    missing = DataQualityError(f"no feature windows at {lake.windows}: run `watchlake features` first")
    if not path_exists(spark, lake.windows):
        raise missing
    try:
        windows = spark.read.schema(LABELLED_WINDOWS).parquet(lake.windows)
        versions = {row[0] for row in windows.select("feature_version").distinct().collect()}
    except Exception as error:
        raise missing from error
    if not versions:
        raise DataQualityError(
            f"the features stage wrote no windows at {lake.windows}: every window had fewer readings than "
            "features.min_readings_share of the expected 10 Hz ones, or there are no readings; check the "
            "processed readings and run `watchlake features` again"
        )
    if versions != {FEATURE_VERSION}:
        found = sorted(versions)
        raise DataQualityError(
            f"the windows at {lake.windows} have feature version {found}, this code computes "
            f"{FEATURE_VERSION}: run `watchlake features` again"
        )
    return windows
