"""What the Docker target adds to the code: conf/docker.yaml, `demo --unless-champion` (the model service),
the annotation service's container address, and init.sh's image build when an engine answers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from watchlake.annotate.server import check_loopback
from watchlake.cli import main
from watchlake.errors import ServiceError
from watchlake.registry.registry import ModelRegistry
from watchlake.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def test_docker_settings_reach_the_services_by_name() -> None:
    settings = load_settings("docker")
    assert (settings.env, settings.kafka.bootstrap_servers) == ("docker", "kafka:29092")
    assert (settings.warehouse.host, settings.warehouse.port) == ("postgres", 5432)
    assert str(settings.jvm.lib_path) == "/opt/watchlake/jvm/lib"


def test_check_loopback_allows_the_container_address_only_in_a_container() -> None:
    check_loopback("0.0.0.0", in_container=True)
    check_loopback("127.0.0.1")
    with pytest.raises(ServiceError, match="loopback only"):
        check_loopback("0.0.0.0")
    with pytest.raises(ServiceError, match="loopback only"):
        check_loopback("192.168.1.5", in_container=True)


def test_demo_unless_champion_does_nothing_when_a_champion_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", str(tmp_path / "runtime"))
    registry = ModelRegistry.from_settings(load_settings("local"))
    meta = Path(registry.version_uri(3)) / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"metrics": {"macro_f1": 0.5}}))
    registry.set_champion(3, "test")
    assert main(["demo", "--batch-only", "--unless-champion"]) == 0
    assert "has a champion (version 3); nothing to do" in capsys.readouterr().out
    assert not (tmp_path / "runtime" / "sample").exists()  # no stage ran


def _fake_docker(folder: Path, engine_answers: bool) -> Path:
    """A `docker` on PATH that records its arguments; `docker info` succeeds only when ``engine_answers``."""
    log = folder / "docker.log"
    script = folder / "docker"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = info ] && exit {0 if engine_answers else 1}\nexit 0\n'
    )
    script.chmod(0o755)
    return log


@pytest.mark.parametrize("engine_answers", [False, True], ids=["no-engine", "engine"])
def test_init_builds_the_image_only_when_an_engine_answers(tmp_path: Path, engine_answers: bool) -> None:
    log = _fake_docker(tmp_path, engine_answers)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(REPO / "init.sh"), "--help"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "usage: watchlake ingest" in done.stdout  # it went on to ingest either way
    calls = log.read_text().splitlines()
    if engine_answers:
        assert calls == ["info", "compose build"]
        assert "building the project image (docker compose build)" in done.stdout
    else:
        assert calls == ["info"]
        assert "no Docker engine answers" in done.stdout
