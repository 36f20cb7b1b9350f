"""The local catalog shared by several processes: two Spark processes open the PostgreSQL metastore at once and
see each other's tables; opens of the metastore take turns."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from watchlake import metastore
from watchlake.errors import ServiceError
from watchlake.services import postgres
from watchlake.settings import Settings, with_section

pytestmark = [pytest.mark.slow, pytest.mark.services]

# One process of the pair: the writer saves a table, the reader (started at the same moment) waits for it and
# lists it; the writer stays up until the reader has seen it, so both hold the catalog at the same time.
PROCESS = r"""
import sys, time
from pathlib import Path
from watchlake.settings import load_settings
from watchlake.spark import build_session

role, signals = sys.argv[1], Path(sys.argv[2])

def wait_for(name):
    deadline = time.monotonic() + 300
    while not (signals / name).exists():
        if (signals / "abort").exists() or time.monotonic() > deadline:
            sys.exit(f"{role}: gave up waiting for {name}")
        time.sleep(0.2)

spark = build_session(load_settings(), f"two-processes-{role}")
if role == "writer":
    spark.range(5).write.saveAsTable("watchlake.shared_by_two")
    (signals / "written").touch()
    wait_for("seen")
else:
    wait_for("written")
    tables = sorted(table.name for table in spark.catalog.listTables("watchlake"))
    print("tables", tables, "rows", spark.table("watchlake.shared_by_two").count())
    (signals / "seen").touch()
spark.stop()
"""


def _run_pair(tmp_path: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Start the writer and the reader at the same moment; return both once both ended (or one failed)."""
    signals = tmp_path / "signals"
    signals.mkdir()
    running = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, role, str(signals)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in ("writer", "reader")
    ]
    deadline = time.monotonic() + 600
    while any(process.poll() is None for process in running) and time.monotonic() < deadline:
        if any(process.poll() not in (None, 0) for process in running):
            (signals / "abort").touch()  # one failed: the other must not wait for it
        time.sleep(0.5)
    results = []
    for process in running:
        if process.poll() is None:
            process.kill()
        stdout, stderr = process.communicate()
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


def _pair_env(tmp_path: Path, service: Settings, metastore_kind: str, database: str) -> dict[str, str]:
    warehouse = service.warehouse
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHLAKE_")}
    env.update(
        {
            "WATCHLAKE_ENV": "local",
            "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),  # one runtime folder: the same Derby files
            "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
            "WATCHLAKE_SPARK__MASTER": "local[1]",
            "WATCHLAKE_SPARK__SHUFFLE_PARTITIONS": "1",
            "WATCHLAKE_SPARK__UI_ENABLED": "false",
            "WATCHLAKE_SPARK__DRIVER_MEMORY": "1g",
            "WATCHLAKE_WAREHOUSE__HOST": warehouse.host,
            "WATCHLAKE_WAREHOUSE__PORT": str(warehouse.port),
            "WATCHLAKE_WAREHOUSE__USER": warehouse.user,
            "WATCHLAKE_CATALOG__METASTORE": metastore_kind,
            "WATCHLAKE_CATALOG__METASTORE_DATABASE": database,
        }
    )
    return env


def _fresh_metastore(service: Settings) -> str:
    """A new, empty metastore database (as `watchlake up postgres` makes it): both processes open it first."""
    database = f"metastore_{uuid.uuid4().hex[:10]}"
    postgres.start(with_section(service, "catalog", metastore_database=database))
    return database


def test_two_spark_processes_share_the_postgres_catalog(tmp_path: Path, postgres_service: Settings) -> None:
    database = _fresh_metastore(postgres_service)
    writer, reader = _run_pair(tmp_path, _pair_env(tmp_path, postgres_service, "postgres", database))
    assert (writer.returncode, reader.returncode) == (0, 0), writer.stderr[-3000:] + reader.stderr[-3000:]
    assert "tables ['shared_by_two'] rows 5" in reader.stdout
    # Nothing of Derby's in the working folder (nor anywhere under the test's folder).
    assert not list(tmp_path.rglob("metastore_db")) and not list(tmp_path.rglob("derby.log"))


def test_metastore_opening_fails_clearly_when_its_database_is_missing(postgres_service: Settings) -> None:
    settings = with_section(postgres_service, "catalog", metastore_database="never_created_metastore")
    expected = pytest.raises(ServiceError, match=r"never_created_metastore.*watchlake up postgres")
    with expected, metastore.opening(settings):
        pytest.fail("opened a metastore database that does not exist")


def test_metastore_openings_take_turns(postgres_service: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = with_section(
        postgres_service, "catalog", metastore_database=_fresh_metastore(postgres_service)
    )
    monkeypatch.setattr(metastore, "LOCK_TIMEOUT", "1s")
    with metastore.opening(settings):
        started = time.monotonic()
        expected = pytest.raises(ServiceError, match=r"another process has been opening the Hive metastore")
        with expected, metastore.opening(settings):
            pytest.fail("two openings of the metastore at once")
        assert time.monotonic() - started >= 0.9
    with metastore.opening(settings):  # free again once the first has opened
        pass
