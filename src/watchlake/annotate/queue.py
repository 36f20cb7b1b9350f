"""The annotation queue as annotators see it: open windows, most uncertain first, and leases on them.

A window is open while it has no label (or its newest label row is an undo). Leasing locks the chosen queue row
(``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent annotators pass over each other's candidates instead of
waiting) and, holding that lock, checks again that no lease is open on it: every lease is taken under its queue
row's lock, so two annotators can never hold one window. Leasing needs PostgreSQL (Redshift has no row locks).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from watchlake.warehouse.tables import ANNOTATION_LABELS, ANNOTATION_LEASES, ANNOTATION_QUEUE

# Per measure, an SQL expression over the queue row ``q`` that is larger the less confident the model was. It is
# computed from the row's probabilities, so the order follows the settings even for rows queued under another one.
_PROBABILITIES = "json_each_text(q.probabilities::json) AS e(k, v)"
DOUBT_SQL = {
    "max_probability": f"-(SELECT max(v::float8) FROM {_PROBABILITIES})",
    "margin": (
        "-(SELECT a[1] - coalesce(a[2], 0) FROM (SELECT array_agg(v::float8 ORDER BY v::float8 DESC) AS a "
        f"FROM {_PROBABILITIES}) AS ranked)"
    ),
    "entropy": f"(SELECT coalesce(-sum(v::float8 * ln(v::float8)), 0) FROM {_PROBABILITIES} WHERE v::float8 > 0)",
}


@dataclass(frozen=True)
class QueuedWindow:
    device_id: str
    window_start: datetime
    window_end: datetime
    predicted_class: str
    probabilities: dict[str, float]
    features: dict[str, float]
    signal: list[dict[str, float]]
    model_version: str
    doubt: float

    @property
    def classes(self) -> list[str]:
        """The classes of the model that queued it (the labels it accepts)."""
        return sorted(self.probabilities)

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda item: -item[1])[:n]


@dataclass(frozen=True)
class Lease:
    lease_id: str
    annotator: str
    expires_at: datetime
    window: QueuedWindow


def _tables(schema: str) -> dict[str, str]:
    return {
        "queue": f"{schema}.{ANNOTATION_QUEUE.name}",
        "leases": f"{schema}.{ANNOTATION_LEASES.name}",
        "labels": f"{schema}.{ANNOTATION_LABELS.name}",
    }


def unlabelled_count_sql(schema: str) -> str:
    """SQL: how many queue rows have no label (their newest label row, if any, is an undo), leased ones included:
    the queue's depth."""
    t = _tables(schema)
    return (
        f"SELECT count(*) FROM {t['queue']} q WHERE (SELECT lb.label FROM {t['labels']} lb "
        "WHERE lb.device_id = q.device_id AND lb.window_start = q.window_start "
        "ORDER BY lb.labelled_at DESC, lb.label_id DESC LIMIT 1) IS NULL"
    )


def standing_label_sql(schema: str, alias: str = "lb") -> str:
    """SQL: label row ``alias`` is a label (not an undo) that no undo took back."""
    return (
        f"{alias}.label IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {_tables(schema)['labels']} u "
        f"WHERE u.retracts = {alias}.label_id)"
    )


def _open_condition(t: dict[str, str]) -> str:
    """SQL: queue row ``q`` is open (newest label row, if any, is an undo) and has no open lease at %(now)s."""
    return (
        f"(SELECT lb.label FROM {t['labels']} lb WHERE lb.device_id = q.device_id "
        "AND lb.window_start = q.window_start ORDER BY lb.labelled_at DESC, lb.label_id DESC LIMIT 1) IS NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {t['leases']} l WHERE l.device_id = q.device_id "
        "AND l.window_start = q.window_start AND l.ended_at IS NULL AND l.expires_at > %(now)s)"
    )


_COLUMNS = (
    "q.device_id, q.window_start, q.window_end, q.predicted_class, q.probabilities, q.features, q.signal, "
    "q.model_version"
)


def _window(row: tuple[Any, ...]) -> QueuedWindow:
    return QueuedWindow(
        device_id=row[0],
        window_start=row[1],
        window_end=row[2],
        predicted_class=row[3],
        probabilities=orjson.loads(row[4]),
        features=orjson.loads(row[5]),
        signal=orjson.loads(row[6]),
        model_version=row[7],
        doubt=float(row[8]) if row[8] is not None else 0.0,
    )


def list_open(
    connection: Any, schema: str, measure: str, now: datetime, limit: int = 50
) -> list[QueuedWindow]:
    """Open, unleased windows, most uncertain first."""
    t = _tables(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS}, {DOUBT_SQL[measure]} AS doubt FROM {t['queue']} q WHERE {_open_condition(t)} "
            "ORDER BY doubt DESC, q.window_start, q.device_id LIMIT %(limit)s",
            {"now": now, "limit": limit},
        )
        rows = cursor.fetchall()
    connection.commit()
    return [_window(row) for row in rows]


def queued_window(
    connection: Any, schema: str, device_id: str, window_start: datetime
) -> QueuedWindow | None:
    t = _tables(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS}, 0 FROM {t['queue']} q WHERE q.device_id = %s AND q.window_start = %s",
            (device_id, window_start),
        )
        row = cursor.fetchone()
    return _window(row) if row else None


def counts(connection: Any, schema: str, annotator: str, now: datetime) -> dict[str, int]:
    """``left``: open windows (leased ones included); ``today`` / ``mine_today``: labels since UTC midnight
    (all annotators / this one) that no undo took back."""
    t = _tables(schema)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(unlabelled_count_sql(schema))
        left = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE lb.annotator = %s) FROM {t['labels']} lb "
            f"WHERE lb.labelled_at >= %s AND {standing_label_sql(schema)}",
            (annotator, midnight),
        )
        today, mine = cursor.fetchone()
    connection.commit()
    return {"left": int(left), "today": int(today), "mine_today": int(mine)}


def take_lease(
    connection: Any,
    schema: str,
    annotator: str,
    *,
    measure: str,
    lease_seconds: float,
    now: datetime,
    window: tuple[str, datetime] | None = None,
) -> Lease | None:
    """Lease the most uncertain open window (or ``window``, if open) to ``annotator`` for ``lease_seconds``; None
    when there is none. Windows this annotator skipped are not offered to them again. An open lease of the same
    annotator is returned as it is (a reload does not take a second window)."""
    held = open_lease_of(connection, schema, annotator, now)
    if held is not None and (window is None or (held.window.device_id, held.window.window_start) == window):
        return held
    t = _tables(schema)
    only = "AND q.device_id = %(device)s AND q.window_start = %(start)s" if window else ""
    candidate = (
        f"SELECT {_COLUMNS}, {DOUBT_SQL[measure]} AS doubt FROM {t['queue']} q WHERE {_open_condition(t)} "
        f"AND NOT EXISTS (SELECT 1 FROM {t['leases']} s WHERE s.device_id = q.device_id "
        "AND s.window_start = q.window_start AND s.annotator = %(who)s AND s.outcome = 'skipped') "
        f"{only} ORDER BY doubt DESC, q.window_start, q.device_id LIMIT 1 FOR UPDATE OF q SKIP LOCKED"
    )
    values = {
        "now": now,
        "who": annotator,
        "device": window[0] if window else None,
        "start": window[1] if window else None,
    }
    for _ in range(20):  # a retry only when another annotator leased the candidate between two statements
        with connection.cursor() as cursor:
            cursor.execute(candidate, values)
            row = cursor.fetchone()
            if row is None:
                connection.commit()
                return None
            # The row is locked now: a lease committed before we got the lock is visible to this new statement.
            cursor.execute(
                f"SELECT 1 FROM {t['leases']} WHERE device_id = %s AND window_start = %s AND ended_at IS NULL "
                "AND expires_at > %s",
                (row[0], row[1], now),
            )
            if cursor.fetchone() is not None:
                connection.rollback()
                continue
            lease = Lease(str(uuid.uuid4()), annotator, now + timedelta(seconds=lease_seconds), _window(row))
            cursor.execute(
                f"INSERT INTO {t['leases']} (lease_id, device_id, window_start, annotator, leased_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (lease.lease_id, row[0], row[1], annotator, now, lease.expires_at),
            )
        connection.commit()
        return lease
    connection.commit()
    return None


def open_lease_of(connection: Any, schema: str, annotator: str, now: datetime) -> Lease | None:
    """The annotator's open lease on a still open window, if any."""
    t = _tables(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.lease_id, l.expires_at, {_COLUMNS}, 0 FROM {t['leases']} l JOIN {t['queue']} q "
            "ON q.device_id = l.device_id AND q.window_start = l.window_start "
            "WHERE l.annotator = %s AND l.ended_at IS NULL AND l.expires_at > %s "
            "ORDER BY l.leased_at DESC LIMIT 1",
            (annotator, now),
        )
        row = cursor.fetchone()
    connection.commit()
    if row is None:
        return None
    return Lease(row[0], annotator, row[1], _window(row[2:]))


def end_lease(connection: Any, schema: str, lease_id: str, outcome: str, now: datetime) -> None:
    """Close an open lease (within the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {schema}.{ANNOTATION_LEASES.name} SET ended_at = %s, outcome = %s "
            "WHERE lease_id = %s AND ended_at IS NULL",
            (now, outcome, lease_id),
        )
