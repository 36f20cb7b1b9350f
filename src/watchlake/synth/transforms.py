"""Pure transforms of generated messages (``GENERATED_COLUMNS``): readings, CASAS lines, classed readings.

Kafka records of the messages are ``watchlake.messages.to_json_messages`` (the wire format both sides share).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.casas.format import HEADER_LINE, STAMP_PATTERN, TYPES_LINE
from watchlake.messages import READING_INDEX, message_readings
from watchlake.schemas import CASAS_FIELDS, FLOAT_FIELDS
from watchlake.synth.plan import TICK_SECONDS

PARTICIPANT_BASE = 90_000  # synthetic device i is CASAS participant p(90000 + i): no clash with sw1.p1-p49


def to_readings(generated: DataFrame) -> DataFrame:
    """One row per reading: the ``WATCH_READING`` columns plus ``device_index``, ``segment_id`` and the
    reading's own ``ticks_left`` (the same unpacking the predictor applies to messages from Kafka)."""
    readings = message_readings(generated, "device_index", "segment_id", "ticks_left")
    return readings.withColumn("ticks_left", F.col("ticks_left") - F.col(READING_INDEX)).drop(READING_INDEX)


def _csv_field(value: Column) -> Column:
    # The excel dialect quotes a field only when it holds a comma, a quote or a line break.
    quoted = F.concat(F.lit('"'), F.replace(value, F.lit('"'), F.lit('""')), F.lit('"'))
    return F.coalesce(F.when(value.rlike('[",\r\n]'), quoted).otherwise(value), F.lit(""))


def with_label_rows(readings: DataFrame, span_seconds: float) -> DataFrame:
    """Adds ``user_activity_label``: the true activity on a segment's last row and every ``span_seconds`` before
    it, as a CASAS prompt answer would sit, so label spreading recovers every row's class."""
    span_ticks = max(1, round(span_seconds / TICK_SECONDS))
    on_prompt = F.pmod(F.col("ticks_left"), F.lit(span_ticks)) == 0
    return readings.withColumn("user_activity_label", F.when(on_prompt, F.col("true_activity")))


def to_casas_lines(labelled: DataFrame, participant_base: int = PARTICIPANT_BASE) -> DataFrame:
    """One CASAS CSV line per row (``participant``, ``seq``, ``line``) plus the two header rows (seq -2, -1).

    Floats are written as Spark prints doubles (``0.25``, ``1.0E-5``), which every CASAS reader parses: the motion
    axes as generated (6 decimals), location values whole (they can vary by less than 1e-6 within a class).
    Stamps have 6 fractional digits. Line endings are added by the writer.
    """
    participant = F.concat(F.lit("p"), (F.col("device_index") + participant_base).cast("string"))
    values: list[Column] = []
    for name in CASAS_FIELDS:
        if name == "stamp":
            values.append(F.date_format("event_time", STAMP_PATTERN))
        elif name in FLOAT_FIELDS:
            values.append(F.coalesce(F.col(name).cast("string"), F.lit("")))
        else:
            values.append(_csv_field(F.col(name)))
    rows = labelled.select(participant.alias("participant"), "seq", F.concat_ws(",", *values).alias("line"))
    headers = (
        rows.select("participant")
        .distinct()
        .crossJoin(
            labelled.sparkSession.createDataFrame(
                [(-2, HEADER_LINE), (-1, TYPES_LINE)], "seq long, line string"
            )
        )
    )
    return rows.unionByName(headers)


def to_classed_readings(readings: DataFrame) -> DataFrame:
    """Generated readings shaped like classed processed readings (``participant`` = device_id, ``stamp`` =
    event_time, ``activity_class`` = true activity), for computing their statistics like the real ones."""
    return readings.select(
        F.col("device_id").alias("participant"),
        F.col("event_time").alias("stamp"),
        *(F.col(name) for name in CASAS_FIELDS[1:-1]),
        F.lit(None).cast("string").alias("user_activity_label"),
        F.col("true_activity").alias("activity_class"),
    )
