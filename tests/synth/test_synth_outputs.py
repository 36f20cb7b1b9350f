"""Outputs of generated rows: Kafka message schema V1, sink options, CASAS files that the cleaning job accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from synth_stats import make_stats

from watchlake.casas.format import iter_rows, participant_from_path, reject_reason
from watchlake.lake import Lake
from watchlake.schemas import CASAS_FIELDS, CASAS_TYPES, WATCH_MESSAGE_V1, WATCH_MESSAGE_VERSION
from watchlake.settings import Settings
from watchlake.synth.job import generate_batch, kafka_sink_options, write_casas
from watchlake.synth.transforms import parse_watch_messages, to_watch_messages


@pytest.fixture
def synth_settings(settings: Settings) -> Settings:
    generate = settings.generate.model_copy(update={"devices": 2, "start": "2026-01-01T08:00:00"})
    return settings.model_copy(update={"generate": generate})


def test_kafka_sink_options_idempotent(synth_settings: Settings) -> None:
    options = kafka_sink_options(synth_settings)
    assert options["kafka.acks"] == "all"
    assert options["kafka.enable.idempotence"] == "true"
    assert options["topic"] == synth_settings.kafka.topic


def test_to_watch_messages_schema_v1(spark, synth_settings: Settings) -> None:
    messages = to_watch_messages(generate_batch(spark, synth_settings, make_stats(), 50))
    bodies = sorted(
        (json.loads(row.value) for row in messages.collect()), key=lambda b: (b["device_id"], b["seq"])
    )
    body = bodies[0]
    assert list(body) == [field.name for field in WATCH_MESSAGE_V1.fields]
    assert body["schema_version"] == WATCH_MESSAGE_VERSION
    assert (body["device_id"], body["seq"]) == ("watch-00000", 0)
    assert sorted(row.key for row in messages.collect()) == sorted(b["device_id"] for b in bodies)
    assert body["event_time"] == "2026-01-01T08:00:00.000Z"


def test_parse_watch_messages_round_trip(spark, synth_settings: Settings) -> None:
    generated = generate_batch(spark, synth_settings, make_stats(), 40)
    parsed = parse_watch_messages(to_watch_messages(generated))
    assert [(f.name, f.dataType) for f in parsed.schema] == [(f.name, f.dataType) for f in WATCH_MESSAGE_V1]
    columns = [f.name for f in WATCH_MESSAGE_V1.fields if f.name != "schema_version"]
    assert sorted(parsed.select(*columns).collect()) == sorted(generated.select(*columns).collect())
    assert parsed.where(F.col("schema_version") != WATCH_MESSAGE_VERSION).count() == 0


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
