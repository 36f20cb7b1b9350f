"""Pure DataFrame steps of retraining: the columns both sources share, base windows a human relabelled, and the
seeded held-out share of labelled windows.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, WINDOW_END, WINDOW_START
from watchlake.labels.transforms import ACTIVITY

KEY = "participant"
SOURCE = "source"  # "base" (Lake.windows) or "label" (the feature store)
TRAINING_COLUMNS: tuple[str, ...] = (
    KEY,
    WINDOW_START,
    WINDOW_END,
    *FEATURE_COLUMNS,
    *CATEGORICAL_COLUMNS,
    ACTIVITY,
)


def to_training_rows(windows: DataFrame, source: str) -> DataFrame:
    """``windows`` reduced to TRAINING_COLUMNS plus ``source``, so base and labelled windows union by name."""
    return windows.select(*TRAINING_COLUMNS, F.lit(source).alias(SOURCE))


def select_not_relabelled(base: DataFrame, labelled: DataFrame) -> DataFrame:
    """Base windows no annotator labelled: for a window in both, the human label wins (a left anti join on
    participant and window start)."""
    keys = labelled.select(KEY, WINDOW_START).distinct()
    return base.join(keys, on=[KEY, WINDOW_START], how="left_anti")


def split_labelled(
    labelled: DataFrame, fraction: float, seed: int, test_keys: list[str]
) -> tuple[DataFrame, DataFrame]:
    """(train, test) of the labelled windows: a window is held out when a seeded hash of (participant, window
    start) falls in the first ``fraction`` of buckets, or when its participant is one of the base split's
    ``test_keys`` (its other windows are held out: training on them would leak).

    A hash, not a count: a window keeps its side as labels accumulate, so later runs score on a superset."""
    bucket = F.pmod(F.xxhash64(F.lit(seed), F.col(KEY), F.unix_seconds(F.col(WINDOW_START))), F.lit(10_000))
    in_test = (bucket < F.lit(math.floor(fraction * 10_000))) | F.col(KEY).isin(test_keys)
    return labelled.where(~in_test), labelled.where(in_test)
