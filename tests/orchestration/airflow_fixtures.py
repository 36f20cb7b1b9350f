"""Airflow for the orchestration tests: one AIRFLOW_HOME per test run (SQLite metadata, migrated once) with the
project's dags/ folder. Airflow reads its configuration when first imported, so tests import it only inside a test
that uses ``airflow_home``. (A module, not a conftest.py: a second conftest would shadow ``from conftest import``.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"


def airflow_environment(home: Path) -> dict[str, str]:
    """The variables that point Airflow at ``home`` (SQLite), the project's DAGs and no examples."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:1/execution/",
    }


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A migrated Airflow metadata database for the session; the variables stay set while it lasts."""
    home = tmp_path_factory.mktemp("airflow")
    variables = airflow_environment(home)
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with mock.patch.dict(os.environ, variables):
        yield home
