"""The local PostgreSQL warehouse: a psycopg2 round trip and Spark's JDBC writer, each in its own schema."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from pyspark.testing import assertDataFrameEqual

from conftest import make_settings
from watchlake.errors import ServiceError
from watchlake.services import postgres
from watchlake.settings import Settings

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _connect(settings: Settings) -> Any:
    import psycopg2

    return psycopg2.connect(**postgres.connection_kwargs(settings))


def test_start_creates_the_settings_database(postgres_service: Settings) -> None:
    with _connect(postgres_service) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_user")
        row = cursor.fetchone()
    connection.close()
    assert row == (postgres_service.warehouse.database, postgres_service.warehouse.user)


def test_psycopg2_round_trip(postgres_settings: Settings) -> None:
    schema = postgres_settings.warehouse.schema_name
    rows = [("p1", 1.5, "walk"), ("p2", -0.25, "sit"), ("p3", 0.0, None)]
    with _connect(postgres_settings) as connection, connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TABLE "{schema}".readings (device TEXT PRIMARY KEY, x DOUBLE PRECISION, label TEXT)'
        )
        cursor.executemany(f'INSERT INTO "{schema}".readings VALUES (%s, %s, %s)', rows)
        connection.commit()
        cursor.execute(f'SELECT device, x, label FROM "{schema}".readings ORDER BY device')
        assert cursor.fetchall() == rows
    connection.close()


def test_each_test_gets_an_empty_schema_of_its_own(postgres_settings: Settings) -> None:
    schema = postgres_settings.warehouse.schema_name
    with _connect(postgres_settings) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,))
        assert cursor.fetchone() == (0,)
    connection.close()


def test_spark_jdbc_write_read_back(spark: Any, postgres_settings: Settings) -> None:
    warehouse = postgres_settings.warehouse
    url = f"jdbc:postgresql://{warehouse.host}:{warehouse.port}/{warehouse.database}"
    properties = {"user": warehouse.user, "driver": "org.postgresql.Driver"}
    table = f"{warehouse.schema_name}.predictions"
    predictions = spark.createDataFrame(
        [("p1", 3, 0.9), ("p2", 1, 0.55)], "device STRING, label INT, confidence DOUBLE"
    )
    predictions.write.jdbc(url, table, mode="overwrite", properties=properties)
    assertDataFrameEqual(spark.read.jdbc(url, table, properties=properties), predictions)


def test_a_server_that_answers_is_used_not_started(postgres_service: Settings, tmp_path: Path) -> None:
    other = make_settings(tmp_path, warehouse=postgres_service.warehouse.model_dump())
    info = postgres.start(other)
    assert (info.state, info.healthy) == ("external", True)
    assert postgres.stop(other).state == "external"  # someone else's server is left running
    assert postgres.answers(postgres_service)


def test_start_on_a_port_held_by_another_program_names_the_port(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = make_settings(tmp_path, warehouse={"port": port})
        with pytest.raises(ServiceError, match=f"port 127.0.0.1:{port} is already in use"):
            postgres.start(settings)
