"""One predictor and one generator per checkpoint: a second one is refused by name (the pid holding the lock and
the checkpoint), and a killed holder leaves no stale lock. The holder is a real second process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.checkpoint_lock import lock_checkpoint
from watchlake.errors import ServiceError
from watchlake.lake import Lake
from watchlake.settings import Settings

# A second process that takes the lock as the spec says (flock on <checkpoint>.lock, its pid inside) and waits.
HOLDER = """
import fcntl, os, sys, time
path = sys.argv[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
file = open(path, "a+")
fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
file.seek(0); file.truncate(); file.write(f"{os.getpid()} test-holder\\n"); file.flush()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def hold(settings: Settings, query_name: str) -> subprocess.Popen:
    lock = f"{Lake.from_settings(settings).checkpoint(query_name)}.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, lock], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for holder in started:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)


def test_a_second_predictor_is_refused_with_the_pid_and_checkpoint(spark, settings, holders) -> None:
    from watchlake.predict.job import start

    holder = hold(settings, settings.predict.query_name)
    holders.append(holder)
    checkpoint = Lake.from_settings(settings).checkpoint(settings.predict.query_name)
    with pytest.raises(
        ServiceError, match=rf"a predictor is already running \(pid {holder.pid}\)"
    ) as refused:
        start(settings, spark)
    assert checkpoint in str(refused.value)


def test_a_second_generator_is_refused_with_the_pid(spark, settings, holders) -> None:
    from watchlake.synth.job import QUERY_NAME, run_stream

    holder = hold(settings, QUERY_NAME)
    holders.append(holder)
    with pytest.raises(ServiceError, match=rf"a generator is already running \(pid {holder.pid}\)"):
        run_stream(spark, settings, stats=None, rows_per_second=1000, seconds=1)  # type: ignore[arg-type]


def test_a_killed_holder_leaves_no_stale_lock(settings, holders) -> None:
    holder = hold(settings, "predict")
    holders.append(holder)
    with pytest.raises(ServiceError):
        lock_checkpoint(settings, "predict", "predictor")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    lock = lock_checkpoint(settings, "predict", "predictor")
    try:
        path = Path(f"{Lake.from_settings(settings).checkpoint('predict')}.lock")
        assert path.read_text().split() == [str(os.getpid()), "predictor"]
    finally:
        lock.release()


def test_the_lock_is_reentrant_in_one_process_and_released_at_last(settings) -> None:
    outer = lock_checkpoint(settings, "predict", "predictor")
    inner = lock_checkpoint(settings, "predict", "predictor")  # `predict --reset`, then the stream
    inner.release()
    probe = [sys.executable, "-c", HOLDER, str(outer.path)]
    still_held = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert still_held.returncode != 0 and "BlockingIOError" in still_held.stderr
    outer.release()
    free = subprocess.Popen(probe, stdout=subprocess.PIPE, text=True)
    try:
        assert free.stdout is not None and free.stdout.readline().strip() == "locked"
    finally:
        free.kill()
        free.wait(timeout=30)
