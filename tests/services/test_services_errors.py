"""Clear errors of the service layer: Java missing, jars not fetched, port in use, stale pid file, death at start."""

from __future__ import annotations

import logging
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.errors import ServiceError
from watchlake.services import kafka, moto, process
from watchlake.settings import Settings


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port held by a plain socket, i.e. by 'something else'."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        yield squatter.getsockname()[1]


def _dead_pid() -> int:
    """The pid of a process that has already exited (and been reaped)."""
    finished = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    return int(finished.stdout)


def test_kafka_start_without_jars_says_run_fetch_jars(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, jvm={"lib_dir": str(tmp_path / "no-jars")})
    with pytest.raises(ServiceError, match=r"run scripts/fetch-jars\.sh"):
        kafka.start(settings)


def test_kafka_start_without_java_says_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match="Java is missing"):
        kafka.start(settings)


def test_kafka_start_on_a_port_in_use_names_the_port(tmp_path: Path, listening_port: int) -> None:
    settings = make_settings(
        tmp_path,
        kafka={"bootstrap_servers": f"127.0.0.1:{listening_port}", "controller_port": process.free_port()},
    )
    with pytest.raises(ServiceError, match=f"port 127.0.0.1:{listening_port} is already in use"):
        kafka.start(settings)


def test_kafka_refuses_a_remote_bootstrap_server(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, kafka={"bootstrap_servers": "b-1.example.com:9092"})
    with pytest.raises(ServiceError, match="starts only a local broker"):
        kafka.start(settings)


def test_stale_pid_file_is_removed_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    pid_file = process.service_dir(settings.runtime_dir, "kafka") / "kafka.pid"
    pid_file.write_text(f"{_dead_pid()}\n")
    with caplog.at_level(logging.WARNING):
        info = kafka.status(settings)
    assert info.state == "stopped"
    assert not pid_file.exists()
    assert "stale pid file" in caplog.text


@pytest.mark.slow
def test_start_continues_after_a_stale_pid_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, aws={"endpoint_url": f"http://127.0.0.1:{process.free_port()}"})
    pid_file = process.service_dir(settings.runtime_dir, "moto") / "moto.pid"
    stale = _dead_pid()
    pid_file.write_text(f"{stale}\n")
    try:
        with caplog.at_level(logging.WARNING):
            info = moto.start(settings)
        assert "stale pid file" in caplog.text
        assert info.state == "running" and info.healthy and info.pid != stale
        assert process.read_pid(pid_file) == info.pid
    finally:
        moto.stop(settings)


def test_pid_of_another_program_is_not_trusted(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert process.is_alive(sleeper.pid)
        assert not process.is_alive(sleeper.pid, token="kafka.Kafka")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_death_at_start_shows_the_log_tail(tmp_path: Path) -> None:
    log_file = tmp_path / "service.log"
    pid = process.spawn(["sh", "-c", "echo 'FATAL: bad config line 3'; exit 3"], log_file)
    with pytest.raises(ServiceError, match="died while starting") as raised:
        process.wait_healthy("demo", pid, "", lambda: False, log_file, timeout=20)
    assert "FATAL: bad config line 3" in str(raised.value)
    assert "exit code 3" in str(raised.value)
    assert not process.is_alive(pid)
