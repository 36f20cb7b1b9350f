"""The monitoring figures over a real PostgreSQL holding rows the test wrote: spans are half-open at ``as_of``,
percentiles are linear (numpy's default), undone labels do not count, an unreachable warehouse is a sentence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from conftest import make_settings
from fixtures_services import warehouse_insert
from watchlake.monitor.champion import changes_of, heldout_counts
from watchlake.monitor.confidence import BINS, bin_sql, total_variation
from watchlake.monitor.figures import read_figures
from watchlake.monitor.snapshot import take_snapshot
from watchlake.registry.registry import Pointer, Promotion
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import (
    ANNOTATION_LABELS,
    ANNOTATION_QUEUE,
    DEAD_LETTERS,
    PREDICTIONS,
    STREAM_PROGRESS,
    Table,
    ensure_tables,
)

pytestmark = [pytest.mark.services]

AS_OF = datetime(2026, 12, 3, 12, 30, 0)


def _insert(settings: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    warehouse_insert(settings, table, [tuple(row[name] for name in table.column_names) for row in rows])


def prediction(seconds_before: float, confidence: float, latency_ms: float, n: int) -> dict[str, Any]:
    start = datetime(2026, 12, 3, 9, 0) + timedelta(minutes=n)
    return {
        "device_id": "watch-1",
        "window_start": start,
        "window_end": start + timedelta(seconds=60),
        "predicted_class": "Walk",
        "probabilities": json.dumps({"Walk": confidence, "Eat": 1 - confidence}),
        "confidence": confidence,
        "margin": abs(2 * confidence - 1),
        "entropy": 0.5,
        "events": 600,
        "partial": False,
        "model_version": "1",
        "query_name": "predict",
        "batch_id": n,
        "predicted_at": AS_OF - timedelta(seconds=seconds_before),
        "latency_ms": latency_ms,
    }


def progress(
    seconds_before: float, batch_id: int, messages: int, duration_ms: int, dropped: int
) -> dict[str, Any]:
    return {
        "query_name": "predict",
        "batch_id": batch_id,
        "messages": messages,
        "older_than_watermark": dropped,
        "duration_ms": duration_ms,
        "reported_at": AS_OF - timedelta(seconds=seconds_before),
    }


def dead_letter(seconds_before: float, offset: int, reason: str) -> dict[str, Any]:
    return {
        "topic": "t",
        "kafka_partition": 0,
        "kafka_offset": offset,
        "raw_value": "{",
        "raw_size": 1,
        "reason": reason,
        "received_at": AS_OF - timedelta(seconds=seconds_before),
    }


def queued(device: str) -> dict[str, Any]:
    start = datetime(2026, 12, 3, 9, 0)
    return {
        "device_id": device,
        "window_start": start,
        "window_end": start + timedelta(seconds=60),
        "predicted_class": "Walk",
        "probabilities": json.dumps({"Walk": 0.5, "Eat": 0.5}),
        "confidence_measure": "margin",
        "confidence_value": 0.0,
        "features": "{}",
        "signal": "[]",
        "model_version": "1",
        "queued_at": start,
    }


def label(label_id: str, device: str, at: datetime, name: str | None, retracts: str | None = None) -> dict:
    start = datetime(2026, 12, 3, 9, 0)
    return {
        "label_id": label_id,
        "device_id": device,
        "window_start": start,
        "window_end": start + timedelta(seconds=60),
        "label": name,
        "retracts": retracts,
        "annotator": "alice",
        "labelled_at": at,
        "note": "",
        "model_version": "1",
        "lease_id": None,
        "pushed_at": None,
    }


def test_read_figures_counts_each_figure_over_its_half_open_span(postgres_settings) -> None:
    # (seconds before as_of, confidence, latency): the first five are in the hour, the first four in the minute.
    timed = [(0, 1.0, 900.0), (10, 0.05, 300.0), (30, 0.1, 450.0), (59.9, 0.95, 1200.0), (60, 0.55, 2000.0)]
    outside = [(-1, 0.5, 5.0), (3600, 0.5, 5.0)]  # after as_of; exactly an hour before (excluded)
    _insert(
        postgres_settings,
        PREDICTIONS,
        [prediction(s, c, lat, n) for n, (s, c, lat) in enumerate(timed + outside)],
    )
    _insert(
        postgres_settings,
        STREAM_PROGRESS,
        [
            progress(5, 7, 30, 1200, 2),
            progress(50, 6, 20, 800, 0),
            progress(600, 5, 100, 3000, 5),
            progress(4000, 1, 999, 99_000, 99),  # older than the hour
        ],
    )
    _insert(
        postgres_settings,
        DEAD_LETTERS,
        [
            dead_letter(1, 1, "late"),
            dead_letter(2, 2, "not json"),
            dead_letter(3, 3, "not json"),
            dead_letter(7200, 4, "old"),  # older than the hour
        ],
    )
    _insert(postgres_settings, ANNOTATION_QUEUE, [queued("w-labelled"), queued("w-undone"), queued("w-open")])
    _insert(
        postgres_settings,
        ANNOTATION_LABELS,
        [
            label("a", "w-labelled", AS_OF - timedelta(minutes=10), "Walk"),  # 12:20
            label("b", "w-undone", AS_OF - timedelta(minutes=80), "Eat"),  # 11:10, undone at 11:15
            label("c", "w-undone", AS_OF - timedelta(minutes=75), None, retracts="b"),
            label("d", "w-elsewhere", AS_OF - timedelta(minutes=50), "Eat"),  # 11:40
            label("e", "w-elsewhere", AS_OF - timedelta(hours=3, minutes=25), "Eat"),  # 09:05
            label("f", "w-elsewhere", AS_OF - timedelta(hours=12), "Eat"),  # 00:30: before the 12 hours
        ],
    )
    connection = connect(postgres_settings)
    try:
        figures = read_figures(
            connection, postgres_settings.warehouse.schema_name, postgres_settings.monitor, AS_OF
        )
    finally:
        connection.close()

    assert figures.messages_per_second == pytest.approx(50 / 60)
    assert figures.windows_per_second == pytest.approx(4 / 60)
    assert figures.batches == 3
    batch_ms, latency_ms = figures.batch_ms, figures.latency_ms
    assert [batch_ms.p50, batch_ms.p95] == pytest.approx(np.percentile([1200, 800, 3000], [50, 95]))
    latencies = [lat for _, _, lat in timed]
    assert [latency_ms.p50, latency_ms.p95] == pytest.approx(np.percentile(latencies, [50, 95]))
    assert figures.older_than_watermark == 7
    assert figures.dead_letters == [("not json", 2), ("late", 1)]
    assert figures.queue_depth == 2  # the undone window is open again
    per_hour = dict(figures.labels_per_hour)
    assert len(per_hour) == 12 and min(per_hour) == datetime(2026, 12, 3, 1, 0)
    assert {hour.hour: n for hour, n in per_hour.items() if n} == {12: 1, 11: 1, 9: 1}
    # Bins of 0.1: 0.05 -> 0, 0.1 -> 1, 0.55 -> 5, 0.95 -> 9, 1.0 -> 9 (the last bin is closed).
    assert figures.confidence == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]


def test_read_figures_of_an_empty_warehouse_are_zeros_and_dashes(postgres_settings) -> None:
    connection = connect(postgres_settings)
    try:
        ensure_tables(connection, postgres_settings.warehouse.schema_name)
        figures = read_figures(
            connection, postgres_settings.warehouse.schema_name, postgres_settings.monitor, AS_OF
        )
    finally:
        connection.close()
    assert (figures.messages_per_second, figures.windows_per_second, figures.batches) == (0, 0, 0)
    assert (figures.batch_ms, figures.latency_ms, figures.dead_letters) == (None, None, [])
    assert figures.confidence == [0] * BINS and figures.queue_depth == 0


def test_bin_sql_puts_edges_in_the_upper_bin_and_one_in_the_last(postgres_settings) -> None:
    connection = connect(postgres_settings)
    try:
        with connection.cursor() as cursor:
            values = [0.0, 0.0999, 0.1, 0.5, 0.9, 0.99, 1.0]
            cursor.execute(
                f"SELECT {bin_sql('c')} FROM unnest(%s::float8[]) WITH ORDINALITY AS v(c, i) ORDER BY i",
                (values,),
            )
            assert [row[0] for row in cursor.fetchall()] == [0, 0, 1, 5, 9, 9, 9]
    finally:
        connection.close()


def test_take_snapshot_names_an_unreachable_warehouse(tmp_path) -> None:
    from watchlake.annotate.server import loopback_port

    settings = make_settings(tmp_path, warehouse={"host": "127.0.0.1", "port": loopback_port()})
    snapshot = take_snapshot(settings, lambda: connect(settings), None, AS_OF)
    assert snapshot.figures is None
    assert "cannot reach the warehouse" in snapshot.warehouse_problem
    assert snapshot.drift is None


def test_changes_of_reads_each_promotion_and_dates_a_legacy_pointer_by_its_versions() -> None:
    metas = {
        1: {
            "created_at": "2026-12-01T08:00:00+00:00",
            "metrics": {"macro_f1": 0.7},
            "promotion": {"reason": "first"},
        },
        2: {
            "created_at": "2026-12-02T08:00:00+00:00",
            "metrics": {"macro_f1": 0.8, "accuracy": 0.9},
            "promotion": {"reason": "better", "champion": {"macro_f1": 0.7, "version": 1.0}},
        },
    }
    logged = Pointer(
        1,
        (2,),
        promotions=(
            Promotion(1, "t1", "train"),
            Promotion(2, "t2", "retrain"),
            Promotion(1, "t3", "rollback from 2"),
        ),
    )
    changes = changes_of(logged, metas.__getitem__)
    assert [(c.version, c.at, c.reason) for c in changes] == [
        (1, "t1", "train"),
        (2, "t2", "retrain"),
        (1, "t3", "rollback from 2"),
    ]
    assert changes[1].metrics == {"macro_f1": 0.8, "accuracy": 0.9} and changes[1].replaced == {
        "macro_f1": 0.7
    }
    legacy = changes_of(Pointer(2, (1,)), metas.__getitem__)
    assert [(c.version, c.at, c.reason) for c in legacy] == [
        (1, "2026-12-01T08:00:00+00:00", "first"),
        (2, "2026-12-02T08:00:00+00:00", "better"),
    ]


def test_heldout_counts_and_drift() -> None:
    assert heldout_counts({"heldout_confidence": {"bins": BINS, "counts": list(range(BINS))}}) == list(
        range(BINS)
    )
    assert heldout_counts({"heldout_confidence": {"bins": 5, "counts": [1] * 5}}) is None
    assert heldout_counts({}) is None
    assert total_variation([1, 0], [0, 1]) == 1.0
    assert total_variation([2, 2], [1, 1]) == 0.0
    assert total_variation([0, 0], [1, 1]) is None


def test_status_without_a_warehouse_says_so(tmp_path, monkeypatch, capsys) -> None:
    from watchlake.annotate.server import loopback_port
    from watchlake.cli import main

    monkeypatch.setenv("WATCHLAKE_WAREHOUSE__PORT", str(loopback_port()))
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", str(tmp_path / "lake"))
    assert main(["status", "moto"]) == 0
    captured = capsys.readouterr()
    assert (
        "warehouse: not reachable, no stream figures (cannot reach the warehouse at 127.0.0.1:"
        in captured.out
    )
    assert "champion: none yet" in captured.out
    assert "Traceback" not in captured.out + captured.err


def test_record_progress_replaces_a_batch_reported_twice(postgres_settings) -> None:
    from watchlake.warehouse.progress import BatchProgress, record_progress

    connection = connect(postgres_settings)
    schema = postgres_settings.warehouse.schema_name
    try:
        ensure_tables(connection, schema)
        record_progress(connection, schema, BatchProgress("predict", 3, 10, 0, 500, AS_OF))
        record_progress(connection, schema, BatchProgress("predict", 3, 12, 1, 700, AS_OF))  # a replay
        record_progress(connection, schema, BatchProgress("predict", 4, 5, 0, 100, AS_OF))
        figures = read_figures(connection, schema, postgres_settings.monitor, AS_OF + timedelta(seconds=1))
    finally:
        connection.close()
    assert (figures.batches, figures.older_than_watermark) == (2, 1)
    assert figures.messages_per_second == pytest.approx(17 / postgres_settings.monitor.rate_seconds)


def test_monitor_page_and_json_need_no_login(postgres_settings) -> None:
    from fastapi.testclient import TestClient

    from watchlake.annotate.app import create_app

    _insert(postgres_settings, DEAD_LETTERS, [dead_letter(1, 1, "not json")])
    app = create_app(postgres_settings, sink=lambda _: None, readings=lambda *_: None, clock=lambda: AS_OF)
    with TestClient(app) as client:
        page = client.get("/monitor", follow_redirects=False)
        fragment = client.get("/monitor/figures")
        data = client.get("/monitor/figures.json").json()
    assert page.status_code == 200 and 'hx-get="/monitor/figures"' in page.text
    assert fragment.status_code == 200 and 'data-reason="not json" data-count="1"' in fragment.text
    assert data["figures"]["dead_letters"] == [["not json", 1]]
    assert data["champion"] == {"version": None, "changes": [], "heldout_confidence": None}
