"""Batch-only label transforms: spread each CASAS single-row label over the span before it, map raw -> class.

Spreading rule (CASAS): a label written on the row at time ``t`` covers the rows of the same participant with
``t - span <= stamp <= t``. Where spans overlap, the earlier label keeps its rows: a row belongs to the *first*
label at or after it, and only if that label is at most ``span`` seconds later. Rows after a participant's last
label, or further than ``span`` before the next one, stay unlabelled (null).

Time jumping backwards (e.g. a daylight-saving change): the cleaned readings carry no file order, only stamps, so
rows are ordered by stamp (event time). A label therefore reaches back ``span`` seconds of *stamp time*, never to a
row stamped after it, whatever the file order was; rows of a repeated interval are interleaved by stamp. Rows with
equal stamps: a label row at ``t`` labels every row stamped ``t``; two labels on one stamp resolve
deterministically (alphabetically last raw label wins the unlabelled peers).

Uses window functions over a descending, growing frame (``last`` ignoring nulls), which Spark evaluates in one
pass per participant; no Python UDFs. Not for streaming.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from watchlake.labels.mapping import LabelMapping

LABEL_RAW = "label_raw"
LABEL_STAMP = "label_stamp"
ACTIVITY = "activity"


def _raw_label(label_col: str) -> Column:
    return F.nullif(F.trim(F.col(label_col)), F.lit(""))


def with_spread_labels(
    readings: DataFrame,
    span_seconds: float,
    *,
    key_col: str = "participant",
    time_col: str = "stamp",
    label_col: str = "user_activity_label",
) -> DataFrame:
    """Add ``label_raw`` (trimmed raw label of the prompt the row belongs to) and ``label_stamp`` (that prompt's time).

    Both are null for unlabelled rows. Blank labels count as no label. All input columns are kept; rows are
    neither added nor dropped.
    """
    raw = _raw_label(label_col)
    has_label = raw.isNotNull()
    prompt = F.when(has_label, F.struct(F.col(time_col).alias("at"), raw.alias("raw")))
    # Descending time, label rows before unlabelled peers: the last prompt seen so far is the next one at or after.
    later_first = (
        Window.partitionBy(key_col)
        .orderBy(F.col(time_col).desc(), has_label.desc(), raw.asc_nulls_last())
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    next_prompt = F.last(prompt, ignorenulls=True).over(later_first)
    span_micros = round(span_seconds * 1_000_000)
    within = (F.unix_micros(next_prompt["at"]) - F.unix_micros(F.col(time_col))) <= F.lit(span_micros)
    return (
        readings.withColumn("_next_prompt", next_prompt)
        .withColumn(LABEL_RAW, F.when(within, F.col("_next_prompt.raw")))
        .withColumn(LABEL_STAMP, F.when(within, F.col("_next_prompt.at")))
        .drop("_next_prompt")
    )


def with_activity(
    labelled: DataFrame, mapping: LabelMapping, *, raw_col: str = LABEL_RAW, out_col: str = ACTIVITY
) -> DataFrame:
    """Add ``activity``: the class of ``raw_col`` through ``mapping`` (null when unlabelled; unknown -> Ignore)."""
    return labelled.withColumn(out_col, mapping.class_col(F.col(raw_col)))


def to_unmapped_labels(
    readings: DataFrame, mapping: LabelMapping, *, label_col: str = "user_activity_label"
) -> DataFrame:
    """Raw labels the mapping does not know, with the number of prompts (label rows) each: ``label``, ``prompts``."""
    raw = _raw_label(label_col)
    return (
        readings.where(raw.isNotNull() & ~mapping.known_col(raw))
        .groupBy(raw.alias("label"))
        .agg(F.count(F.lit(1)).alias("prompts"))
    )
