"""Shared pieces of the annotation tests: queue rows in a real warehouse schema, accounts, a clock the test moves,
a label sink that records what it is handed."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fixtures_services import warehouse_insert
from fixtures_services import warehouse_query as query  # noqa: F401  (the annotate tests import it from here)
from watchlake.annotate import accounts
from watchlake.feature_store.records import WindowLabel
from watchlake.settings import Settings
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ANNOTATION_QUEUE, ensure_tables

CLASSES = ("Cook", "Eat", "Relax", "Walk")
T0 = datetime(2026, 12, 3, 8, 0, 0)
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    now: datetime = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingSink:
    labels: list[WindowLabel] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, labels: Any) -> None:
        with self.lock:
            self.labels.extend(labels)


def features(speed: float = 1.2) -> dict[str, float]:
    return {
        "user_acceleration_x_mean": 0.01,
        "speed_mean": speed,
        "speed_max": speed * 2,
        "distance_from_mean_km": 0.1,
        "location_known_fraction": 1.0,
        "battery_full_fraction": 0.25,
        "location_house_fraction": 0.7,
        "location_road_fraction": 0.3,
        "hour_sin": 0.866,
        "hour_cos": -0.5,
        "rows": 600.0,
    }


def queue_row(
    device: str, start: datetime, probabilities: dict[str, float], measure: str = "margin"
) -> tuple:
    ranked = sorted(probabilities.values(), reverse=True)
    columns = {
        "device_id": device,
        "window_start": start,
        "window_end": start + timedelta(seconds=60),
        "predicted_class": max(probabilities, key=lambda k: probabilities[k]),
        "probabilities": json.dumps(probabilities),
        "confidence_measure": measure,
        "confidence_value": ranked[0] - ranked[1],
        "features": json.dumps(features()),
        "signal": json.dumps([{"t": t, "a": 0.1 + 0.01 * t, "r": 0.5} for t in range(60)]),
        "model_version": "3",
        "queued_at": start + timedelta(seconds=61),
    }
    return tuple(columns[name] for name in ANNOTATION_QUEUE.column_names)


def probabilities(top: float) -> dict[str, float]:
    """``top`` for Walk, the rest shared so that the margin grows with ``top``."""
    rest = (1 - top) / (len(CLASSES) - 1)
    return {name: (top if name == "Walk" else rest) for name in CLASSES}


def fill_queue(settings: Settings, rows: list[tuple]) -> None:
    warehouse_insert(settings, ANNOTATION_QUEUE, rows)


def add_user(settings: Settings, name: str) -> str:
    """Create ``name`` (password PASSWORD) and return a bearer token of it."""
    connection = connect(settings)
    try:
        schema = settings.warehouse.schema_name
        ensure_tables(connection, schema)
        accounts.add_annotator(connection, schema, name, PASSWORD, T0)
        return accounts.create_token(connection, schema, name, T0)
    finally:
        connection.close()
