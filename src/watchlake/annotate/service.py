"""What annotators do, as warehouse transactions: label a leased window, skip it, undo their last label.

Every refusal is an :class:`AnnotationRefused` with the HTTP status the page and the API answer with. Accepted
submissions are rows of ``annotation_labels`` (never updated: a relabel or an undo is a new row) committed before
the label sink (the feature store) gets them as :class:`WindowLabel`; ``pushed_at`` records that it took them, so
a sink that was down loses nothing (the rows with ``pushed_at`` NULL are still to push).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg2

from watchlake.annotate.checks import LabelRequest, UndoRequest
from watchlake.annotate.queue import QueuedWindow, end_lease, queued_window
from watchlake.annotate.views import location_type_mode
from watchlake.errors import AnnotationRefused
from watchlake.feature_store.records import WindowLabel
from watchlake.warehouse.tables import ANNOTATION_LABELS, ANNOTATION_LEASES, ANNOTATION_QUEUE

log = logging.getLogger(__name__)

LabelSink = Callable[[Sequence[WindowLabel]], None]


@dataclass(frozen=True)
class Recorded:
    label: WindowLabel
    pushed: bool  # the sink took it (False: it failed; the row waits with pushed_at NULL)


def _refuse_replay(cursor: Any, schema: str, label_id: str) -> None:
    cursor.execute(
        f"SELECT labelled_at, annotator FROM {schema}.{ANNOTATION_LABELS.name} WHERE label_id = %s",
        (label_id,),
    )
    row = cursor.fetchone()
    if row is not None:
        raise AnnotationRefused(
            409,
            f"replayed submission: label_id {label_id} was recorded at {row[0]:%Y-%m-%d %H:%M:%S} UTC by "
            f"{row[1]}; nothing changed (a new label needs a new label_id)",
        )


def _lock_window(cursor: Any, schema: str, device_id: str, window_start: datetime) -> None:
    """Serialise writes about one window (labels, undos, leases) on its queue row."""
    cursor.execute(
        f"SELECT 1 FROM {schema}.{ANNOTATION_QUEUE.name} WHERE device_id = %s AND window_start = %s FOR UPDATE",
        (device_id, window_start),
    )


def _stamp(cursor: Any, schema: str, device_id: str, window_start: datetime, now: datetime) -> datetime:
    """``now``, or just after the window's newest label row when that is not older (a clock step back, two
    submissions in one microsecond): a window's rows are strictly ordered by ``labelled_at``, so the newest wins
    without ties, here and in the feature store. Call it holding the window's lock."""
    cursor.execute(
        f"SELECT max(labelled_at) FROM {schema}.{ANNOTATION_LABELS.name} WHERE device_id = %s AND window_start = %s",
        (device_id, window_start),
    )
    latest = cursor.fetchone()[0]
    return now if latest is None or latest < now else latest + timedelta(microseconds=1)


def _open_lease(
    cursor: Any, schema: str, lease_id: str, annotator: str, now: datetime, lease_seconds: float
) -> tuple[str, datetime]:
    """The (device_id, window_start) of ``annotator``'s open lease ``lease_id``, locked; refusals otherwise."""
    cursor.execute(
        f"SELECT device_id, window_start, annotator, expires_at, ended_at, outcome "
        f"FROM {schema}.{ANNOTATION_LEASES.name} WHERE lease_id = %s FOR UPDATE",
        (lease_id,),
    )
    row = cursor.fetchone()
    if row is None:
        raise AnnotationRefused(404, f"unknown lease {lease_id}: take a lease first (POST /api/leases)")
    device_id, window_start, holder, expires_at, ended_at, outcome = row
    if holder != annotator:
        raise AnnotationRefused(403, f"lease {lease_id} belongs to another annotator")
    if ended_at is not None:
        raise AnnotationRefused(
            409, f"lease {lease_id} ended ({outcome}) at {ended_at:%H:%M:%S} UTC; take a new lease"
        )
    if expires_at <= now:
        raise AnnotationRefused(
            410,
            f"lease {lease_id} expired at {expires_at:%H:%M:%S} UTC (leases last {lease_seconds:g} s); the "
            "window went back to the queue: take a new lease",
        )
    return device_id, window_start


def _insert_label(
    cursor: Any, schema: str, label: WindowLabel, lease_id: str | None, retracts: str | None
) -> None:
    cursor.execute(
        f"INSERT INTO {schema}.{ANNOTATION_LABELS.name} (label_id, device_id, window_start, window_end, label, "
        "retracts, annotator, labelled_at, note, model_version, lease_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            label.label_id,
            label.device_id,
            label.window_start,
            label.window_end,
            label.label,
            retracts,
            label.annotator,
            label.labelled_at,
            label.note,
            label.model_version,
            lease_id,
        ),
    )


def _window_label(
    window: QueuedWindow, label_id: str, label: str | None, annotator: str, now: datetime, note: str
) -> WindowLabel:
    return WindowLabel(
        label_id=label_id,
        device_id=window.device_id,
        window_start=window.window_start,
        window_end=window.window_end,
        label=label,
        annotator=annotator,
        labelled_at=now,
        note=note,
        model_version=window.model_version,
        # The numeric features of the queue row plus the categorical model input, derived from them.
        features=_with_mode(window.features),
    )


def _commit_or_replay(connection: Any, write: Callable[[], WindowLabel], label_id: str) -> WindowLabel:
    """Run ``write`` and commit; a concurrent twin of the same label_id (primary key) is a replay too."""
    try:
        label = write()
        connection.commit()
        return label
    except psycopg2.errors.UniqueViolation:
        connection.rollback()
        raise AnnotationRefused(
            409, f"replayed submission: label_id {label_id} is recorded already"
        ) from None
    except BaseException:
        connection.rollback()
        raise


def push(connection: Any, schema: str, sink: LabelSink, label: WindowLabel, now: datetime) -> bool:
    """Hand ``label`` to the sink and mark its row pushed; False (logged) when the sink fails."""
    try:
        sink([label])
    except Exception:
        log.exception(
            "annotate: the label sink failed for label %s; it stays in the warehouse unpushed", label.label_id
        )
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {schema}.{ANNOTATION_LABELS.name} SET pushed_at = %s WHERE label_id = %s",
            (now, label.label_id),
        )
    connection.commit()
    return True


def submit_label(
    connection: Any,
    schema: str,
    annotator: str,
    request: LabelRequest,
    *,
    now: datetime,
    lease_seconds: float,
    sink: LabelSink,
) -> Recorded:
    """Record ``request`` (a label on the annotator's open lease) and push it; the lease ends as ``labelled``."""

    def write() -> WindowLabel:
        with connection.cursor() as cursor:
            _refuse_replay(cursor, schema, request.label_id)
            device_id, window_start = _open_lease(
                cursor, schema, request.lease_id, annotator, now, lease_seconds
            )
            _lock_window(cursor, schema, device_id, window_start)
            window = queued_window(connection, schema, device_id, window_start)
            if window is None:
                raise AnnotationRefused(404, f"the window of lease {request.lease_id} is no longer queued")
            if request.label not in window.probabilities:
                raise AnnotationRefused(
                    422,
                    f"unknown class {request.label!r}; the model's classes are: {', '.join(window.classes)}",
                )
            stamp = _stamp(cursor, schema, device_id, window_start, now)
            label = _window_label(window, request.label_id, request.label, annotator, stamp, request.note)
            _insert_label(cursor, schema, label, request.lease_id, None)
        end_lease(connection, schema, request.lease_id, "labelled", now)
        return label

    label = _commit_or_replay(connection, write, request.label_id)
    return Recorded(label, push(connection, schema, sink, label, now))


def skip(
    connection: Any, schema: str, annotator: str, lease_id: str, *, now: datetime, lease_seconds: float
) -> None:
    """Return the annotator's open lease to the queue (for the others: they are not offered it again)."""
    try:
        with connection.cursor() as cursor:
            _open_lease(cursor, schema, lease_id, annotator, now, lease_seconds)
        end_lease(connection, schema, lease_id, "skipped", now)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


def _last_label_in_force(cursor: Any, schema: str, annotator: str) -> tuple[Any, ...] | None:
    table = f"{schema}.{ANNOTATION_LABELS.name}"
    cursor.execute(
        f"SELECT lb.label_id, lb.device_id, lb.window_start, lb.label FROM {table} lb "
        "WHERE lb.annotator = %s AND lb.label IS NOT NULL AND lb.label_id = (SELECT n.label_id FROM "
        f"{table} n WHERE n.device_id = lb.device_id AND n.window_start = lb.window_start "
        "ORDER BY n.labelled_at DESC, n.label_id DESC LIMIT 1) ORDER BY lb.labelled_at DESC, lb.label_id DESC LIMIT 1",
        (annotator,),
    )
    return cursor.fetchone()


def undo_last(
    connection: Any, schema: str, annotator: str, request: UndoRequest, *, now: datetime, sink: LabelSink
) -> tuple[Recorded, str]:
    """Take back the annotator's newest label that is still its window's label: a new row with label NULL that
    ``retracts`` it (the window is open again). Returns the undo and the retracted label's class."""

    def write() -> WindowLabel:
        with connection.cursor() as cursor:
            _refuse_replay(cursor, schema, request.label_id)
            target = _last_label_in_force(cursor, schema, annotator)
            if target is None:
                raise AnnotationRefused(409, "nothing to undo: none of your labels is in force")
            _lock_window(cursor, schema, target[1], target[2])
            again = _last_label_in_force(cursor, schema, annotator)  # under the lock: still the one?
            if again is None or again[0] != target[0]:
                raise AnnotationRefused(409, "your last label changed meanwhile; undo again")
            window = queued_window(connection, schema, target[1], target[2])
            if window is None:
                raise AnnotationRefused(404, "the window of your last label is no longer queued")
            stamp = _stamp(cursor, schema, target[1], target[2], now)
            label = _window_label(window, request.label_id, None, annotator, stamp, request.note)
            _insert_label(cursor, schema, label, None, target[0])
            retracted.append(target[3])
        return label

    retracted: list[str] = []
    label = _commit_or_replay(connection, write, request.label_id)
    return Recorded(label, push(connection, schema, sink, label, now)), retracted[-1]


def _with_mode(features: dict[str, float]) -> dict[str, float | str]:
    return {**features, "location_type_mode": location_type_mode(features)}


def pending_labels(connection: Any, schema: str) -> list[WindowLabel]:
    """The logged labels and undos the sink has not taken yet (``pushed_at`` NULL), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lb.label_id, lb.device_id, lb.window_start, lb.window_end, lb.label, lb.annotator, "
            f"lb.labelled_at, lb.note, lb.model_version, q.features FROM {schema}.{ANNOTATION_LABELS.name} lb "
            f"LEFT JOIN {schema}.{ANNOTATION_QUEUE.name} q "
            "ON q.device_id = lb.device_id AND q.window_start = lb.window_start "
            "WHERE lb.pushed_at IS NULL ORDER BY lb.labelled_at, lb.label_id"
        )
        rows = cursor.fetchall()
    connection.commit()
    return [
        WindowLabel(
            label_id=row[0],
            device_id=row[1],
            window_start=row[2],
            window_end=row[3],
            label=row[4],
            annotator=row[5],
            labelled_at=row[6],
            note=row[7],
            model_version=row[8],
            features=_with_mode(orjson.loads(row[9])) if row[9] else {},
        )
        for row in rows
    ]


def push_pending(connection: Any, schema: str, sink: LabelSink, now: datetime) -> int:
    """Push the labels a failed sink left behind, in order; the number pushed (stops at the first failure)."""
    pushed = 0
    for label in pending_labels(connection, schema):
        if not push(connection, schema, sink, label, now):
            break
        pushed += 1
    return pushed
