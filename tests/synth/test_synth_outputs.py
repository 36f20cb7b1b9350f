"""Outputs of generated messages: Kafka message schema V2, their readings, sink options, CASAS files that the
cleaning job accepts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from synth_stats import make_stats

from watchlake.casas.format import iter_rows, participant_from_path, reject_reason
from watchlake.lake import Lake
from watchlake.messages import parse_json_messages, to_json_messages
from watchlake.schemas import (
    CASAS_FIELDS,
    CASAS_TYPES,
    MOTION_FIELDS,
    WATCH_MESSAGE_V2,
    WATCH_MESSAGE_VERSION,
    WATCH_READING,
)
from watchlake.settings import Settings
from watchlake.synth.job import generate_batch, generate_messages, kafka_sink_options, write_casas
from watchlake.synth.transforms import to_readings


@pytest.fixture
def synth_settings(settings: Settings) -> Settings:
    generate = settings.generate.model_copy(update={"devices": 2, "start": "2026-01-01T08:00:00"})
    return settings.model_copy(update={"generate": generate})


def test_kafka_sink_options_idempotent(synth_settings: Settings) -> None:
    options = kafka_sink_options(synth_settings)
    assert options["kafka.acks"] == "all"
    assert options["kafka.enable.idempotence"] == "true"
    assert options["topic"] == synth_settings.kafka.topic


def test_to_json_messages_schema_v2(spark, synth_settings: Settings) -> None:
    messages = to_json_messages(generate_messages(spark, synth_settings, make_stats(), 6)).collect()
    bodies = sorted((json.loads(row.value) for row in messages), key=lambda b: (b["device_id"], b["seq"]))
    body = bodies[0]
    assert list(body) == [field.name for field in WATCH_MESSAGE_V2.fields]
    assert body["schema_version"] == WATCH_MESSAGE_VERSION == 2
    assert (body["device_id"], body["seq"], body["interval_ms"]) == ("watch-00000", 0, 100)
    assert body["event_time"] == "2026-01-01T08:00:00.000Z"
    assert {len(b[name]) for b in bodies for name in MOTION_FIELDS} == {10}
    assert [(b["device_id"], b["seq"]) for b in bodies] == [
        (f"watch-0000{d}", 10 * s) for d in range(2) for s in range(3)
    ]
    assert sorted(row.key for row in messages) == sorted(b["device_id"] for b in bodies)


def test_parse_json_messages_round_trip(spark, synth_settings: Settings) -> None:
    generated = generate_messages(spark, synth_settings, make_stats(), 8)
    parsed = parse_json_messages(to_json_messages(generated))
    assert [f.name for f in parsed.schema] == [f.name for f in WATCH_MESSAGE_V2.fields]
    columns = [f.name for f in WATCH_MESSAGE_V2.fields if f.name != "schema_version"]
    assert sorted(parsed.select(*columns).collect()) == sorted(generated.select(*columns).collect())
    assert parsed.where(F.col("schema_version") != WATCH_MESSAGE_VERSION).count() == 0


def test_to_readings_unpacks_each_message_into_its_10_readings(spark, synth_settings: Settings) -> None:
    messages = generate_messages(spark, synth_settings, make_stats(), 4).collect()
    readings = to_readings(generate_messages(spark, synth_settings, make_stats(), 4))
    assert readings.columns[: len(WATCH_READING.fields)] == [f.name for f in WATCH_READING.fields]
    rows = readings.orderBy("device_id", "seq").collect()
    assert len(rows) == 40
    for message in messages:
        own = [
            r for r in rows if r.device_id == message.device_id and message.seq <= r.seq < message.seq + 10
        ]
        assert [r.seq for r in own] == list(range(message.seq, message.seq + 10))
        assert [r.yaw for r in own] == message.yaw and [r.roll for r in own] == message.roll
        assert {(r.true_activity, r.location_type, r.speed) for r in own} == {
            (message.true_activity, message.location_type, message.speed)
        }
        times = [r.event_time for r in own]
        assert times[0] == message.event_time
        assert {(b - a).total_seconds() for a, b in itertools.pairwise(times)} == {0.1}
        assert [r.ticks_left for r in own] == [message.ticks_left - k for k in range(10)]


@pytest.mark.slow
def test_write_casas_files_are_valid_casas(spark, synth_settings: Settings) -> None:
    generated = generate_batch(spark, synth_settings, make_stats(), 4_000)
    assert write_casas(spark, synth_settings, generated) == 2
    folder = Path(Lake.from_settings(synth_settings).synthetic_staging)
    files = sorted(folder.glob("*.csv"))
    assert [f.name for f in files] == ["sw1.p90000.csv", "sw1.p90001.csv"]
    assert sorted(p.name for p in folder.iterdir()) == [f.name for f in files]  # scratch folder removed
    raw = files[0].read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[0].decode() == ",".join(CASAS_FIELDS) and lines[1].decode() == ",".join(CASAS_TYPES)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert lines[2].startswith(b"2026-01-01 08:00:00.000000,") and lines[3].startswith(
        b"2026-01-01 08:00:00.100000,"
    )
    rows = list(iter_rows(files[0]))
    assert len(rows) == 2_000
    assert [reject_reason(row.fields) for row in rows] == [None] * 2_000
    assert participant_from_path(files[0]) == "p90000"
    labels = [row.fields[-1] for row in rows if row.fields[-1]]
    assert labels and set(labels) <= set(make_stats().classes)
