"""Property tests of the predictor's message validator (``watchlake.predict.messages``, the Spark transforms the
stream runs): any Kafka value is kept or set aside with a reason, never both, never a crash; a valid message is
kept and its values come out exactly as sent.

The validator is Spark column expressions, so each example is a batch of messages checked in one Spark job
(one job per message would cost a second each).
"""

from __future__ import annotations

import json
import math
import struct
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchlake.features.assembly import PARTIALS, PASSTHROUGH
from watchlake.predict.messages import to_assembler_rows, with_parse_result
from watchlake.schemas import MOTION_FIELDS

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

KAFKA_DDL = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
MAX_BYTES = 16_384
EXAMPLES = 8  # batches per property; each holds up to BATCH messages
BATCH = 50
OPTIONAL_NUMBERS = (
    "latitude_distance_from_mean",
    "longitude_distance_from_mean",
    "altitude_distance_from_mean",
    "course",
    "speed",
    "horizontal_accuracy",
    "vertical_accuracy",
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
# Ids the schema allows: 1-64 characters, no control characters, no lone surrogates (any other Unicode).
DEVICE_IDS = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=64)
TIMES = st.datetimes(datetime(1971, 1, 1), datetime(2200, 1, 1)).map(
    lambda when: when.replace(microsecond=when.microsecond // 1000 * 1000)
)


@st.composite
def valid_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A message of the schema with random values in every field's range."""
    interval = draw(st.integers(1, 1000))
    readings = draw(st.integers(1, min(1000 // interval, 20)))
    body: dict[str, Any] = {
        "schema_version": 2,
        "device_id": draw(DEVICE_IDS),
        "seq": draw(st.integers(-(2**63), 2**63 - 1)),
        "event_time": draw(TIMES).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "interval_ms": interval,
    }
    for axis in MOTION_FIELDS:
        body[axis] = draw(st.lists(FINITE, min_size=readings, max_size=readings))
    body["location_type"] = draw(st.none() | st.text(max_size=20))
    for name in OPTIONAL_NUMBERS:
        if draw(st.booleans()):  # optional: null, left out, or a number
            body[name] = draw(st.none() | FINITE)
    body["battery_state"] = draw(st.none() | st.sampled_from(["unplugged", "charging", "full", "unknown"]))
    body["true_activity"] = draw(st.text(max_size=20))
    return body


def encode(body: Any, ascii_only: bool) -> bytes:
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
TEXT_TRICKS = st.sampled_from(
    [
        ("", ""),  # unchanged
        ('"yaw": [', '"yaw": [NaN, '),
        ('"pitch": [', '"pitch": ["Infinity", '),
        ('"roll": [', '"roll": [1e400, '),
        ('{"schema_version"', '{"device_id": "twice", "schema_version"'),
        ('"device_id": "', '"device_id": "\\ud800'),
        ('"device_id": "', '"device_id": "\\udc00\\ud800'),
        ("{", "["),
        ("}", "}}"),
        ('"schema_version": 2', '"schema_version": 2.0'),
        ('"schema_version": 2', "'schema_version': 2"),
        ('"seq": ', '"seq": 1e3, "x": '),
        ('"interval_ms": ', '"interval_ms": -'),
        ('"event_time": "', '"event_time": "not '),
    ]
)


@st.composite
def hostile_values(draw: st.DrawFn) -> bytes | None:
    """Anything a producer could send: bytes, JSON of any shape, a valid message with a field changed, removed
    or of another JSON type, or with its text tampered with."""
    kind = draw(st.sampled_from(["bytes", "json", "field", "text"]))
    if kind == "bytes":
        return draw(st.none() | st.binary(max_size=200))
    if kind == "json":
        return encode(draw(JSON_VALUES), draw(st.booleans()))
    body = draw(valid_messages())
    if kind == "field":
        name = draw(st.sampled_from(sorted(body)))
        if draw(st.booleans()):
            del body[name]
        else:
            body[name] = draw(JSON_VALUES)
        return encode(body, draw(st.booleans()))
    old, new = draw(TEXT_TRICKS)
    return encode(body, True).decode().replace(old, new, 1).encode("utf-8", "surrogatepass")


def kafka_rows(spark: Any, values: list[bytes | None]) -> Any:
    arrived = datetime(2026, 1, 1, 12, 0, 0)
    rows = [(b"k", value, "t", 0, offset, arrived) for offset, value in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_DDL)


def verdicts(spark: Any, values: list[bytes | None]) -> list[tuple[bool, str | None]]:
    """Per value (by offset): (kept as partials, the dead letter's reason or None)."""
    rows = to_assembler_rows(kafka_rows(spark, values), MAX_BYTES).selectExpr(
        f"{PARTIALS} IS NOT NULL AS kept",
        f"{PASSTHROUGH}.reason AS reason",
        f"{PASSTHROUGH}.kafka_offset AS at",
    )
    found = rows.collect()
    assert len(found) == len(values)  # one row per message: none lost, none doubled
    return [(row.kept, row.reason) for row in found]


def assert_kept_xor_reason(outcomes: list[tuple[bool, str | None]]) -> None:
    for offset, (kept, reason) in enumerate(outcomes):
        assert kept != (reason is not None), (offset, kept, reason)
        assert reason is None or reason.strip(), offset


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(hostile_values(), min_size=1, max_size=BATCH))
def test_any_value_is_kept_or_set_aside_with_a_reason_never_both(
    spark: Any, values: list[bytes | None]
) -> None:
    assert_kept_xor_reason(verdicts(spark, values))


def _bits(value: float | None) -> Any:
    """A float by its bits (so -0.0 differs from 0.0), None as None."""
    return None if value is None else struct.pack(">d", value)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(valid_messages(), st.booleans()), min_size=1, max_size=BATCH))
def test_a_valid_message_is_kept_and_its_values_round_trip_exactly(
    spark: Any, messages: list[tuple[dict[str, Any], bool]]
) -> None:
    values = [encode(body, ascii_only) for body, ascii_only in messages]
    outcomes = verdicts(spark, values)
    assert [reason for _, reason in outcomes] == [None] * len(values)
    assert all(kept for kept, _ in outcomes)
    parsed = with_parse_result(kafka_rows(spark, values), MAX_BYTES).select("offset", "message").collect()
    for row in sorted(parsed, key=lambda row: row.offset):
        body, _ = messages[row.offset]
        got = row.message.asDict()
        assert got["device_id"] == body["device_id"]
        assert (got["seq"], got["interval_ms"], got["schema_version"]) == (
            body["seq"],
            body["interval_ms"],
            2,
        )
        sent = datetime.strptime(body["event_time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert got["event_time"] == sent, (got["event_time"], sent)
        for axis in MOTION_FIELDS:
            assert [_bits(v) for v in got[axis]] == [_bits(v) for v in body[axis]], axis
        for name in OPTIONAL_NUMBERS:
            # Equal in value, not always in bits: an optional number is parsed as a variant, which reads -0.0 as
            # 0 (found by this test; harmless for features, noted in the README). The motion arrays keep bits.
            assert got[name] == body.get(name), name
        for name in ("location_type", "battery_state", "true_activity"):
            assert got[name] == body.get(name), name


def test_round_trip_compares_bits() -> None:
    """The exactness check itself: -0.0 and 0.0 differ, and so do floats one ulp apart."""
    assert _bits(-0.0) != _bits(0.0)
    assert _bits(1.0) != _bits(math.nextafter(1.0, 2.0))
