"""Checks of docker-compose.yml, docker/Dockerfile and the README's route table, as functions that return what is
wrong (empty: nothing), so each test can feed them the real files and a broken copy."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from watchlake.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "docker" / "Dockerfile"
VALIDATOR = REPO / "docker" / "compose-check" / "bin" / "compose-check"
README = REPO / "README.md"
ROUTES_HEADING = "### Docker and routes"
LOOPBACK = "127.0.0.1"


def compose_check(compose_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the validator (compose-go, as `docker compose` loads files) on ``compose_file`` with .env.example."""
    if not VALIDATOR.exists():
        raise AssertionError(f"{VALIDATOR} is missing: run scripts/setup.sh --test (it builds the validator)")
    command = [str(VALIDATOR), "-f", str(compose_file), "--env-file", str(ENV_EXAMPLE), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=compose_file.parent)


def load_project(compose_file: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The project as Compose loads it (anchors merged, variables interpolated, ports in long form)."""
    done = compose_check(compose_file, "-json")
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    return dict(json.loads(done.stdout))


def parse_watchlake(command: list[str]) -> argparse.Namespace:
    """``command`` parsed by the real ``watchlake`` parser; AssertionError with argparse's message otherwise."""
    if not command or command[0] != "watchlake":
        raise AssertionError(f"not a watchlake command: {shlex.join(command)}")
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            return build_parser().parse_args(command[1:])
    except SystemExit:
        raise AssertionError(f"{shlex.join(command)}: {errors.getvalue().strip()}") from None


def project_image_commands(project: dict[str, Any]) -> dict[str, list[str]]:
    """The command of every service built from docker/Dockerfile."""
    return {
        name: list(service.get("command") or [])
        for name, service in project["services"].items()
        if service.get("build")
    }


def missing_copy_sources(dockerfile_text: str, context: Path = REPO) -> list[str]:
    """The sources of the Dockerfile's COPY instructions (not those copying from a stage) absent from ``context``."""
    missing = []
    for line in dockerfile_text.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY":
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from=") for word in words[1:]):
            continue
        missing += [source for source in arguments[:-1] if not list(context.glob(source))]
    return missing


def published_ports(project: dict[str, Any]) -> dict[int, str]:
    """Host port -> the host address Compose publishes it on, over every service."""
    return {
        int(port["published"]): port.get("host_ip", "")
        for service in project["services"].values()
        for port in service.get("ports") or []
    }


def route_rows(readme_text: str) -> dict[str, list[str]]:
    """The rows of the route table under ROUTES_HEADING: first cell -> the other cells."""
    section = readme_text.split(ROUTES_HEADING, 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and not set(cells[1]) <= set("-") and cells[0] != "route":
            rows[cells[0]] = cells[1:]
    return rows


def ports_in(cell: str) -> list[int]:
    return [int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", cell)]


def route_problems(project: dict[str, Any], readme_text: str) -> list[str]:
    """Where the README's Docker routes and the published ports disagree, and ports not bound to loopback."""
    published = published_ports(project)
    problems = [
        f"port {port} is published on {host or 'every address'!r}, not {LOOPBACK}"
        for port, host in sorted(published.items())
        if host != LOOPBACK
    ]
    documented = {port for docker, _ in route_rows(readme_text).values() for port in ports_in(docker)}
    problems += [
        f"port {port} is in the route table but not published" for port in sorted(documented - set(published))
    ]
    problems += [
        f"port {port} is published but not in the route table" for port in sorted(set(published) - documented)
    ]
    return problems


# An exact release, optionally with a variant: 4.1.1, v1.5.0, 3.11.14-slim-bookworm; PostgreSQL's releases are
# major.minor (17.7-bookworm).
_PINNED = re.compile(r"^[^:@\s]+:v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")
_PINNED_TWO_PART = re.compile(r"^postgres:\d+\.\d+(-[a-z0-9.-]+)?$")


def unpinned_images(project: dict[str, Any], dockerfile_text: str) -> list[str]:
    """Images of the Compose file (other than the project's own) and FROM lines not pinned to an exact version."""
    images = [service["image"] for service in project["services"].values() if not service.get("build")]
    stages = {
        words[3] for words in _from_lines(dockerfile_text) if len(words) > 3 and words[2].upper() == "AS"
    }
    images += [words[1] for words in _from_lines(dockerfile_text) if words[1] not in stages]
    return [image for image in images if not (_PINNED.match(image) or _PINNED_TWO_PART.match(image))]


def runtime_user(dockerfile_text: str) -> str:
    """The USER of the Dockerfile's last stage ('root' when it sets none)."""
    last_stage = dockerfile_text.split("\nFROM ")[-1]
    users = [line.split()[1] for line in last_stage.splitlines() if line.startswith("USER ")]
    return users[-1] if users else "root"


def _from_lines(dockerfile_text: str) -> list[list[str]]:
    return [line.split() for line in dockerfile_text.splitlines() if line.upper().startswith("FROM ")]
