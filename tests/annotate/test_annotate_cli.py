"""``watchlake annotate add-user`` and ``add-token`` against the real PostgreSQL."""

from __future__ import annotations

import io

import pytest

from watchlake.annotate import accounts
from watchlake.cli import main
from watchlake.warehouse.connection import connect

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def env(monkeypatch, postgres_service, pg_schema):
    warehouse = postgres_service.warehouse
    for key, value in (
        ("HOST", warehouse.host),
        ("PORT", str(warehouse.port)),
        ("DATABASE", warehouse.database),
        ("USER", warehouse.user),
        ("SCHEMA_NAME", pg_schema),
    ):
        monkeypatch.setenv(f"WATCHLAKE_WAREHOUSE__{key}", value)
    return postgres_service.model_copy(
        update={"warehouse": warehouse.model_copy(update={"schema_name": pg_schema})}
    )


def test_add_user_from_stdin_then_token(env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["annotate", "add-user", "carol", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    assert main(["annotate", "add-user", "carol", "--password-stdin"]) == 2  # never replaced silently
    assert "exists already" in capsys.readouterr().err
    assert main(["annotate", "add-token", "carol"]) == 0
    token = capsys.readouterr().out.strip()
    connection = connect(env)
    try:
        schema = env.warehouse.schema_name
        assert accounts.verify_password(connection, schema, "carol", "a long password")
        assert not accounts.verify_password(connection, schema, "carol", "another password")
        assert accounts.annotator_of_token(connection, schema, token) == "carol"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT password_hash FROM {schema}.annotators")
            assert cursor.fetchone()[0].startswith("$argon2id$")
    finally:
        connection.close()
    assert main(["annotate", "add-token", "nobody"]) == 2


def test_short_password_is_refused(env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["annotate", "add-user", "dave", "--password-stdin"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
