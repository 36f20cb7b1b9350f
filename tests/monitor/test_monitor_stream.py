"""The monitoring figures of a short real stream (the real broker, PostgreSQL and predictor), on ``/monitor`` in a
real browser and in ``watchlake status``: each figure equals what the test computes itself from the warehouse's rows
and the registry. One stream serves the module. The page's screenshot goes to the test artifacts, and to
``docs/monitor.png`` with ``WATCHLAKE_UPDATE_SCREENSHOTS=1``."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg2
import pytest

from conftest import make_settings
from fixtures_browser import artifacts, keep_screenshot
from fixtures_models import tiny_windows
from fixtures_services import kafka_overrides, warehouse_overrides, warehouse_query
from watchlake.annotate.app import create_app
from watchlake.annotate.server import serving
from watchlake.monitor import view
from watchlake.registry.registry import ModelRegistry
from watchlake.schemas import MOTION_FIELDS
from watchlake.services import kafka, postgres
from watchlake.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.services]

START = datetime(2026, 3, 1, 9, 0, 0)
DEVICES = {"watch-relax": 0.1, "watch-work": 0.5, "watch-exercise": 0.9}
RATE_SECONDS, WINDOW_SECONDS = 600, 3600  # rates over 10 min: the short stream still shows one


def message(device: str, when: datetime, accel_x: float, readings: int = 10) -> tuple[str, bytes]:
    """One V2 message of ``readings`` readings at 10 Hz from ``when`` on."""
    body = {
        "schema_version": 2,
        "device_id": device,
        "seq": int((when - START).total_seconds() * 10),
        "event_time": f"{when:%Y-%m-%dT%H:%M:%S}.000Z",
        "interval_ms": 100,
        **{axis: [0.5] * readings for axis in MOTION_FIELDS},
        "user_acceleration_x": [accel_x] * readings,
        "location_type": "house",
        "battery_state": "unplugged",
        "true_activity": "unknown",
    }
    return device, json.dumps(body).encode()


def minute(n: int) -> list[tuple[str, bytes]]:
    return [
        message(device, START + timedelta(minutes=n, seconds=s), x)
        for device, x in DEVICES.items()
        for s in range(60)
    ]


def flush(n: int) -> list[tuple[str, bytes]]:
    """One reading ``n`` minutes in: moves the watermark past every window before it."""
    return [message("watch-flush", START + timedelta(minutes=n), 0.5, readings=1)]


def produce(settings: Settings, messages: list[tuple[str, bytes]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all", linger_ms=5)
    for key, value in messages:
        producer.send(settings.kafka.topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


def wait_for(predicate: Any, timeout: float, what: str, state: Any = None) -> None:
    """Wait for ``predicate()``; on a timeout, fail naming ``what`` and ``state()`` (what there was instead)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            found = f"; found {state()}" if state else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{found}")
        time.sleep(0.5)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Monitored:
    settings: Settings
    running: Any
    labelled: int


def _register_champions(settings: Settings, spark: Any, tiny_model: Any) -> None:
    """Two champions in turn, each with its real held-out metrics and confidence histogram."""
    from watchlake.scoring import ChampionModel
    from watchlake.train.fitting import evaluate_with_confidence
    from watchlake.train.metrics import summary

    registry = ModelRegistry.from_settings(settings)
    model = ChampionModel(registry.name, 0, tiny_model.classes, tiny_model.model, registry)
    metrics, confidence = evaluate_with_confidence(model, tiny_windows(spark, rows=120, seed=11))
    heldout = {"bins": len(confidence), "counts": confidence}
    meta = {"classes": list(tiny_model.classes), "metrics": summary(metrics), "heldout_confidence": heldout}
    first = registry.register(tiny_model.model, {**meta, "promotion": {"reason": "no champion yet"}})
    registry.set_champion(first, "no champion yet")
    replaced = {**summary(metrics), "version": float(first)}
    second = registry.register(tiny_model.model, {**meta, "promotion": {"champion": replaced}})
    registry.set_champion(second, "manual promotion")


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, kafka_service, postgres_service, spark, tiny_model) -> Iterator[Monitored]:
    """A running predictor that has scored one minute of three watches (and set a malformed and a repeated message
    aside); two annotators' labels; two champions in the registry."""
    from watchlake.predict.job import start

    suffix = f"monitor_{int(time.time() * 1000) % 10**9}"
    kafka.ensure_topic(kafka_service, f"t_{suffix}")
    connection = psycopg2.connect(**postgres.connection_kwargs(postgres_service))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA s_{suffix}")
    settings = make_settings(
        tmp_path_factory.mktemp("monitor"),
        **kafka_overrides(kafka_service, f"t_{suffix}"),
        **warehouse_overrides(postgres_service, f"s_{suffix}"),
        predict={"watermark_seconds": 5, "trigger_seconds": 0.5, "low_confidence_threshold": 0.99},
        monitor={"refresh_seconds": 1, "rate_seconds": RATE_SECONDS, "window_seconds": WINDOW_SECONDS},
    )
    _register_champions(settings, spark, tiny_model)
    first = minute(0)
    produce(settings, [*first, ("bad", b"{this is not json"), first[30], *flush(2)])
    running = start(settings, spark)
    try:
        count = "SELECT count(*) FROM {schema}.predictions"
        wait_for(lambda: warehouse_query(settings, count)[0][0] >= len(DEVICES), 180, "the first predictions")
        labelled = _label(settings, [65, 5])
        yield Monitored(settings, running, labelled)
    finally:
        running.stop()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA s_{suffix} CASCADE")
        connection.close()


def _label(settings: Settings, minutes_ago: list[int]) -> int:
    """Label the most uncertain queued windows (one per entry of ``minutes_ago``, that long ago) through the
    annotation service's own lease and submission; returns how many were labelled."""
    from watchlake.annotate.checks import LabelRequest
    from watchlake.annotate.queue import take_lease
    from watchlake.annotate.service import submit_label
    from watchlake.warehouse.connection import connect

    connection = connect(settings)
    labelled = 0
    try:
        schema = settings.warehouse.schema_name
        for minutes in minutes_ago:
            now = utc_now() - timedelta(minutes=minutes)
            lease = take_lease(connection, schema, "alice", measure="margin", lease_seconds=300, now=now)
            if lease is None:
                break
            request = LabelRequest(f"label-{labelled}", lease.lease_id, lease.window.predicted_class, "")
            submit_label(
                connection, schema, "alice", request, now=now, lease_seconds=300, sink=lambda _: None
            )
            labelled += 1
    finally:
        connection.close()
    return labelled


# What the test computes itself from the warehouse's rows (not through watchlake.monitor) ------------------------


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return warehouse_query(settings, sql)


def expected(settings: Settings, as_of: datetime) -> dict[str, Any]:
    hour_ago, minute_ago = as_of - timedelta(seconds=WINDOW_SECONDS), as_of - timedelta(seconds=RATE_SECONDS)
    predictions = rows(settings, "SELECT predicted_at, latency_ms, confidence FROM {schema}.predictions")
    progress = rows(
        settings,
        "SELECT reported_at, messages, duration_ms, older_than_watermark FROM {schema}.stream_progress",
    )
    letters = rows(settings, "SELECT received_at, reason FROM {schema}.dead_letters")
    queued = rows(settings, "SELECT device_id, window_start FROM {schema}.annotation_queue")
    labels = rows(
        settings,
        "SELECT label_id, device_id, window_start, label, retracts, labelled_at FROM {schema}.annotation_labels",
    )
    recent = [p for p in predictions if hour_ago < p[0] <= as_of]
    batches = [p for p in progress if hour_ago < p[0] <= as_of]
    newest = {}
    for label in sorted(labels, key=lambda r: (r[5], r[0])):
        newest[(label[1], label[2])] = label[3]
    retracted = {label[4] for label in labels if label[4]}
    hours = [as_of.replace(minute=0, second=0, microsecond=0) - timedelta(hours=h) for h in range(11, -1, -1)]
    standing = [label for label in labels if label[3] is not None and label[0] not in retracted]
    per_hour = Counter(label[5].replace(minute=0, second=0, microsecond=0) for label in standing)
    return {
        "messages_per_second": sum(p[1] for p in progress if minute_ago < p[0] <= as_of) / RATE_SECONDS,
        "windows_per_second": sum(1 for p in predictions if minute_ago < p[0] <= as_of) / RATE_SECONDS,
        "batches": len(batches),
        "batch_ms": list(np.percentile([b[2] for b in batches], [50, 95])) if batches else None,
        "latency_ms": list(np.percentile([p[1] for p in recent], [50, 95])) if recent else None,
        "predictions": len(recent),
        "older_than_watermark": sum(b[3] for b in batches),
        "dead_letters": Counter(reason for at, reason in letters if hour_ago < at <= as_of),
        "queue_depth": sum(1 for key in queued if newest.get(key) is None),
        "labels_per_hour": [per_hour.get(hour, 0) for hour in hours],
        "confidence": [sum(1 for p in recent if min(int(p[2] * 10), 9) == b) for b in range(10)],
    }


def quiet(settings: Settings, seconds: float = 3.0) -> datetime:
    """Wait until the stream wrote nothing new for ``seconds``; returns that moment."""
    sql = (
        "SELECT (SELECT count(*) FROM {schema}.predictions), (SELECT count(*) FROM {schema}.stream_progress), "
        "(SELECT count(*) FROM {schema}.dead_letters)"
    )
    last, since = rows(settings, sql), time.monotonic()
    while time.monotonic() - since < seconds:
        time.sleep(0.5)
        now = rows(settings, sql)
        if now != last:
            last, since = now, time.monotonic()
    return utc_now()


# The tests --------------------------------------------------------------------------------------------------------


# Everything the page shows, read in one script so that every value comes from the same refresh.
READ_PAGE = """
const byId = (id, attribute) => document.getElementById(id).getAttribute(attribute || "data-value");
const all = (selector, attribute) => Array.from(document.querySelectorAll(selector), e => e.getAttribute(attribute));
return {
  as_of: byId("figures", "data-as-of"),
  messages_per_second: byId("messages-per-second"), windows_per_second: byId("windows-per-second"),
  batches: byId("batches"), batch_ms: [byId("batch-ms", "data-p50"), byId("batch-ms", "data-p95")],
  latency_ms: [byId("latency-ms", "data-p50"), byId("latency-ms", "data-p95")],
  predictions: byId("predictions"), older_than_watermark: byId("older-than-watermark"),
  reasons: all("#dead-letters tr", "data-reason"), reason_counts: all("#dead-letters tr", "data-count"),
  queue_depth: byId("queue-depth"), labels_per_hour: all("#labels-per-hour .column", "data-count"),
  confidence: all("#confidence tr[data-count]", "data-count"),
  versions: all("#promotions tr[data-version]", "data-version"),
  macro_f1: all("#promotions tr[data-version]", "data-macro-f1"),
  drift: byId("drift"),
};
"""


def shown_figures(page: dict[str, Any]) -> dict[str, Any]:
    """The page's figures in the form :func:`expected` gives."""
    return {
        "messages_per_second": pytest.approx(float(page["messages_per_second"])),
        "windows_per_second": pytest.approx(float(page["windows_per_second"])),
        "batches": int(page["batches"]),
        "batch_ms": pytest.approx([float(v) for v in page["batch_ms"]]),
        "latency_ms": pytest.approx([float(v) for v in page["latency_ms"]]),
        "predictions": int(page["predictions"]),
        "older_than_watermark": int(page["older_than_watermark"]),
        "dead_letters": Counter(dict(zip(page["reasons"], map(int, page["reason_counts"]), strict=True))),
        "queue_depth": int(page["queue_depth"]),
        "labels_per_hour": [int(n) for n in page["labels_per_hour"]],
        "confidence": [int(n) for n in page["confidence"]],
    }


def test_monitor_page_follows_the_stream_and_equals_sql(monitored, browser) -> None:
    settings = monitored.settings

    def page() -> dict[str, Any]:
        return browser.execute_script(READ_PAGE)

    with serving(create_app(settings, sink=lambda _: None, readings=lambda *_: None)) as url:
        browser.get(f"{url}/monitor")
        browser.execute_script("window.loadedOnce = true")
        assert int(page()["predictions"]) >= len(DEVICES)
        # The stream goes on: a second minute of readings, and a message far behind the watermark (dropped).
        produce(settings, [*minute(3), first_old_message(), *flush(5)])
        wait_for(
            lambda: int(page()["predictions"]) >= 2 * len(DEVICES),  # and the flush watch's partial window
            120,
            "the page to show the second minute",
            lambda: (page(), rows(settings, "SELECT device_id, window_start FROM {schema}.predictions")),
        )
        wait_for(
            lambda: int(page()["older_than_watermark"]) >= 1, 60, "the page to count the too-old message"
        )
        settled = quiet(settings)
        wait_for(
            lambda: datetime.fromisoformat(page()["as_of"]) > settled,
            30,
            "a refresh after the stream settled",
        )
        assert browser.execute_script("return window.loadedOnce") is True  # htmx swapped it in, no reload
        final = page()
        browser.set_window_size(1280, 1150)  # the whole page in the screenshot
        shot = artifacts() / "monitor.png"
        browser.save_screenshot(str(shot))

    want = expected(settings, datetime.fromisoformat(final["as_of"]))
    assert shown_figures(final) == want
    assert want["predictions"] >= 2 * len(DEVICES) and want["older_than_watermark"] >= 1
    assert want["dead_letters"]["not a JSON document"] == 1
    assert sum(want["labels_per_hour"]) == monitored.labelled > 0
    registry = ModelRegistry.from_settings(settings)
    shown_versions = list(zip(map(int, final["versions"]), map(float, final["macro_f1"]), strict=True))
    assert shown_versions == [(v, registry.meta(v)["metrics"]["macro_f1"]) for v in (2, 1)]  # newest first
    heldout = registry.meta(2)["heldout_confidence"]["counts"]
    recent, reference = (
        np.array(want["confidence"]) / sum(want["confidence"]),
        np.array(heldout) / sum(heldout),
    )
    assert float(final["drift"]) == pytest.approx(0.5 * np.abs(recent - reference).sum())
    assert shot.stat().st_size > 10_000
    keep_screenshot(shot, "monitor.png")


def first_old_message() -> tuple[str, bytes]:
    """A reading of 09:01:30 (long scored and passed by the watermark): Spark drops it before the windows."""
    return message("watch-relax", START + timedelta(minutes=1, seconds=30), 0.1)


def test_status_prints_the_same_figures_as_sql(monitored, monkeypatch, capsys) -> None:
    from watchlake.cli import main

    settings = monitored.settings
    warehouse = settings.warehouse
    for key, setting in (
        ("WAREHOUSE__HOST", warehouse.host),
        ("WAREHOUSE__PORT", str(warehouse.port)),
        ("WAREHOUSE__DATABASE", warehouse.database),
        ("WAREHOUSE__USER", warehouse.user),
        ("WAREHOUSE__SCHEMA_NAME", warehouse.schema_name),
        ("LAKE__ROOT", settings.lake.root),
        ("RUNTIME_DIR", settings.runtime_dir),
        ("MONITOR__RATE_SECONDS", str(RATE_SECONDS)),
    ):
        monkeypatch.setenv(f"WATCHLAKE_{key}", setting)
    monkeypatch.setenv("COLUMNS", "200")
    quiet(settings)
    capsys.readouterr()
    assert main(["status", "postgres"]) == 0
    out = capsys.readouterr().out
    as_of = datetime.fromisoformat(re.search(r"figures as of (\S+ \S+) UTC", out).group(1))
    cells = {match[0].strip(): match[1].strip() for match in re.findall(r"│ ([^│]+?) +│ +([^│]+?) │", out)}
    want = expected(settings, as_of)
    assert cells[f"messages in (last {view.span(RATE_SECONDS)})"] == view.rate(want["messages_per_second"])
    assert cells[f"windows scored (last {view.span(RATE_SECONDS)})"] == view.rate(want["windows_per_second"])
    assert cells["micro-batches (last 1 h)"] == str(want["batches"])
    p50, p95 = want["batch_ms"]
    assert cells["micro-batch duration p50 / p95"] == f"{p50:.0f} ms / {p95:.0f} ms"
    p50, p95 = want["latency_ms"]
    assert cells["event-to-row latency p50 / p95"] == f"{p50:.0f} ms / {p95:.0f} ms"
    assert cells["predictions (last 1 h)"] == str(want["predictions"])
    assert cells["older than the watermark (last 1 h)"] == str(want["older_than_watermark"])
    assert cells["dead letters (last 1 h)"] == str(sum(want["dead_letters"].values()))
    assert cells["annotation queue (unlabelled)"] == str(want["queue_depth"])
    assert cells["labels per hour (oldest first)"] == " ".join(map(str, want["labels_per_hour"]))
    for reason, count in want["dead_letters"].items():
        assert cells[reason] == str(count)
    assert re.search(r"champion v2; confidence drift from its held-out windows: \d\.\d{3}", out)
    assert "postgres" in out.splitlines()[1]  # the services' table is still there
