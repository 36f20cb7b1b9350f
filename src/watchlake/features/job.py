"""The features stage: processed readings -> labelled feature windows, the dataset training reads.

Labels are spread over their span and mapped to classes (``labels.*``), readings are cut into event-time windows
(``features.*``) and every window gets the features prediction computes for the stream. Partial windows (fewer
readings than ``features.min_readings_share`` of the expected) are left out. The windows are written
to ``Lake.windows`` (replaced on every run) with the declared ``LABELLED_WINDOWS`` schema and the feature version.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from watchlake.catalog import check_written_schema, register_table
from watchlake.datasets import read_readings
from watchlake.features.transforms import (
    FEATURE_VERSION,
    LABELLED_WINDOWS,
    is_partial,
    min_readings,
    to_labelled_windows,
)
from watchlake.labels.mapping import LabelMapping, load_mapping
from watchlake.labels.transforms import ACTIVITY, to_unmapped_labels
from watchlake.lake import Lake
from watchlake.settings import Settings

log = logging.getLogger(__name__)
KEY = "participant"


@dataclass(frozen=True)
class FeaturesResult:
    windows: int
    labelled: int  # windows with a class label (the ignore class included)
    partial: int  # windows left out for holding fewer than min_readings readings
    min_readings: int
    participants: int
    feature_version: int
    path: str
    table: str | None
    seconds: float


def run(settings: Settings, spark: SparkSession) -> FeaturesResult:
    """Build and write the labelled windows of ``Lake.readings``; DataQualityError when nothing is cleaned."""
    started = time.monotonic()
    lake = Lake.from_settings(settings)
    readings = read_readings(spark, lake)
    mapping = load_mapping(settings.labels.mapping_file)
    _log_unmapped(readings, mapping)
    windows = to_labelled_windows(
        readings,
        mapping,
        span_seconds=settings.labels.span_seconds,
        window_seconds=settings.features.window_seconds,
        step_seconds=settings.features.step_seconds,
        key_col=KEY,
    ).withColumn("feature_version", F.lit(FEATURE_VERSION))
    fewest = min_readings(settings.features.window_seconds, settings.features.min_readings_share)
    # Partial windows (a lone labelled last row, a gap) would be trained on as if they were whole: left out.
    seen = Observation("partial")
    observed = windows.observe(seen, F.count_if(is_partial(F.col("rows"), fewest)).alias("partial"))
    whole = observed.where(~is_partial(F.col("rows"), fewest))
    whole.select(*LABELLED_WINDOWS.fieldNames()).write.mode("overwrite").parquet(lake.windows)
    partial = int(seen.get["partial"])
    written = spark.read.schema(LABELLED_WINDOWS).parquet(lake.windows)
    counts = written.agg(
        F.count(F.lit(1)).alias("windows"),
        F.count(ACTIVITY).alias("labelled"),
        F.count_distinct(KEY).alias("participants"),
    ).first()
    check_written_schema(spark, lake.windows, LABELLED_WINDOWS, counts["windows"])
    table = None
    if settings.catalog.kind != "none":
        table = lake.table("windows")
        register_table(spark, table, lake.windows, LABELLED_WINDOWS, ())
    log.info(
        "features: %d windows (%d labelled) written to %s; %d partial windows (< %d readings) left out",
        counts["windows"],
        counts["labelled"],
        lake.windows,
        partial,
        fewest,
    )
    return FeaturesResult(
        windows=counts["windows"],
        labelled=counts["labelled"],
        partial=partial,
        min_readings=fewest,
        participants=counts["participants"],
        feature_version=FEATURE_VERSION,
        path=lake.windows,
        table=table,
        seconds=round(time.monotonic() - started, 3),
    )


def _log_unmapped(readings: DataFrame, mapping: LabelMapping) -> None:
    unknown = {row.label: row.prompts for row in to_unmapped_labels(readings, mapping).collect()}
    if unknown:
        log.warning(
            "labels: %d prompts with %d raw labels not in the mapping, treated as %s: %s",
            sum(unknown.values()),
            len(unknown),
            mapping.ignore,
            dict(sorted(unknown.items())[:20]),
        )
