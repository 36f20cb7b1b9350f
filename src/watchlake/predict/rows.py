"""Shape one micro-batch's scored windows and dead letters into warehouse rows (pure: plain values in, tuples in
the warehouse tables' column order out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from watchlake.features.transforms import FEATURE_COLUMNS
from watchlake.scoring import Scores
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS, Table

LAST_ARRIVAL = "last_arrived_at"
CONFIDENCE_MEASURES = ("max_probability", "margin", "entropy")
_EPOCH = datetime(1970, 1, 1)  # windows hold naive UTC times


@dataclass(frozen=True)
class Window:
    """A closed window as the sink collects it: which watch and when, what it holds, its features."""

    device_id: str
    window_start: datetime
    window_end: datetime
    events: int
    last_arrived_at: datetime
    signal: Sequence[float]  # flat triples: second into the window, mean |acceleration|, mean |rotation rate|
    values: Sequence[float]  # FEATURE_COLUMNS in order


def _row_of(table: Table, columns: dict[str, Any]) -> tuple[Any, ...]:
    """``columns`` in ``table``'s column order (a KeyError names a column left out)."""
    return tuple(columns[name] for name in table.column_names)


def _millis_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000.0


def confidence_values(scores: Scores, measure: str) -> np.ndarray:
    """The confidence measure of each scored window: ``max_probability``, ``margin`` or ``entropy``."""
    if measure not in CONFIDENCE_MEASURES:
        raise ValueError(
            f"unknown confidence measure {measure!r}; choose one of {', '.join(CONFIDENCE_MEASURES)}"
        )
    return {"max_probability": scores.confidence, "margin": scores.margin, "entropy": scores.entropy}[measure]


def signal_json(signal: Sequence[float]) -> str:
    """The window's signal as JSON ``[{"t": seconds into the window, "a": g, "r": rad/s}, ...]`` in time order."""
    points = sorted(zip(signal[0::3], signal[1::3], signal[2::3], strict=True))
    return _json([{"t": round(t), "a": round(a, 4), "r": round(r, 4)} for t, a, r in points])


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _window_prediction(window: Window, scores: Scores, i: int, classes: Sequence[str], version: int) -> dict:
    """The columns every warehouse row about a scored window has: which window, what was predicted, by which model."""
    return {
        "device_id": window.device_id,
        "window_start": window.window_start,
        "window_end": window.window_end,
        "predicted_class": scores.predicted[i],
        "probabilities": _json(dict(zip(classes, scores.probabilities[i].tolist(), strict=True))),
        "model_version": str(version),
    }


def to_sink_rows(
    windows: Sequence[Window],
    scores: Scores,
    *,
    classes: Sequence[str],
    model_version: int,
    query_name: str,
    batch_id: int,
    now: datetime,
    measure: str,
    threshold: float,
    max_queued: int,
    min_readings: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(PREDICTIONS rows, ANNOTATION_QUEUE rows) of scored ``windows``.

    A window is queued when its confidence ``measure`` is below ``threshold`` (entropy: above it), at most
    ``max_queued`` of them, the least confident first. ``now`` is both ``predicted_at`` and ``queued_at``;
    ``latency_ms`` is ``now`` minus the window's last arrival; ``partial`` is true when the window holds fewer
    than ``min_readings`` events (:func:`watchlake.features.transforms.min_readings`).
    """
    confidence = confidence_values(scores, measure)
    doubt = confidence if measure == "entropy" else -confidence  # larger: less confident
    candidates = np.flatnonzero(doubt > (threshold if measure == "entropy" else -threshold))
    chosen = candidates[np.argsort(-doubt[candidates], kind="stable")[:max_queued]]
    low = np.zeros(len(windows), dtype=bool)
    low[chosen] = True
    predictions, queued = [], []
    for i, window in enumerate(windows):
        common = _window_prediction(window, scores, i, classes, model_version)
        predictions.append(
            _row_of(
                PREDICTIONS,
                {
                    **common,
                    "confidence": float(scores.confidence[i]),
                    "margin": float(scores.margin[i]),
                    "entropy": float(scores.entropy[i]),
                    "events": window.events,
                    "partial": window.events < min_readings,
                    "query_name": query_name,
                    "batch_id": batch_id,
                    "predicted_at": now,
                    "latency_ms": _millis_between(now, window.last_arrived_at),
                },
            )
        )
        if low[i]:
            features = dict(zip(FEATURE_COLUMNS, window.values, strict=True))
            queued.append(
                _row_of(
                    ANNOTATION_QUEUE,
                    {
                        **common,
                        "confidence_measure": measure,
                        "confidence_value": float(confidence[i]),
                        "features": _json(features),
                        "signal": signal_json(window.signal),
                        "queued_at": now,
                    },
                )
            )
    return predictions, queued


def to_dead_letter_rows(letters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """DEAD_LETTERS rows, in column order, from the dead-letter structs of ``to_assembler_rows``.

    NUL characters of the raw value become U+FFFD: PostgreSQL text cannot hold them, and one would fail the whole
    micro-batch's commit, again on every replay."""
    rows = []
    for letter in letters:
        columns = letter.asDict()
        if columns["raw_value"] is not None:
            columns["raw_value"] = columns["raw_value"].replace("\x00", "\ufffd")
        rows.append(_row_of(DEAD_LETTERS, columns))
    return rows


def to_late_rows(origins: Sequence[Any]) -> list[tuple[Any, ...]]:
    """DEAD_LETTERS rows of valid messages the assembler did not merge (its ``late`` origins: every window of
    their second was already scored, or they repeat a second already merged): no raw value (the message is still
    at its offset in Kafka), the reason names its event time."""
    rows = []
    for origin in origins:
        columns = origin.asDict()
        when = columns.pop("event_time")
        reason = (
            f"late or repeated: the windows of its second ({when:%Y-%m-%d %H:%M:%S}) were scored or hold it"
        )
        rows.append(_row_of(DEAD_LETTERS, {**columns, "raw_value": None, "reason": reason}))
    return rows


# A window set aside is not a Kafka record: its dead letter's partition is this, its offset the window's start in
# epoch milliseconds and its topic names the watch, so the (topic, partition, offset) key stays one row per window.
WINDOW_PARTITION = -1
_REASON_CHARS = 256  # the DEAD_LETTERS reason column


def to_unscorable_rows(windows: Sequence[Window]) -> list[tuple[Any, ...]]:
    """DEAD_LETTERS rows of windows with a NaN or infinite feature value, which must not be scored.

    Key: topic ``window:<device_id>``, partition ``WINDOW_PARTITION``, offset = window start (epoch ms); the raw
    value is a JSON description of the window; the reason names the non-finite features."""
    rows = []
    for window in windows:
        names = [name for name, v in zip(FEATURE_COLUMNS, window.values, strict=True) if not np.isfinite(v)]
        described = {
            "device_id": window.device_id,
            "window_start": window.window_start.isoformat(),
            "window_end": window.window_end.isoformat(),
            "events": window.events,
            "non_finite_features": names,
        }
        raw = _json(described)
        reason = f"window not scored: NaN or infinite features {', '.join(names)}"
        columns = {
            "topic": f"window:{window.device_id}",
            "kafka_partition": WINDOW_PARTITION,
            "kafka_offset": round((window.window_start - _EPOCH).total_seconds() * 1000),
            "raw_value": raw,
            "raw_size": len(raw.encode()),
            "reason": reason if len(reason) <= _REASON_CHARS else reason[: _REASON_CHARS - 3] + "...",
            "received_at": window.last_arrived_at,
        }
        rows.append(_row_of(DEAD_LETTERS, columns))
    return rows
