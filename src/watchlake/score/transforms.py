"""Pure steps of batch scoring: scored windows -> the predictions dataset's rows, and the (true, predicted, count)
triples its evaluation counts."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.transforms import PARTIAL, is_partial
from watchlake.labels.transforms import ACTIVITY
from watchlake.schemas import BATCH_PREDICTIONS as PREDICTIONS

KEY = "participant"
ROWS = "rows"  # the window's reading count (the ``rows`` feature, as a whole number)
PARTITIONS = (KEY,)


def to_predictions(
    scored: DataFrame, *, min_readings: int, source: str, run_id: str, scored_at: Column
) -> DataFrame:
    """Scored labelled windows (``scoring.score`` of ``to_labelled_windows``) -> PREDICTIONS columns, in order.

    ``partial`` is true for a window of fewer than ``min_readings`` readings; such windows are scored all the
    same (so every window has a prediction) but left out of the evaluation.
    """
    rows = F.col(ROWS).cast("int")
    extra = {
        ROWS: rows,
        PARTIAL: is_partial(rows, min_readings),
        "model_version": F.col("model_version").cast("int"),
        "source": F.lit(source),
        "run_id": F.lit(run_id),
        "scored_at": scored_at,
    }
    return scored.select(
        *(
            extra[field.name].alias(field.name) if field.name in extra else F.col(field.name)
            for field in PREDICTIONS
        )
    )


def select_evaluated(predictions: DataFrame, *, ignore_class: str) -> DataFrame:
    """The predictions an evaluation counts: whole (not partial) windows with a class label other than the
    ignore class (as training evaluates)."""
    return predictions.where(
        ~F.col(PARTIAL) & F.col(ACTIVITY).isNotNull() & (F.col(ACTIVITY) != ignore_class)
    )


def to_confusion_counts(evaluated: DataFrame) -> DataFrame:
    """(``activity``, ``predicted_activity``, ``count``) per pair: the input of ``classification_metrics``."""
    return evaluated.groupBy(ACTIVITY, "predicted_activity").count()
