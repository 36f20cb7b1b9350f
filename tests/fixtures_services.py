"""Real local services for tests: one Kafka broker and one PostgreSQL cluster per test run, always stopped.

Session fixtures ``kafka_service`` / ``postgres_service`` yield the :class:`Settings` that point at the running
service (free loopback ports, a private runtime folder). Function fixtures give each test its own Kafka topic
(``kafka_topic``) or PostgreSQL schema (``pg_schema``), and ``kafka_settings`` / ``postgres_settings`` combine that
with the test's own lake, so tests cannot see each other's data.
"""

from __future__ import annotations

import atexit
import re
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from watchlake.errors import ServiceError
from watchlake.services import kafka, postgres
from watchlake.services.process import free_port
from watchlake.settings import Settings

# conftest.py star-imports these (and only these) so that every test folder sees them.
__all__ = [
    "kafka_overrides",
    "kafka_service",
    "kafka_settings",
    "kafka_topic",
    "pg_schema",
    "postgres_service",
    "postgres_settings",
    "services_root",
    "warehouse_insert",
    "warehouse_overrides",
    "warehouse_query",
]


@pytest.fixture(scope="session")
def services_root() -> Iterator[Path]:
    """A private folder for the services of this run.

    Made with ``tempfile`` (not pytest's tmp dirs, which are 0700 under /tmp/pytest-of-<user>) and opened to
    traversal, because as root the PostgreSQL cluster runs as the ``postgres`` user and must reach its folder.
    """
    root = Path(tempfile.mkdtemp(prefix="watchlake-services-"))
    root.chmod(0o711)
    # A SIGTERM (CI cancelling the job) would end Python without teardown or atexit: turn it into Ctrl-C, which
    # pytest answers by running the finalizers that stop the services.
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield root
    finally:
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        shutil.rmtree(root, ignore_errors=True)


def _run_service(
    settings: Settings, start: Callable[[Settings], Any], stop: Callable[[Settings], Any]
) -> Iterator[Settings]:
    """Start a service for the session; stop it on teardown, or at interpreter exit if teardown never ran."""
    stopped = False

    def stop_once() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            stop(settings)

    atexit.register(stop_once)
    try:
        start(settings)
    except ServiceError as error:
        stop_once()
        pytest.fail(f"cannot start the test service: {error}", pytrace=False)
    try:
        yield settings
    finally:
        stop_once()
        atexit.unregister(stop_once)


@pytest.fixture(scope="session")
def kafka_service(services_root: Path) -> Iterator[Settings]:
    """Settings whose ``kafka.bootstrap_servers`` reach a single-node KRaft broker started for this run."""
    settings = make_settings(
        services_root / "kafka-settings",
        runtime_dir=str(services_root / "runtime"),
        kafka={
            "bootstrap_servers": f"127.0.0.1:{free_port()}",
            "controller_port": free_port(),
            "partitions": 2,
        },
    )
    yield from _run_service(settings, kafka.start, kafka.stop)


def postgres_cluster(services_root: Path, name: str, database: str, **warehouse: Any) -> Iterator[Settings]:
    """Start a private PostgreSQL cluster on a free loopback port (settings under ``services_root/name``), yield
    its settings, stop it afterwards. ``warehouse``: more connection settings, e.g. a password it then demands."""
    settings = make_settings(
        services_root / f"{name}-settings",
        runtime_dir=str(services_root / ("runtime" if name == "postgres" else f"{name}-runtime")),
        warehouse={
            "host": "127.0.0.1",
            "port": free_port(),
            "database": database,
            "user": "watchlake",
            **warehouse,
        },
    )
    yield from _run_service(settings, postgres.start, postgres.stop)


@pytest.fixture(scope="session")
def postgres_service(services_root: Path) -> Iterator[Settings]:
    """Settings whose ``warehouse`` reaches a private PostgreSQL cluster started for this run (trust auth)."""
    yield from postgres_cluster(services_root, "postgres", "watchlake_test")


def unique_name(request: pytest.FixtureRequest, prefix: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:30].strip("_")
    return f"{prefix}_{stem}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def kafka_topic(kafka_service: Settings, request: pytest.FixtureRequest) -> str:
    """A topic of this test only, created with the settings' partition count."""
    topic = unique_name(request, "t")
    kafka.ensure_topic(kafka_service, topic)
    return topic


@contextmanager
def schema_on(cluster: Settings, schema: str) -> Iterator[str]:
    """The PostgreSQL schema ``schema`` on ``cluster``, dropped (with its tables) afterwards."""
    import psycopg2
    from psycopg2 import sql

    def execute(statement: str) -> None:
        # A connection per statement: a test may restart the server in between.
        connection = psycopg2.connect(**postgres.connection_kwargs(cluster))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL(statement).format(sql.Identifier(schema)))
        finally:
            connection.close()

    execute("CREATE SCHEMA {}")
    try:
        yield schema
    finally:
        execute("DROP SCHEMA {} CASCADE")


@pytest.fixture
def pg_schema(postgres_service: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL schema of this test only, dropped (with its tables) afterwards."""
    with schema_on(postgres_service, unique_name(request, "s")) as schema:
        yield schema


def kafka_overrides(kafka_service: Settings, topic: str) -> dict[str, Any]:
    """``make_settings`` overrides that point at the test broker with ``topic`` as ``kafka.topic``."""
    return {"kafka": {**kafka_service.kafka.model_dump(), "topic": topic}}


def warehouse_overrides(postgres_service: Settings, schema: str) -> dict[str, Any]:
    """``make_settings`` overrides that point at the test cluster with ``schema`` as ``warehouse.schema_name``
    (and let ``watchlake stats`` copy its statistics there)."""
    warehouse = postgres_service.warehouse.model_dump()
    warehouse["schema_name"] = schema
    return {"warehouse": warehouse, "stats": {"warehouse_copy": "auto"}}


@pytest.fixture
def kafka_settings(tmp_path: Path, kafka_service: Settings, kafka_topic: str) -> Settings:
    """Settings of one test: its own lake and runtime folder, the test broker, its own ``kafka.topic``."""
    return make_settings(tmp_path, **kafka_overrides(kafka_service, kafka_topic))


@pytest.fixture
def postgres_settings(tmp_path: Path, postgres_service: Settings, pg_schema: str) -> Settings:
    """Settings of one test: its own lake and runtime folder, the test cluster, its own warehouse schema."""
    return make_settings(tmp_path, **warehouse_overrides(postgres_service, pg_schema))


def warehouse_insert(settings: Settings, table: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in ``table``'s column order) into ``table`` of the warehouse of ``settings``,
    creating the tables first."""
    from psycopg2.extras import execute_values

    from watchlake.warehouse.connection import connect
    from watchlake.warehouse.tables import ensure_tables

    connection = connect(settings)
    try:
        schema = settings.warehouse.schema_name
        ensure_tables(connection, schema)
        with connection.cursor() as cursor:
            columns = ", ".join(table.column_names)
            execute_values(cursor, f"INSERT INTO {schema}.{table.name} ({columns}) VALUES %s", rows)
        connection.commit()
    finally:
        connection.close()


def warehouse_query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the warehouse of ``settings``, ``{schema}`` in it filled with the warehouse schema."""
    from watchlake.warehouse.connection import connect

    connection = connect(settings)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(schema=settings.warehouse.schema_name))
            return cursor.fetchall()
    finally:
        connection.close()
