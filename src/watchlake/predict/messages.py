"""Parse and validate Kafka watch messages (schema ``WATCH_MESSAGE_V1``); pure transforms, testable without a stream.

Input: frames with the Kafka source columns (``key``, ``value`` binary, ``topic``, ``partition``, ``offset``,
``timestamp``). A message is valid when it is at most ``max_bytes`` long, is JSON, carries the supported
``schema_version`` and has every required field with the right type; anything else becomes a dead letter with
its raw bytes, position and the first reason that applies.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.schemas import WATCH_MESSAGE_V1, WATCH_MESSAGE_VERSION

# Raw payloads kept in a dead letter are cut to this many characters (the warehouse column's size).
DEAD_LETTER_MAX_CHARS = 65_535
ARRIVED_AT = "arrived_at"

REQUIRED_FIELDS: tuple[str, ...] = tuple(
    field.name for field in WATCH_MESSAGE_V1.fields if not field.nullable
)


def with_parse_result(messages: DataFrame, max_bytes: int) -> DataFrame:
    """Add ``message`` (the parsed struct, or null) and ``reason`` (null when the message is valid)."""
    size = F.coalesce(F.length("value"), F.lit(0))
    text = F.col("value").cast("string")
    parsed = F.from_json(text, WATCH_MESSAGE_V1, {"mode": "PERMISSIVE"})
    return (
        messages.withColumn("raw_size", size.cast("int"))
        .withColumn("message", F.when(size <= max_bytes, parsed))
        .withColumn("reason", _reason(size, text, max_bytes))
    )


def _reason(size: Column, text: Column, max_bytes: int) -> Column:
    missing_field = F.coalesce(
        *(F.when(F.col("message")[name].isNull(), F.lit(name)) for name in REQUIRED_FIELDS)
    )
    return (
        F.when(size == 0, F.lit("empty message"))
        .when(
            size > max_bytes, F.concat(F.lit("message larger than "), F.lit(str(max_bytes)), F.lit(" bytes"))
        )
        .when(F.try_parse_json(text).isNull(), F.lit("not a JSON document"))
        .when(
            F.coalesce(F.col("message.schema_version"), F.lit(-1)) != WATCH_MESSAGE_VERSION,
            F.lit(f"schema_version is not {WATCH_MESSAGE_VERSION}"),
        )
        .when(missing_field.isNotNull(), F.concat(F.lit("missing or mistyped field: "), missing_field))
    )


def split_messages(messages: DataFrame, max_bytes: int) -> tuple[DataFrame, DataFrame]:
    """Return ``(readings, dead_letters)``.

    ``readings``: the message fields plus ``arrived_at`` (the Kafka timestamp). ``dead_letters``: topic,
    kafka_partition, kafka_offset, raw_value (cut to ``DEAD_LETTER_MAX_CHARS``), raw_size, reason, received_at.
    """
    checked = with_parse_result(messages, max_bytes)
    readings = checked.where(F.col("reason").isNull()).select(
        "message.*", F.col("timestamp").alias(ARRIVED_AT)
    )
    dead_letters = checked.where(F.col("reason").isNotNull()).select(
        "topic",
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.substring(F.col("value").cast("string"), 1, DEAD_LETTER_MAX_CHARS).alias("raw_value"),
        "raw_size",
        "reason",
        F.col("timestamp").alias("received_at"),
    )
    return readings, dead_letters
