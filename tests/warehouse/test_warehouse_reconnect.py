"""The warehouse sink's retry of a lost connection: bounded, exponential, logged (no database needed: the work
is a plain function that loses its connection on purpose)."""

from __future__ import annotations

import logging

import psycopg2
import pytest

from watchlake.errors import ServiceError
from watchlake.warehouse.batches import Reconnect, retry_lost_connection


class Flaky:
    """Loses its connection ``failures`` times, then answers 42."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures, self.calls, self.lost = failures, 0, 0
        self.error = error or psycopg2.OperationalError("server closed the connection unexpectedly")

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return 42

    def on_lost(self) -> None:
        self.lost += 1


def test_reconnect_delays_double_up_to_the_cap() -> None:
    assert Reconnect(6, 0.5, 3.0).delays() == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert Reconnect(1, 0.5, 3.0).delays() == []


def test_retry_lost_connection_waits_and_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    work, waits = Flaky(failures=2), []
    with caplog.at_level(logging.WARNING, logger="watchlake.warehouse.batches"):
        found = retry_lost_connection(
            work,
            reconnect=Reconnect(4, 0.5, 30.0),
            on_lost=work.on_lost,
            what="q batch 3",
            sleep=waits.append,
        )
    assert (found, work.calls, work.lost, waits) == (42, 3, 2, [0.5, 1.0])
    assert [record.getMessage() for record in caplog.records] == [
        "q batch 3: warehouse connection lost (server closed the connection unexpectedly); attempt 2 of 4 in 0.5 s",
        "q batch 3: warehouse connection lost (server closed the connection unexpectedly); attempt 3 of 4 in 1.0 s",
    ]


@pytest.mark.parametrize(
    "error",
    [psycopg2.InterfaceError("connection already closed"), ServiceError("cannot reach the warehouse")],
)
def test_retry_lost_connection_gives_up_after_the_attempts(error: Exception) -> None:
    work, waits = Flaky(failures=10, error=error), []
    with pytest.raises(ServiceError, match="3 attempts over 2 s failed"):
        retry_lost_connection(
            work, reconnect=Reconnect(3, 0.5, 30.0), on_lost=work.on_lost, what="q", sleep=waits.append
        )
    assert (work.calls, work.lost, waits) == (3, 3, [0.5, 1.0])


def test_retry_lost_connection_does_not_retry_other_errors() -> None:
    work = Flaky(failures=1, error=psycopg2.IntegrityError("duplicate key"))
    with pytest.raises(psycopg2.IntegrityError):
        retry_lost_connection(
            work, reconnect=Reconnect(), on_lost=work.on_lost, what="q", sleep=lambda _: None
        )
    assert (work.calls, work.lost) == (1, 0)
