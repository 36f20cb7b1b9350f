"""The Kafka watch message (``WATCH_MESSAGE_V2``, see synth/MESSAGE_SCHEMA.md): JSON in and out, and readings out.

Pure DataFrame transforms shared by the producer (``watchlake generate``) and the consumer (``watchlake
predict``), so both sides read the wire format the same way. Validation of untrusted messages (dead letters) is
the consumer's business: ``watchlake.predict.messages``.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.schemas import MOTION_FIELDS, WATCH_MESSAGE_V2, WATCH_MESSAGE_VERSION, WATCH_READING

# to_json / from_json options of the message value: every field present (null as null), times in UTC with ms.
JSON_OPTIONS = {"ignoreNullFields": "false", "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"}
READING_INDEX = "reading_index"  # position of a reading in its message (0-based), kept by message_readings
_PER_MESSAGE = tuple(
    f.name
    for f in WATCH_READING.fields
    if f.name not in MOTION_FIELDS and f.name not in ("seq", "event_time")
)


def to_json_messages(messages: DataFrame) -> DataFrame:
    """Kafka records: ``key`` = device_id, ``value`` = JSON of ``WATCH_MESSAGE_V2`` (both strings).

    ``messages`` has the V2 fields except ``schema_version`` (which is added); other columns are ignored.
    """
    fields = [
        F.lit(WATCH_MESSAGE_VERSION).cast("int").alias("schema_version"),
        *(
            F.col(f.name).cast(f.dataType).alias(f.name)
            for f in WATCH_MESSAGE_V2.fields
            if f.name != "schema_version"
        ),
    ]
    return messages.select(
        F.col("device_id").alias("key"), F.to_json(F.struct(*fields), JSON_OPTIONS).alias("value")
    )


def parse_json_messages(values: DataFrame, column: str = "value") -> DataFrame:
    """The inverse of :func:`to_json_messages`: JSON strings -> ``WATCH_MESSAGE_V2`` columns (no validation)."""
    parsed = F.from_json(F.col(column).cast("string"), WATCH_MESSAGE_V2, JSON_OPTIONS)
    return values.select(parsed.alias("m")).select("m.*")


def message_readings(messages: DataFrame, *carry: str) -> DataFrame:
    """One row per reading: the ``WATCH_READING`` columns, then ``reading_index`` and the ``carry`` columns.

    Reading k of a message has ``seq + k``, ``event_time + k * interval_ms`` and element k of every motion array;
    the per-message fields (device, location, categories, true activity) repeat on each reading. Expects valid
    messages (motion arrays equally long): a shorter array's missing elements would read as null.
    """
    zipped = F.posexplode(F.arrays_zip(*(F.col(name).alias(name) for name in MOTION_FIELDS)))
    exploded = messages.select(
        "seq", "event_time", "interval_ms", *_PER_MESSAGE, *carry, zipped.alias(READING_INDEX, "_reading")
    )
    step_micros = F.col(READING_INDEX).cast("long") * F.col("interval_ms") * 1000
    return exploded.select(
        "device_id",
        (F.col("seq") + F.col(READING_INDEX)).alias("seq"),
        F.timestamp_micros(F.unix_micros("event_time") + step_micros).alias("event_time"),
        *(F.col(f"_reading.{name}").alias(name) for name in MOTION_FIELDS),
        *(name for name in _PER_MESSAGE if name != "device_id"),
        READING_INDEX,
        *carry,
    )
