"""``watchlake predict`` killed with SIGKILL again and again while a known event set streams in, restarted each time:
every (device, window) ends in the warehouse exactly once, with all its readings, and nothing else.

The predictor runs as a real subprocess (driver and JVM in one process group). Kills land at random moments (the
whole group, from outside) and at chosen ones, where the predictor kills itself through the test hook
``WATCHLAKE_TEST_KILL_AT`` (``watchlake.faults``): right after the warehouse commit and before Spark's checkpoint
commit, inside the warehouse transaction before its commit, and mid-batch after the Spark job.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from predictor_process import Predictor, write_conf
from schema_producer import DEVICES, FLUSH_DEVICE, minute, send, windows

from fixtures_reliability import SECRET_ENV, assert_no_secret
from fixtures_services import warehouse_query
from watchlake.faults import POINTS
from watchlake.settings import with_section
from watchlake.spark import session_conf

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.services]
log = logging.getLogger(__name__)

CHOSEN_PER_POINT = 3  # kills at each of the three fault points
RANDOM_KILLS = 12
REACH_TIMEOUT = 400.0  # seconds a started predictor has to reach its fault point (a loaded 2-core machine)
MESSAGES_PER_BATCH = 120  # small batches: many batch boundaries to kill at
QUICK_COMPILER = "-XX:TieredStopAtLevel=1"
# A random kill lands this share of a chosen kill's time after the start (the median so far): from the JVM's
# start-up to the first batches, on a fast or a slow machine alike.
RANDOM_SHARE = (0.1, 1.0)


def _plan(seed: int) -> list[str | float]:
    """The kills in a shuffled order, a chosen one first: a fault point ("<point>:<n>", the n-th time it is
    reached) or, for a random kill, a share of RANDOM_SHARE."""
    chance = random.Random(seed)
    chosen = [f"{point}:{chance.randint(1, 2)}" for point in POINTS for _ in range(CHOSEN_PER_POINT)]
    kills: list[str | float] = [*chosen[1:], *(chance.uniform(*RANDOM_SHARE) for _ in range(RANDOM_KILLS))]
    chance.shuffle(kills)
    return [chosen[0], *kills]


@pytest.mark.timeout(1800)  # 21 starts of a Spark predictor: minutes on a loaded 2-core machine
def test_predictor_killed_at_random_and_chosen_moments_writes_every_window_once(
    tmp_path: Path, reliability_settings: Any, reliability_champion: int, services_root: Path
) -> None:
    # A watermark far behind: a batch may read one partition ahead of the other (maxOffsetsPerTrigger shares the
    # limit by backlog), and the behind one's messages must not count as older than the watermark. Windows close
    # when their watch sends the window's last second.
    settings = with_section(
        reliability_settings, "predict", max_offsets_per_trigger=MESSAGES_PER_BATCH, watermark_seconds=3600
    )
    # Cheap restarts: no catalog (the predictor needs none), one shuffle partition (one state store), the JVM's
    # quick compiler only (a predictor that lives seconds never reaches the optimising one).
    settings = with_section(settings, "catalog", kind="none")
    settings = with_section(settings, "spark", shuffle_partitions=1, driver_memory="1g")
    driver_options = f"{session_conf(settings, ())['spark.driver.extraJavaOptions']} {QUICK_COMPILER}"
    settings = with_section(settings, "spark", conf={"spark.driver.extraJavaOptions": driver_options})
    predictor = Predictor(write_conf(settings, tmp_path / "predict.yaml"), tmp_path / "logs", SECRET_ENV)
    servers, topic = settings.kafka.bootstrap_servers, settings.kafka.topic
    plan = _plan(seed=14)
    landed: list[tuple[str, float]] = []
    chosen_seconds: list[float] = []
    began = time.monotonic()
    try:
        for index, kill in enumerate(plan):
            started = time.monotonic()
            predictor.start(kill_at=kill if isinstance(kill, str) else None)
            send(servers, topic, minute(index))  # streamed while the predictor starts and runs
            if isinstance(kill, str):
                status = predictor.wait(REACH_TIMEOUT)
                if status is None:
                    predictor.kill()
                    pytest.fail(
                        f"kill {index}: {kill} not reached in {REACH_TIMEOUT:.0f} s:\n{predictor.log}"
                    )
                assert status == -9 and f"at {kill.split(':')[0]}" in predictor.log, predictor.log
                chosen_seconds.append(time.monotonic() - started)
                moment = kill
            else:
                delay = kill * statistics.median(chosen_seconds)
                time.sleep(max(0.0, delay - (time.monotonic() - started)))
                status = predictor.kill()
                assert status == -9, f"kill {index}: the predictor had ended ({status}):\n{predictor.log}"
                moment = f"random {delay:.1f} s"
            landed.append((moment, time.monotonic() - started))
            log.warning("kill %d: %s after %.1f s", index, moment, landed[-1][1])
        killed_for = time.monotonic() - began
        # The backlog at full speed (the small batches were there to be killed in).
        predictor.env = {**predictor.env, "WATCHLAKE_PREDICT__MAX_OFFSETS_PER_TRIGGER": "1000000"}
        predictor.start("--available-now")
        status = predictor.wait(240)
        assert status == 0, predictor.log
    finally:
        predictor.stop()
    total = time.monotonic() - began

    rows = warehouse_query(
        settings, "SELECT device_id, window_start, events FROM {schema}.predictions ORDER BY 1, 2"
    )
    scored = [(device, start) for device, start, _ in rows if device != FLUSH_DEVICE]
    assert len(scored) == len(set(scored))
    assert set(scored) == windows(range(len(plan)))
    assert {events for device, _, events in rows if device != FLUSH_DEVICE} == {600}
    # Nothing was read twice into a window: a repeated message would be a dead letter "late or repeated".
    assert warehouse_query(settings, "SELECT reason FROM {schema}.dead_letters") == []
    # Every row was merged by exactly one ledger batch: replays after the kills wrote nothing.
    [(written, held, batches)] = warehouse_query(
        settings,
        "SELECT (SELECT sum(rows_written) FROM {schema}.stream_batches),"
        " (SELECT count(*) FROM {schema}.predictions) + (SELECT count(*) FROM {schema}.annotation_queue),"
        " (SELECT count(*) FROM {schema}.stream_batches)",
    )
    assert written == held
    replays = sum(log_text.count("replay skipped") for log_text in _logs(tmp_path / "logs"))
    # Everything this test wrote (logs, checkpoints, the model's lake) and the services' logs (PostgreSQL, Kafka).
    scanned = assert_no_secret([tmp_path, *services_root.rglob("*.log")])
    log.warning(
        "kill test: %d kills (%s) in %.0f s, then a drain: %.0f s in all; %d windows of %d devices, %d ledger "
        "batches, %d replays skipped; kill-to-kill %s s; %d files scanned for secrets",
        len(plan),
        ", ".join(f"{kill}" for kill, _ in landed),
        killed_for,
        total,
        len(scored),
        len(DEVICES),
        batches,
        replays,
        [round(seconds, 1) for _, seconds in landed],
        scanned,
    )


def _logs(folder: Path) -> list[str]:
    return [path.read_text(errors="replace") for path in sorted(folder.glob("*.log"))]
