"""The running predictor across service outages: the Kafka broker stopped and started mid-stream, PostgreSQL
stopped and started mid-stream (the warehouse sink retries with backoff), and PostgreSQL down for longer than the
retry window (the query stops with a message that says what to do). Every window ends in the warehouse once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from schema_producer import FLUSH_DEVICE, flush, minute, send, windows

from fixtures_reliability import assert_no_secret
from fixtures_services import warehouse_query
from watchlake.settings import Settings, with_section

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.services]
log = logging.getLogger(__name__)
SCORED = "SELECT count(*) FROM {schema}.predictions WHERE device_id <> 'watch-flush'"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def scored(settings: Settings) -> int:
    return int(warehouse_query(settings, SCORED)[0][0])


def assert_every_window_once(settings: Settings, minutes: range | tuple[int, ...]) -> None:
    rows = warehouse_query(settings, "SELECT device_id, window_start, events FROM {schema}.predictions")
    mine = sorted((device, start, events) for device, start, events in rows if device != FLUSH_DEVICE)
    assert mine == sorted((device, start, 600) for device, start in windows(minutes))
    # Every row merged once: the ledger's counts add up to what the tables hold.
    [(written, held)] = warehouse_query(
        settings,
        "SELECT (SELECT sum(rows_written) FROM {schema}.stream_batches), (SELECT count(*) FROM {schema}.predictions)"
        " + (SELECT count(*) FROM {schema}.annotation_queue) + (SELECT count(*) FROM {schema}.dead_letters)",
    )
    assert written == held


def produce(settings: Settings, *minutes: int) -> None:
    records = [record for m in minutes for record in minute(m)]
    send(settings.kafka.bootstrap_servers, settings.kafka.topic, [*records, *flush(max(minutes) + 2)])


def test_predict_survives_a_kafka_restart_and_writes_every_window_once(
    spark: Any,
    reliability_settings: Settings,
    reliability_champion: int,
    kafka_service: Settings,
    caplog: Any,
) -> None:
    from watchlake.predict.job import start
    from watchlake.services import kafka

    settings = reliability_settings
    running = start(settings, spark)
    try:
        produce(settings, 0)
        wait_for(lambda: scored(settings) == 3, 180, "the first predictions")
        kafka.stop(kafka_service)
        stopped = time.monotonic()
        try:
            time.sleep(10)  # the query polls a broker that is gone
            assert running.predictions.isActive, running.predictions.exception()
        finally:
            kafka.start(kafka_service)
        outage = time.monotonic() - stopped
        produce(settings, 3)
        wait_for(lambda: scored(settings) == 6, 180, "the predictions after the broker came back")
        assert running.predictions.isActive
    finally:
        running.stop()
    assert_every_window_once(settings, (0, 3))
    assert_no_secret([], [caplog.text])
    log.warning("kafka bounce: broker down %.0f s, the query survived", outage)


def test_predict_survives_a_warehouse_restart_and_writes_every_window_once(
    spark: Any,
    reliability_settings: Settings,
    reliability_champion: int,
    secret_postgres: Settings,
    caplog: Any,
) -> None:
    """Moved here from tests/predict/test_predict_stream.py (issue 14): the same outage, on the tier's
    password-protected cluster, whose log lines are then searched for the password."""
    from watchlake.predict.job import start
    from watchlake.services import postgres

    settings = with_section(
        reliability_settings,
        "warehouse",
        reconnect_attempts=60,
        reconnect_first_delay_seconds=0.2,
        reconnect_max_delay_seconds=1.0,
    )
    caplog.set_level(logging.WARNING, logger="watchlake.warehouse.batches")
    running = start(settings, spark)
    try:
        produce(settings, 0)
        wait_for(lambda: scored(settings) == 3, 180, "the first predictions")
        postgres.stop(secret_postgres)
        stopped = time.monotonic()
        try:
            produce(settings, 3)
            wait_for(lambda: "warehouse connection lost" in caplog.text, 120, "a commit to meet the outage")
        finally:
            postgres.start(secret_postgres)
        outage = time.monotonic() - stopped
        wait_for(lambda: scored(settings) == 6, 180, "the predictions after it")
        assert running.predictions.isActive
    finally:
        running.stop()
    assert_every_window_once(settings, (0, 3))
    retries = caplog.text.count("warehouse connection lost")
    assert_no_secret([], [caplog.text])
    log.warning("postgres bounce: server down %.0f s, %d retries logged, the query survived", outage, retries)


def test_predict_stops_with_a_message_when_the_warehouse_stays_down(
    spark: Any, reliability_settings: Settings, reliability_champion: int, secret_postgres: Settings
) -> None:
    from watchlake.predict.job import run, start
    from watchlake.services import postgres

    settings = with_section(
        reliability_settings,
        "warehouse",
        reconnect_attempts=3,
        reconnect_first_delay_seconds=0.2,
        reconnect_max_delay_seconds=0.4,
    )
    running = start(settings, spark)
    try:
        postgres.stop(secret_postgres)
        try:
            produce(settings, 0)
            wait_for(lambda: not running.predictions.isActive, 180, "the query to give up")
        finally:
            postgres.start(secret_postgres)
        failure = running.predictions.exception()
    finally:
        running.stop()
    message = str(failure)
    assert "the warehouse connection is lost" in message and "3 attempts" in message, message
    assert "start the stream again: it resumes where it stopped" in message
    assert_no_secret([], [message])
    # As the message says: started again, it resumes and loses nothing.
    run(settings, spark, available_now=True, timeout_seconds=240)
    assert_every_window_once(settings, (0,))
