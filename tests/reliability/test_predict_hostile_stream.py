"""10,000 malformed messages of every kind ``MESSAGE_SCHEMA.md`` names, mixed into a valid stream: each one a dead
letter with the schema's reason (counted per reason: exactly what was sent of each kind), every valid window
predicted with all its readings, and no secret in anything the run wrote."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from typing import Any

import pytest
from malformed_kinds import KINDS, MAX_BYTES, counts
from schema_producer import FLUSH_DEVICE, flush, minute, send, windows

from fixtures_reliability import assert_no_secret
from fixtures_services import warehouse_query
from watchlake.predict.job import run
from watchlake.settings import with_section

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.services]
log = logging.getLogger(__name__)

MALFORMED = 10_000
MINUTES = 3


def test_ten_thousand_malformed_messages_are_dead_letters_with_their_reason(
    tmp_path: Any,
    spark: Any,
    reliability_settings: Any,
    reliability_champion: int,
    aws_keys: None,
    caplog: Any,
) -> None:
    caplog.set_level(logging.INFO, logger="watchlake")
    per_kind = counts(MALFORMED)
    bad = [(f"bad-{kind}", KINDS[kind][0](i)) for kind, n in per_kind.items() for i in range(n)]
    valid = [record for m in range(MINUTES) for record in minute(m)]
    # The malformed messages at random places among the valid ones, which keep their order.
    chance = random.Random(3)
    slots = sorted(chance.sample(range(len(valid) + len(bad)), len(bad)))
    chance.shuffle(bad)
    stream, bad_iter, valid_iter = [], iter(bad), iter(valid)
    taken = set(slots)
    for position in range(len(valid) + len(bad)):
        stream.append(next(bad_iter) if position in taken else next(valid_iter))
    settings = with_section(reliability_settings, "predict", max_message_bytes=MAX_BYTES)
    send(settings.kafka.bootstrap_servers, settings.kafka.topic, [*stream, *flush(MINUTES + 2)])

    began = time.monotonic()
    result = run(settings, spark, available_now=True, timeout_seconds=400)
    seconds = time.monotonic() - began

    expected = Counter({KINDS[kind][1]: 0 for kind in per_kind})
    for kind, n in per_kind.items():
        expected[KINDS[kind][1]] += n
    found = Counter(
        dict(warehouse_query(settings, "SELECT reason, count(*) FROM {schema}.dead_letters GROUP BY 1"))
    )
    assert found == expected
    assert result.dead_letters == MALFORMED
    rows = warehouse_query(settings, "SELECT device_id, window_start, events FROM {schema}.predictions")
    assert sorted((d, s) for d, s, _ in rows if d != FLUSH_DEVICE) == sorted(windows(range(MINUTES)))
    assert {events for d, _, events in rows if d != FLUSH_DEVICE} == {600}
    letters = [row[0] for row in warehouse_query(settings, "SELECT raw_value FROM {schema}.dead_letters")]
    assert_no_secret([tmp_path], [caplog.text, *(letter or "" for letter in letters)])
    log.warning(
        "hostile stream: %d malformed messages of %d kinds (%d reasons) among %d valid, drained in %.0f s",
        MALFORMED,
        len(per_kind),
        len(expected),
        len(valid),
        seconds,
    )
