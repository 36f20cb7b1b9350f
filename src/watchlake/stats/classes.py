"""The activity class of every reading, as the statistics need it: CASAS label spreading + the raw->class mapping
of ``watchlake.labels``. Rows that are unlabelled or map to the ignore class get a NULL class (they still count in
the overall scope)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.labels.mapping import LabelMapping
from watchlake.labels.transforms import ACTIVITY, LABEL_RAW, LABEL_STAMP, with_activity, with_spread_labels
from watchlake.stats.transforms import CLASS_COLUMN


def with_activity_class(readings: DataFrame, span_seconds: float, mapping: LabelMapping) -> DataFrame:
    """Adds ``activity_class`` (string, NULL = unlabelled or ignored) to readings with ``participant``, ``stamp``
    and ``user_activity_label``; all other columns are kept."""
    classed = with_activity(with_spread_labels(readings, span_seconds), mapping)
    activity = F.col(ACTIVITY)
    return classed.withColumn(CLASS_COLUMN, F.when(activity != mapping.ignore, activity)).drop(
        LABEL_RAW, LABEL_STAMP, ACTIVITY
    )
