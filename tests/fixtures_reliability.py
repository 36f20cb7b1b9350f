"""The reliability tier (tests/reliability/)'s services and secrets: a PostgreSQL cluster that demands a distinctive password, fake AWS
keys in the environment, and :func:`assert_no_secret`, which every test of the tier runs over what it wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from fixtures_services import kafka_overrides, postgres_cluster, schema_on, unique_name
from watchlake.settings import Settings

# conftest.py star-imports these (and only these).
__all__ = [
    "SECRETS",
    "SECRET_ENV",
    "assert_no_secret",
    "aws_keys",
    "reliability_champion",
    "reliability_settings",
    "secret_postgres",
    "secret_schema",
]

# Distinctive values: found anywhere the tier wrote, they leaked.
WAREHOUSE_PASSWORD = "wl-reliab-Pw-7f3a9c2e41"
AWS_ACCESS_KEY_ID = "AKIARELIABFAKE7Q2X9Z"
AWS_SECRET_ACCESS_KEY = "reliabFAKEsecret+k3y/0a1b2c3d4e5f6a7b8c9d0e1f2a"
SECRETS = (WAREHOUSE_PASSWORD, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
SECRET_ENV = {
    "WATCHLAKE_WAREHOUSE__PASSWORD": WAREHOUSE_PASSWORD,
    "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
}


@pytest.fixture(scope="session")
def secret_postgres(services_root: Path) -> Iterator[Settings]:
    """A PostgreSQL cluster of this tier whose loopback logins need ``WAREHOUSE_PASSWORD`` (scram-sha-256)."""
    yield from postgres_cluster(
        services_root, "secret-postgres", "watchlake_reliability", password=WAREHOUSE_PASSWORD
    )


@pytest.fixture
def secret_schema(secret_postgres: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
    """A schema of this test only on the password cluster, dropped afterwards."""
    with schema_on(secret_postgres, unique_name(request, "r")) as schema:
        yield schema


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS keys in this process's environment (the subprocesses get them through ``SECRET_ENV``)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)


@pytest.fixture
def reliability_settings(
    tmp_path: Path, kafka_service: Settings, kafka_topic: str, secret_postgres: Settings, secret_schema: str
) -> Settings:
    """Settings of one streaming test: its own lake and topic, the password cluster and its own schema, a short
    trigger and watermark."""
    warehouse = {**secret_postgres.warehouse.model_dump(), "password": WAREHOUSE_PASSWORD}
    return make_settings(
        tmp_path,
        **kafka_overrides(kafka_service, kafka_topic),
        warehouse={**warehouse, "schema_name": secret_schema},
        predict={"watermark_seconds": 5, "trigger_seconds": 0.5},
    )


@pytest.fixture
def reliability_champion(reliability_settings: Settings, tiny_model: Any) -> int:
    """The tiny model registered in the test's lake as champion; its version."""
    from watchlake.registry.registry import ModelRegistry

    registry = ModelRegistry.from_settings(reliability_settings)
    version = registry.register(tiny_model.model, {"classes": list(tiny_model.classes), "metrics": {}})
    registry.set_champion(version, "reliability test")
    return version


def assert_no_secret(places: Iterable[Path], texts: Iterable[str] = ()) -> int:
    """Fail naming the file (or text) that holds one of SECRETS; returns how many files were read."""
    found, files = [], 0
    for place in places:
        for path in [place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file()):
            files += 1
            data = path.read_bytes()
            found += [f"{path}: {secret[:6]}..." for secret in SECRETS if secret.encode() in data]
    for index, text in enumerate(texts):
        found += [f"text {index}: {secret[:6]}..." for secret in SECRETS if secret in text]
    assert not found, f"secrets written: {found}"
    return files
