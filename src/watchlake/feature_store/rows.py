"""Label rows as the feature store holds them: the columns, and :class:`WindowLabel` -> rows (pure, no Feast).

A window is named by ``device_id`` and ``window_start_s`` (epoch seconds of its naive-UTC start); ``labelled_at``
is the event time the point-in-time join orders by, ``pushed_at`` breaks ties between rows of the same instant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from watchlake.feature_store.records import WindowLabel
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS

DEVICE = "device_id"
WINDOW_START_S = "window_start_s"
WINDOW_END_S = "window_end_s"
EVENT_TIME = "labelled_at"
CREATED = "pushed_at"
LABEL = "label"
PROVENANCE = ("annotator", "note", "model_version", "label_id")
STRING_FIELDS: tuple[str, ...] = (*CATEGORICAL_COLUMNS, LABEL, *PROVENANCE)


def numeric_fields() -> tuple[str, ...]:
    return FEATURE_COLUMNS


def columns() -> list[str]:
    """The offline rows' columns, in the order Feast's file store checks on every push."""
    return [
        DEVICE,
        WINDOW_START_S,
        EVENT_TIME,
        CREATED,
        WINDOW_END_S,
        *FEATURE_COLUMNS,
        *STRING_FIELDS,
    ]


def arrow_schema() -> pa.Schema:
    """The offline Parquet schema (timestamps in UTC microseconds)."""
    types: dict[str, pa.DataType] = {
        DEVICE: pa.string(),
        WINDOW_START_S: pa.int64(),
        EVENT_TIME: pa.timestamp("us", tz="UTC"),
        CREATED: pa.timestamp("us", tz="UTC"),
        WINDOW_END_S: pa.int64(),
        **{name: pa.float64() for name in FEATURE_COLUMNS},
        **{name: pa.string() for name in STRING_FIELDS},
    }
    return pa.schema([(name, types[name]) for name in columns()])


def epoch_seconds(moment: datetime) -> int:
    """Whole epoch seconds of a naive-UTC (or aware) time."""
    return math.floor(as_utc(moment).timestamp())


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time from a naive-UTC (the warehouse's and the lake's) or an aware one."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _feature(label: WindowLabel, name: str) -> float:
    value = label.features.get(name)
    if value is None:
        raise ValueError(f"label {label.label_id}: the window features lack {name!r}")
    return float(value)


def to_row(label: WindowLabel, pushed_at: datetime) -> dict[str, Any]:
    """One offline/online row of ``label``. An undo (label None) carries the window's features too, so every row
    is a whole window; ValueError when a feature is missing."""
    categorical = {name: str(label.features.get(name, "unknown")) for name in CATEGORICAL_COLUMNS}
    return {
        DEVICE: label.device_id,
        WINDOW_START_S: epoch_seconds(label.window_start),
        EVENT_TIME: as_utc(label.labelled_at),
        CREATED: as_utc(pushed_at),
        WINDOW_END_S: epoch_seconds(label.window_end),
        **{name: _feature(label, name) for name in FEATURE_COLUMNS},
        **categorical,
        LABEL: label.label,
        "annotator": label.annotator,
        "note": label.note,
        "model_version": label.model_version,
        "label_id": label.label_id,
    }


def to_rounds(labels: Sequence[WindowLabel]) -> list[list[WindowLabel]]:
    """``labels`` in rounds that hold at most one label per window, each round's labels newer than the previous
    round's for the same window: the online store keeps the last write, so the newest label is written last."""
    ordered = sorted(labels, key=lambda label: (as_utc(label.labelled_at), label.label_id))
    rounds: list[list[WindowLabel]] = []
    seen: dict[tuple[str, int], int] = {}
    for label in ordered:
        key = (label.device_id, epoch_seconds(label.window_start))
        index = seen.get(key, -1) + 1
        seen[key] = index
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(label)
    return rounds
