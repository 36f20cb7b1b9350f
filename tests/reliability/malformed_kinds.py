"""Every kind of malformed watch message that ``MESSAGE_SCHEMA.md`` ("What the predictor accepts") names, each
with the exact reason the schema gives for it: ``KINDS`` maps a kind to (make the i-th such message, reason).

Built like the schema producer, from the document only: a valid message (``schema_producer.message``) broken one
way, or raw bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from schema_producer import MOTION, message

# The predictor's predict.max_message_bytes in these tests. At the default 16384 no message can reach the
# "more than 1000 readings" check: nine arrays of 1001 numbers take at least 18 KB, so the size check refuses first.
MAX_BYTES = 32_768

Make = Callable[[int], bytes]


def _body(index: int) -> dict[str, Any]:
    return message(f"watch-bad-{index}", index, 0.5)


def _changed(**changes: Any) -> Make:
    """The valid message with ``changes`` (a value of ``...`` removes the field)."""

    def make(index: int) -> bytes:
        body = _body(index)
        for name, value in changes.items():
            if value is ...:
                del body[name]
            else:
                body[name] = value
        return json.dumps(body).encode()

    return make


def _text(old: str, new: str) -> Make:
    """The valid message's JSON text with its first ``old`` replaced by ``new`` (for what json.dumps cannot
    write: bare NaN, duplicate keys, lone surrogates, invalid UTF-8)."""

    def make(index: int) -> bytes:
        return json.dumps(_body(index)).replace(old, new, 1).encode("utf-8", "surrogatepass")

    return make


def _raw(value: bytes) -> Make:
    return lambda index: value


def _motion(readings: int, **override: Any) -> Make:
    """Every motion array ``readings`` zeros long, written compactly (1001 readings fit in MAX_BYTES)."""

    def make(index: int) -> bytes:
        body = _body(index)
        for axis in MOTION:
            body[axis] = [0] * readings
        body.update(override)
        return json.dumps(body, separators=(",", ":")).encode()

    return make


def _nulled(axis: str) -> Make:
    def make(index: int) -> bytes:
        body = _body(index)
        body[axis] = [0.5] * 9 + [None]
        return json.dumps(body).encode()

    return make


ID_RULE = "device_id is not 1-64 characters without control characters"
NOT_UNICODE = "is not valid Unicode text (an unpaired UTF-16 surrogate escape)"

KINDS: dict[str, tuple[Make, str]] = {
    "empty": (_raw(b""), "empty message"),
    "oversize": (lambda i: b'{"pad": "' + b"x" * 33_000 + b'"}', f"message larger than {MAX_BYTES} bytes"),
    "bare NaN": (
        _text('"yaw": [0.5, 0.5, 0.5, 0.5', '"yaw": [0.5, 0.5, 0.5, NaN'),
        "yaw[3] is not a finite number",
    ),
    "bare Infinity": (_text('"pitch": [0.5', '"pitch": [Infinity'), "pitch[0] is not a finite number"),
    "bare -Infinity": (_text('"roll": [0.5', '"roll": [-Infinity'), "roll[0] is not a finite number"),
    "beyond double": (
        _text('"rotation_rate_x": [0.5, 0.5', '"rotation_rate_x": [0.5, 1e400'),
        "rotation_rate_x[1] is not a finite number",
    ),
    "NaN number field": (_text('"speed": 0.0', '"speed": NaN'), "speed is not a finite number"),
    "string NaN in array": (
        _changed(rotation_rate_y=["NaN"] * 10),
        "wrong JSON type for rotation_rate_y[0]: a string where a number belongs",
    ),
    "string Infinity in array": (
        _changed(rotation_rate_z=[0.5, "-Infinity"] + [0.5] * 8),
        "wrong JSON type for rotation_rate_z[1]: a string where a number belongs",
    ),
    "not JSON": (_raw(b"{this is not json"), "not a JSON document"),
    "truncated JSON": (lambda i: json.dumps(_body(i)).encode()[:100], "not a JSON document"),
    "top-level array": (
        lambda i: b"[" + json.dumps(_body(i)).encode() + b"]",
        "the message is a JSON array, not an object",
    ),
    "top-level number": (_raw(b"12345"), "the message is a JSON number, not an object"),
    "top-level string": (_raw(b'"watch-00001"'), "the message is a JSON string, not an object"),
    "top-level true": (_raw(b"true"), "the message is JSON true or false, not an object"),
    "top-level null": (_raw(b"null"), "the message is JSON null, not an object"),
    "not UTF-8": (
        lambda i: json.dumps(_body(i)).encode().replace(b'"house"', b'"hou\xffse"'),
        "not UTF-8 text",
    ),
    "duplicate key": (
        _text('{"schema_version"', '{"device_id": "watch-y", "schema_version"'),
        "duplicate key 'device_id'",
    ),
    "lone surrogate in id": (
        _text('"device_id": "watch', '"device_id": "\\ud800watch'),
        f"device_id {NOT_UNICODE}",
    ),
    "lone low surrogate in activity": (
        _text('"true_activity": "', '"true_activity": "\\udc00'),
        f"true_activity {NOT_UNICODE}",
    ),
    "lone surrogate elsewhere": (
        _text('{"schema_version"', '{"note": "\\ud83d", "schema_version"'),
        f"a string of the message {NOT_UNICODE}",
    ),
    "no schema_version": (_changed(schema_version=...), "missing field: schema_version"),
    "schema_version 1": (_changed(schema_version=1), "schema_version is not 2"),
    "schema_version as string": (_changed(schema_version="2"), "schema_version is not 2"),
    "schema_version 2.0": (_changed(schema_version=2.0), "schema_version is not 2"),
    "missing device_id": (_changed(device_id=...), "missing field: device_id"),
    "missing motion array": (_changed(yaw=...), "missing field: yaw"),
    "null device_id": (_changed(device_id=None), "required field is null: device_id"),
    "number as device_id": (
        _changed(device_id=12345),
        "wrong JSON type for device_id: a number where a string belongs",
    ),
    "boolean as activity": (
        _changed(true_activity=True),
        "wrong JSON type for true_activity: true or false where a string belongs",
    ),
    "string as number": (
        _changed(speed="fast"),
        "wrong JSON type for speed: a string where a number belongs",
    ),
    "array as string": (
        _changed(location_type=["house"]),
        "wrong JSON type for location_type: an array where a string belongs",
    ),
    "number as time": (
        _changed(event_time=1_772_355_600),
        "wrong JSON type for event_time: a number where a string (an ISO-8601 time) belongs",
    ),
    "fractional seq": (_changed(seq=1.5), "seq is not an integer of at most 64 bits"),
    "seq beyond 64 bits": (_changed(seq=2**64), "seq is not an integer of at most 64 bits"),
    "interval beyond 32 bits": (
        _changed(interval_ms=2**31),
        "interval_ms is not an integer of at most 32 bits",
    ),
    "string as array": (_changed(yaw="north"), "yaw is not an array of numbers"),
    "bad time": (_changed(event_time="yesterday at noon"), "event_time is not an ISO-8601 time"),
    "empty id": (_changed(device_id=""), ID_RULE),
    "long id": (_changed(device_id="w" * 65), ID_RULE),
    "control character in id": (_changed(device_id="watch\u0007bell"), ID_RULE),
    "arrays differ": (_changed(roll=[0.5] * 9), "motion arrays differ in length"),
    "arrays empty": (_motion(0), "motion arrays are empty"),
    "too many readings": (_motion(1001, interval_ms=1), "motion arrays hold more than 1000 readings"),
    "null reading": (_nulled("rotation_rate_z"), "null reading in motion array: rotation_rate_z"),
    "zero interval": (_changed(interval_ms=0), "interval_ms is not positive"),
    "span over a second": (_changed(interval_ms=200), "readings span more than 1000 ms"),
}


def counts(total: int) -> dict[str, int]:
    """``total`` messages shared out over the kinds as evenly as possible."""
    each, extra = divmod(total, len(KINDS))
    return {kind: each + (1 if index < extra else 0) for index, kind in enumerate(KINDS)}
