"""``watchlake airflow``'s environment: loopback, the PostgreSQL metadata database, sized parallelism."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_settings
from watchlake.orchestration import standalone


def test_standalone_environment_is_loopback_with_postgres_metadata(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, warehouse={"port": 6543, "user": "wl"})
    env = standalone.standalone_environment(settings, 8123)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://wl@127.0.0.1:6543/airflow"
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__API__PORT"]) == ("127.0.0.1", "8123")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(Path(__file__).resolve().parents[2] / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW_HOME"] == str((tmp_path / "runtime" / "airflow").resolve())
    assert "AIRFLOW_CONN_AWS_DEFAULT" not in env


def test_standalone_environment_points_the_aws_connection_at_a_stand_in(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, aws={"endpoint_url": "http://127.0.0.1:5000", "region": "eu-west-1"})
    connection = json.loads(standalone.standalone_environment(settings, 8080)["AIRFLOW_CONN_AWS_DEFAULT"])
    assert connection["extra"] == {"endpoint_url": "http://127.0.0.1:5000", "region_name": "eu-west-1"}


def test_parallelism_is_one_slot_per_core_at_least_two() -> None:
    assert [standalone.parallelism(n) for n in (1, 2, 16)] == [2, 2, 16]


def test_standalone_environment_serves_where_the_settings_say(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, orchestration={"airflow_host": "0.0.0.0", "dags_folder": str(tmp_path / "dags")}
    )
    env = standalone.standalone_environment(settings, 8080)
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__CORE__DAGS_FOLDER"]) == (
        "0.0.0.0",
        str(tmp_path / "dags"),
    )
    # Its own parts still call the API on loopback, inside the container.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
