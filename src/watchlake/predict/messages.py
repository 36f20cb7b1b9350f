"""Parse and validate Kafka watch messages (``WATCH_MESSAGE_V2``) into window assembler rows; pure transforms,
testable without a stream.

Input: frames with the Kafka source columns (``key``, ``value`` binary, ``topic``, ``partition``, ``offset``,
``timestamp``). A message is valid when it is at most ``max_bytes`` long, is one JSON object in UTF-8 without
duplicate keys or unpaired UTF-16 surrogate escapes, carries the supported ``schema_version``, has every required
field with its JSON type (never coerced: a number is not a string, a string is not a number), holds only finite
numbers, and its motion arrays are equally long, not empty, at most ``MAX_READINGS_PER_MESSAGE`` long and free of
nulls, with a positive ``interval_ms``, spanning at most one second (readings x ``interval_ms`` <=
``MAX_MESSAGE_MILLIS``). Anything else becomes a dead letter with its raw bytes, position and the first reason
that applies (``MESSAGE_SCHEMA.md`` lists them in order). A valid message becomes the partials of its second.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.assembly import assembler_input
from watchlake.features.partials import message_partials
from watchlake.predict.message_fields import (
    RAW_MESSAGE,
    TEXT_FIELDS,
    VARIANT_FIELDS,
    document_kind,
    field_problem,
    non_finite_reason,
    typed_message,
)
from watchlake.schemas import MOTION_FIELDS, WATCH_MESSAGE_V2, WATCH_MESSAGE_VERSION

# Raw payloads kept in a dead letter are cut to this many characters (the warehouse column's size).
DEAD_LETTER_MAX_CHARS = 65_535
# A message holds one second of one watch (10 readings at 10 Hz). 1000 leaves room for faster sensors or longer
# batches (1 s at 1 kHz, 100 s at 10 Hz) while bounding the work and memory one hostile message can cause.
MAX_READINGS_PER_MESSAGE = 1000
# The warehouse keys rows by device_id (VARCHAR(64)): an id it cannot store would fail every write of the batch.
MAX_DEVICE_ID_CHARS = 64
DEVICE_ID_PATTERN = rf"^[^\p{{Cc}}]{{1,{MAX_DEVICE_ID_CHARS}}}$"
# A message is one run of readings inside one second: the window assembler places it by its first reading.
MAX_MESSAGE_MILLIS = 1000

REQUIRED_FIELDS: tuple[str, ...] = tuple(
    field.name for field in WATCH_MESSAGE_V2.fields if not field.nullable
)
# A JSON \uXXXX escape of a UTF-16 surrogate, a valid high-low pair of them, and an escaped backslash (regexes).
_SURROGATE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
_SURROGATE_PAIR = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_ESCAPED_BACKSLASH = r"\\\\"
# The raw JSON text of the string value of key {} (the name is one of the schema's: letters and underscores).
_RAW_STRING_VALUE = r'"{}"\s*:\s*"((?:[^"\\]|\\.)*)"'
NOT_UNICODE = "is not valid Unicode text (an unpaired UTF-16 surrogate escape)"


def with_parse_result(messages: DataFrame, max_bytes: int) -> DataFrame:
    """Add ``raw_size``, ``raw`` (the fields as parsed: strings, times and optional numbers as variants),
    ``message`` (the ``WATCH_MESSAGE_V2`` struct), ``json_types``, ``keys`` (the object's keys in order, null
    when the value is not a strict JSON object) and ``reason`` (null when the message is valid).

    Each message is parsed once: the parse sits in a one-element ``inline`` (a Generate), which the optimizer
    neither copies into the ``reason`` references nor pushes the reason filter below. As plain columns, the filter
    was pushed under the projection and ``from_json`` inlined into every reference (about 17 parses of each valid
    message, measured in bench/predict). A second Generate types the fields once, from the first one's output.
    ``try_parse_json`` runs only for messages whose keys could not be read.
    """
    size = F.coalesce(F.length("value"), F.lit(0))
    text = F.col("value").cast("string")
    parsed = F.when(size <= max_bytes, F.from_json(text, RAW_MESSAGE, {"mode": "PERMISSIVE"}))
    once = F.inline(F.array(F.struct(size.cast("int").alias("raw_size"), parsed.alias("raw"))))
    raw = F.col("raw")
    types = F.struct(*(F.schema_of_variant(raw[name]).alias(name) for name in VARIANT_FIELDS))
    keys = F.when(F.col("raw_size") <= max_bytes, F.json_object_keys(text))
    typed = F.inline(
        F.array(
            F.struct(
                typed_message(raw, types).alias("message"), types.alias("json_types"), keys.alias("keys")
            )
        )
    )
    return messages.select("*", once).select("*", typed).withColumn("reason", _reason(max_bytes))


def _reason(max_bytes: int) -> Column:
    """The first rule a message breaks, as a sentence; null when it breaks none (CASE stops at the first match)."""
    size, text, keys = F.col("raw_size"), F.col("value").cast("string"), F.col("keys")
    lengths = [F.size(F.col("message")[name]) for name in MOTION_FIELDS]
    readings = lengths[0]  # once the lengths are known to be equal
    non_finite = non_finite_reason(text)
    version = F.col("message.schema_version")
    field = F.coalesce(*(field_problem(f) for f in WATCH_MESSAGE_V2.fields if f.name != "schema_version"))
    null_in = _first_with_null()
    return (
        F.when(size == 0, F.lit("empty message"))
        .when(size > max_bytes, F.lit(f"message larger than {max_bytes} bytes"))
        # Before the JSON checks: a bare NaN or Infinity, which Spark reads, makes the document strict-invalid.
        .when(non_finite.isNotNull(), non_finite)
        .when(keys.isNull() & F.try_parse_json(text).isNull(), F.lit("not a JSON document"))
        .when(
            keys.isNull(),
            F.concat(
                F.lit("the message is "), document_kind(_top_level_type(text)), F.lit(", not an object")
            ),
        )
        .when(~F.is_valid_utf8(text), F.lit("not UTF-8 text"))
        .when(
            F.size(keys) > F.size(F.array_distinct(keys)),
            F.concat(F.lit("duplicate key '"), _first_duplicate(keys), F.lit("'")),
        )
        .when(
            text.contains("\\u") & _lone_surrogate(text),
            F.concat(_not_unicode_field(text), F.lit(f" {NOT_UNICODE}")),
        )
        .when(
            version.isNull() & ~F.array_contains(keys, "schema_version"),
            F.lit("missing field: schema_version"),
        )
        .when(
            F.coalesce(version, F.lit(-1)) != WATCH_MESSAGE_VERSION,
            F.lit(f"schema_version is not {WATCH_MESSAGE_VERSION}"),
        )
        .when(field.isNotNull(), field)
        .when(
            ~F.col("message.device_id").rlike(DEVICE_ID_PATTERN),
            F.lit(f"device_id is not 1-{MAX_DEVICE_ID_CHARS} characters without control characters"),
        )
        .when(F.greatest(*lengths) != F.least(*lengths), F.lit("motion arrays differ in length"))
        .when(readings == 0, F.lit("motion arrays are empty"))
        .when(
            readings > MAX_READINGS_PER_MESSAGE,
            F.lit(f"motion arrays hold more than {MAX_READINGS_PER_MESSAGE} readings"),
        )
        .when(null_in.isNotNull(), F.concat(F.lit("null reading in motion array: "), null_in))
        .when(F.col("message.interval_ms") <= 0, F.lit("interval_ms is not positive"))
        .when(
            readings * F.col("message.interval_ms") > MAX_MESSAGE_MILLIS,
            F.lit(f"readings span more than {MAX_MESSAGE_MILLIS} ms"),
        )
    )


def _top_level_type(text: Column) -> Column:
    return F.schema_of_variant(F.try_parse_json(text))


def _first_duplicate(keys: Column) -> Column:
    """The first key that appears a second time (only evaluated for objects that have one)."""
    return F.filter(keys, lambda key, i: F.array_position(keys, key) <= i)[0]


def _lone_surrogate(text: Column) -> Column:
    """True when a string of the JSON text holds a surrogate escape outside a high-low pair. Spark would store it
    as '?', so two ids could collapse into one. Escaped backslashes go first (``\\\\ud800`` is not an escape),
    then the valid pairs; any surrogate escape left is unpaired."""
    unescaped = F.regexp_replace(text, _ESCAPED_BACKSLASH, "")
    return F.regexp_replace(unescaped, _SURROGATE_PAIR, "").rlike(_SURROGATE)


def _not_unicode_field(text: Column) -> Column:
    """Which string field holds the unpaired surrogate escape (its raw JSON text, read by a regex: Spark's parse
    has already replaced the escape), or "a string of the message" when none of the schema's does. Only
    evaluated for messages that hold one."""
    named = (
        F.when(_lone_surrogate(F.regexp_extract(text, _RAW_STRING_VALUE.format(name), 1)), F.lit(name))
        for name in TEXT_FIELDS
    )
    return F.coalesce(*named, F.lit("a string of the message"))


def _first_with_null() -> Column:
    """The name of the first motion array holding a null element, or null when none does.

    ``exists`` runs its lambda interpreted, yet measured cheapest (bench of 40k 10-reading messages, parse + checks
    + explode): no slower than no check at all, where a lambda-free ``array_intersect`` with ``[null]`` doubled
    the time (it builds a hash set per array)."""
    return F.coalesce(
        *(
            F.when(F.exists(F.col("message")[name], lambda reading: reading.isNull()), F.lit(name))
            for name in MOTION_FIELDS
        )
    )


def _position() -> list[Column]:
    """Where a message is in Kafka and when it arrived: the DEAD_LETTERS fields every message has."""
    return [
        F.col("topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("raw_size"),
        F.col("timestamp").alias("received_at"),
    ]


def _dead_letter(max_chars: int = DEAD_LETTER_MAX_CHARS) -> Column:
    """The DEAD_LETTERS fields of a checked message, as a struct."""
    raw_value = F.substring(F.col("value").cast("string"), 1, max_chars).alias("raw_value")
    return F.struct(*_position(), raw_value, F.col("reason"))


def _origin() -> Column:
    """Where a valid message is in Kafka, for a dead letter if it arrives after its windows were scored."""
    return F.struct(*_position(), F.col("message.event_time").alias("event_time"))


def to_assembler_rows(messages: DataFrame, max_bytes: int) -> DataFrame:
    """Kafka messages -> window assembler input (``watchlake.features.assembly.assembler_input``), one row each.

    A valid message becomes the partials of its second, keyed by ``device_id``, at the second of its first reading
    (a message belongs to the window of its first reading), arrived at its Kafka timestamp. An invalid one becomes
    a passthrough struct of the DEAD_LETTERS columns: topic, kafka_partition, kafka_offset, raw_value (cut to
    ``DEAD_LETTER_MAX_CHARS``), raw_size, reason, received_at. Each message is parsed once for both. A valid
    message carries its Kafka position as ``origin``, which the assembler returns if the message comes late.
    """
    checked = with_parse_result(messages, max_bytes)
    valid = F.col("reason").isNull()
    message = F.col("message")
    event_time = F.when(
        valid, message["event_time"]
    )  # a dead letter has none: it must not move the watermark
    return checked.select(
        *assembler_input(
            key=F.when(valid, message["device_id"]).otherwise(F.lit("")),
            second=F.floor(F.unix_micros(event_time) / 1_000_000),
            arrived_at=F.col("timestamp"),
            event_time=event_time,
            partials=F.when(valid, message_partials(message)),
            origin=F.when(valid, _origin()),
            passthrough=F.when(~valid, _dead_letter()),
        )
    )
