"""A proposed ``split_messages`` that parses each message once (bench ``--parse once`` swaps it into the job).

Why: in ``watchlake.predict.messages`` the filter on ``reason`` is pushed below the projection that holds
``message``, and the optimizer inlines ``from_json`` into every reference: one parse for schema_version, one per
required field in the missing-field check, one for the output, plus ``try_parse_json``: about 17 JSON parses of
each valid message (and as many again in the dead-letter query). Here the parse and the JSON check are made in a
one-element ``inline`` (a Generate), which the optimizer neither inlines nor pushes filters below, and
``try_parse_json`` runs only for messages whose fields did not all parse (a valid message is parsed once).
Same output columns and reasons as the original.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.predict.messages import ARRIVED_AT, DEAD_LETTER_MAX_CHARS, REQUIRED_FIELDS
from watchlake.schemas import WATCH_MESSAGE_V1, WATCH_MESSAGE_VERSION


def with_parse_result(messages: DataFrame, max_bytes: int) -> DataFrame:
    """Add ``raw_size``, ``message`` (parsed struct or null) and ``reason`` (null when valid)."""
    size = F.coalesce(F.length("value"), F.lit(0))
    text = F.col("value").cast("string")
    parsed = F.when(size <= max_bytes, F.from_json(text, WATCH_MESSAGE_V1, {"mode": "PERMISSIVE"}))
    once = F.inline(F.array(F.struct(size.cast("int").alias("raw_size"), parsed.alias("message"))))
    return messages.select("*", once).withColumn("reason", _reason(max_bytes))


def _reason(max_bytes: int) -> Column:
    size = F.col("raw_size")
    missing_field = F.coalesce(
        *(F.when(F.col("message")[name].isNull(), F.lit(name)) for name in REQUIRED_FIELDS)
    )
    wrong_version = F.coalesce(F.col("message.schema_version"), F.lit(-1)) != WATCH_MESSAGE_VERSION
    not_json = F.try_parse_json(F.col("value").cast("string")).isNull()
    return (
        F.when(size == 0, F.lit("empty message"))
        .when(size > max_bytes, F.lit(f"message larger than {max_bytes} bytes"))
        # Only a message that did not fully parse pays for the second (variant) parse.
        .when((wrong_version | missing_field.isNotNull()) & not_json, F.lit("not a JSON document"))
        .when(wrong_version, F.lit(f"schema_version is not {WATCH_MESSAGE_VERSION}"))
        .when(missing_field.isNotNull(), F.concat(F.lit("missing or mistyped field: "), missing_field))
    )


def split_messages(messages: DataFrame, max_bytes: int) -> tuple[DataFrame, DataFrame]:
    """Same contract as ``watchlake.predict.messages.split_messages``."""
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
