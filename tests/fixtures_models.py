"""Tiny synthetic feature windows and a fitted activity model, for registry, scoring and streaming tests.

``tiny_windows(spark)`` gives windows with every FEATURE_COLUMNS / CATEGORICAL_COLUMNS column and an ``activity``
label that depends on ``user_acceleration_x_mean`` (Relax < 0.33 <= Work < 0.66 <= Exercise), so a model can learn
it. ``tiny_model`` (session scope) is a small random forest fitted on them.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql import functions as F

from watchlake.features.transforms import FEATURE_COLUMNS

CLASSES = ("Exercise", "Relax", "Work")


def tiny_windows(spark: Any, rows: int = 240, participants: int = 6, seed: int = 3) -> Any:
    """Windows of ``participants`` participants, one per minute, random features, a learnable label."""
    base = spark.range(rows).select(
        F.concat(F.lit("p"), (F.col("id") % participants).cast("string")).alias("participant"),
        F.timestamp_seconds(F.lit(1_577_836_800) + F.col("id") * 60).alias("window_start"),
        F.col("id"),
    )
    features = [F.rand(seed + i).alias(name) for i, name in enumerate(FEATURE_COLUMNS)]
    windows = base.select(
        "participant",
        "window_start",
        (F.col("window_start") + F.expr("INTERVAL 60 SECONDS")).alias("window_end"),
        *features,
        F.element_at(
            F.array(*[F.lit(v) for v in ("house", "road", "work")]), (F.col("id") % 3 + 1).cast("int")
        ).alias("location_type_mode"),
    )
    x = F.col("user_acceleration_x_mean")
    return windows.withColumn(
        "activity", F.when(x < 0.33, "Relax").when(x < 0.66, "Work").otherwise("Exercise")
    ).withColumn("class_weight", F.lit(1.0))


@pytest.fixture(scope="session")
def tiny_model(spark: Any) -> Any:
    """A TrainedModel (20 trees, depth 5) fitted on tiny_windows."""
    from watchlake.settings import TrainSettings
    from watchlake.train.pipeline import fit_pipeline

    windows = tiny_windows(spark).cache()
    return fit_pipeline(windows, TrainSettings(num_trees=20, max_depth=5), label_col="activity")
