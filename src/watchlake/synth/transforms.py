"""Pure transforms of generated rows (``GENERATED_COLUMNS``): Kafka messages, CASAS lines, classed readings."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.schemas import (
    CASAS_FIELDS,
    CASAS_TYPES,
    FLOAT_FIELDS,
    WATCH_MESSAGE_V1,
    WATCH_MESSAGE_VERSION,
)
from watchlake.synth.plan import TICK_SECONDS

# to_json options of the message value: every field present (null as null), times in UTC with milliseconds.
JSON_OPTIONS = {"ignoreNullFields": "false", "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}
CASAS_STAMP = "yyyy-MM-dd HH:mm:ss.SSSSSS"
PARTICIPANT_BASE = 90_000  # synthetic device i is CASAS participant p(90000 + i): no clash with sw1.p1-p49


def to_watch_messages(generated: DataFrame) -> DataFrame:
    """Kafka records: ``key`` = device_id, ``value`` = JSON of ``WATCH_MESSAGE_V1`` (both strings)."""
    fields = [
        F.lit(WATCH_MESSAGE_VERSION).cast("int").alias("schema_version"),
        *(
            F.col(f.name).cast(f.dataType).alias(f.name)
            for f in WATCH_MESSAGE_V1.fields
            if f.name != "schema_version"
        ),
    ]
    return generated.select(
        F.col("device_id").alias("key"), F.to_json(F.struct(*fields), JSON_OPTIONS).alias("value")
    )


def parse_watch_messages(values: DataFrame, column: str = "value") -> DataFrame:
    """The inverse of :func:`to_watch_messages`: JSON strings -> ``WATCH_MESSAGE_V1`` columns."""
    parsed = F.from_json(F.col(column).cast("string"), WATCH_MESSAGE_V1, JSON_OPTIONS)
    return values.select(parsed.alias("m")).select("m.*")


def _csv_field(value: Column) -> Column:
    # The excel dialect quotes a field only when it holds a comma, a quote or a line break.
    quoted = F.concat(F.lit('"'), F.replace(value, F.lit('"'), F.lit('""')), F.lit('"'))
    return F.coalesce(F.when(value.rlike('[",\r\n]'), quoted).otherwise(value), F.lit(""))


def with_label_rows(generated: DataFrame, span_seconds: float) -> DataFrame:
    """Adds ``user_activity_label``: the true activity on a segment's last row and every ``span_seconds`` before
    it, as a CASAS prompt answer would sit, so label spreading recovers every row's class."""
    span_ticks = max(1, round(span_seconds / TICK_SECONDS))
    on_prompt = F.pmod(F.col("ticks_left"), F.lit(span_ticks)) == 0
    return generated.withColumn("user_activity_label", F.when(on_prompt, F.col("true_activity")))


def to_casas_lines(labelled: DataFrame, participant_base: int = PARTICIPANT_BASE) -> DataFrame:
    """One CASAS CSV line per row (``participant``, ``seq``, ``line``) plus the two header rows (seq -2, -1).

    Floats are rounded to 6 decimals and written as Spark prints doubles (``0.25``, ``1.0E-5``), which every
    CASAS reader parses; stamps have 6 fractional digits. Line endings are added by the writer.
    """
    participant = F.concat(F.lit("p"), (F.col("device_index") + participant_base).cast("string"))
    values: list[Column] = []
    for name in CASAS_FIELDS:
        if name == "stamp":
            values.append(F.date_format("event_time", CASAS_STAMP))
        elif name in FLOAT_FIELDS:
            values.append(F.coalesce(F.round(F.col(name), 6).cast("string"), F.lit("")))
        else:
            values.append(_csv_field(F.col(name)))
    rows = labelled.select(participant.alias("participant"), "seq", F.concat_ws(",", *values).alias("line"))
    headers = (
        rows.select("participant")
        .distinct()
        .crossJoin(
            labelled.sparkSession.createDataFrame(
                [(-2, ",".join(CASAS_FIELDS)), (-1, ",".join(CASAS_TYPES))], "seq long, line string"
            )
        )
    )
    return rows.unionByName(headers)


def to_classed_readings(generated: DataFrame) -> DataFrame:
    """Generated rows shaped like classed processed readings (``participant`` = device_id, ``stamp`` =
    event_time, ``activity_class`` = true activity), for computing their statistics like the real ones."""
    return generated.select(
        F.col("device_id").alias("participant"),
        F.col("event_time").alias("stamp"),
        *(F.col(name) for name in CASAS_FIELDS[1:-1]),
        F.lit(None).cast("string").alias("user_activity_label"),
        F.col("true_activity").alias("activity_class"),
    )
