"""The labelled windows dataset of ``watchlake features`` as training (and batch scoring) read it."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.features.transforms import FEATURE_VERSION, LABELLED_WINDOWS
from watchlake.lake import Lake


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
