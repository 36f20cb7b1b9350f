"""`watchlake up | status | down` end to end, in a private runtime folder on free ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO
from watchlake.services.process import free_port, is_alive

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def cli_env() -> Iterator[dict[str, str]]:
    """Environment of a `watchlake` run with every service on its own free loopback port; down at the end."""
    runtime = Path(tempfile.mkdtemp(prefix="watchlake-cli-"))
    runtime.chmod(0o711)  # as root, the PostgreSQL cluster runs as 'postgres' and must reach its folder
    env = {
        **os.environ,
        "WATCHLAKE_ENV": "local",
        "WATCHLAKE_RUNTIME_DIR": str(runtime),
        "WATCHLAKE_JVM__LIB_DIR": str(REPO / "jvm" / "lib"),
        "WATCHLAKE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "WATCHLAKE_KAFKA__CONTROLLER_PORT": str(free_port()),
        "WATCHLAKE_WAREHOUSE__PORT": str(free_port()),
        "WATCHLAKE_AWS__ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "WATCHLAKE_AWS__BUCKET": "watchlake-cli-test",
    }
    try:
        yield env
    finally:
        watchlake(env, "down")
        subprocess.run(["rm", "-rf", str(runtime)], check=False)


def watchlake(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchlake.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def status(env: dict[str, str]) -> dict[str, dict[str, object]]:
    result = watchlake(env, "status", "--json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def processes_using(path: str) -> list[int]:
    """Pids whose command line or working directory mentions ``path`` (what a leftover service would show)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if path in cmdline or cwd.startswith(path):
            found.append(int(proc.name))
    return found


def test_up_twice_is_harmless_and_down_leaves_no_process(cli_env: dict[str, str]) -> None:
    first = watchlake(cli_env, "up")
    assert first.returncode == 0, first.stderr
    running = status(cli_env)
    pids = {name: row["pid"] for name, row in running.items()}
    assert {name: (row["state"], row["healthy"]) for name, row in running.items()} == {
        "kafka": ("running", True),
        "postgres": ("running", True),
        "moto": ("running", True),
    }

    second = watchlake(cli_env, "up")
    assert second.returncode == 0, second.stderr
    assert {name: row["pid"] for name, row in status(cli_env).items()} == pids

    # The check below can fail: while up, the broker and PostgreSQL name the runtime folder in their command lines.
    assert {pids["kafka"], pids["postgres"]} <= set(processes_using(cli_env["WATCHLAKE_RUNTIME_DIR"]))

    down = watchlake(cli_env, "down")
    assert down.returncode == 0, down.stderr
    assert [pid for pid in pids.values() if is_alive(int(pid))] == []  # type: ignore[arg-type]
    assert processes_using(cli_env["WATCHLAKE_RUNTIME_DIR"]) == []
    assert {name: row["state"] for name, row in status(cli_env).items()} == {
        "kafka": "stopped",
        "postgres": "stopped",
        "moto": "stopped",
    }


def test_up_reports_port_in_use_with_exit_code(cli_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**cli_env, "WATCHLAKE_AWS__ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        result = watchlake(env, "up", "moto")
    assert result.returncode == 1
    assert f"port 127.0.0.1:{port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_and_down_on_aws_show_the_managed_services_as_skipped(tmp_path: Path) -> None:
    # conf/aws.yaml names MSK and Redshift: nothing of them runs here, and neither command may fail on them.
    env = {**os.environ, "WATCHLAKE_ENV": "aws", "WATCHLAKE_RUNTIME_DIR": str(tmp_path)}
    env.pop("WATCHLAKE_AWS__ENDPOINT_URL", None)
    shown = watchlake(env, "status", "--json")
    stopped = watchlake(env, "down")

    assert shown.returncode == 0, shown.stderr
    rows = {row["name"]: row for row in json.loads(shown.stdout)}
    assert {name: row["state"] for name, row in rows.items()} == {
        "kafka": "skipped",
        "postgres": "skipped",
        "moto": "skipped",
    }
    assert rows["kafka"]["address"].startswith("b-1.watchlake.kafka")
    assert stopped.returncode == 0, stopped.stderr
    assert "skipped" in stopped.stdout
