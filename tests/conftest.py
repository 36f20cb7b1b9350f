"""Shared fixtures: one SparkSession per test run, settings pointing at a temporary lake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watchlake.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def make_settings(base: Path, **overrides: Any) -> Settings:
    """Local settings with the runtime folder and lake under ``base``; small Spark; keyword overrides win."""
    values: dict[str, Any] = {
        "runtime_dir": str(base / "runtime"),
        "lake": {"root": str(base / "lake")},
        "spark": {"master": "local[2]", "shuffle_partitions": 2, "ui_enabled": False, "driver_memory": "2g"},
        # A test copies statistics into a warehouse only when it says so (never into one that happens to run).
        "stats": {"warehouse_copy": "off"},
    }
    values.update(overrides)
    return load_settings("local", **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of one test: its own lake and runtime folder."""
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory, postgres_service: Settings) -> Iterator[Any]:
    """The one SparkSession of the test run (local[2], 2 shuffle partitions, UTC, UI off, Hive catalog whose
    metastore is a database of its own on the test PostgreSQL cluster, as ``catalog.metastore=postgres`` runs)."""
    from watchlake.services import postgres
    from watchlake.spark import JAR_FOLDERS, build_session

    session_settings = make_settings(
        tmp_path_factory.mktemp("spark"),
        warehouse=postgres_service.warehouse.model_dump(),
        catalog={"metastore_database": "spark_fixture_metastore"},
    )
    postgres.start(session_settings)  # the cluster runs already: this creates the metastore database
    lib = session_settings.jvm.lib_path
    folders = tuple(folder for folder in JAR_FOLDERS if any((lib / folder).glob("*.jar")))
    session = build_session(session_settings, "watchlake-tests", jars=folders)
    yield session
    session.stop()


# Real local services (Kafka, PostgreSQL); imported last because they build settings with make_settings above.
from fixtures_aws import *  # noqa: E402, F403
from fixtures_browser import browser  # noqa: E402, F401
from fixtures_models import *  # noqa: E402, F403
from fixtures_reliability import *  # noqa: E402, F403
from fixtures_services import *  # noqa: E402, F403
