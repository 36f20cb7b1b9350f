"""Connections to the SQL warehouse named in the settings (PostgreSQL locally, Redshift through the same driver)."""

from __future__ import annotations

from typing import Any

from watchlake.errors import ServiceError
from watchlake.settings import Settings


def connection_kwargs(settings: Settings, database: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``psycopg2.connect`` to the warehouse (password only when one is set)."""
    warehouse = settings.warehouse
    kwargs: dict[str, Any] = {
        "host": warehouse.host,
        "port": warehouse.port,
        "dbname": database or warehouse.database,
        "user": warehouse.user,
        "connect_timeout": 5,
    }
    password = warehouse.password.get_secret_value()
    if password:
        kwargs["password"] = password
    return kwargs


def connect(settings: Settings) -> Any:
    """An open psycopg2 connection (autocommit off); ServiceError telling how to start the warehouse."""
    import psycopg2

    kwargs = connection_kwargs(settings)
    try:
        return psycopg2.connect(**kwargs)
    except psycopg2.OperationalError as error:
        raise ServiceError(
            f"cannot reach the warehouse at {kwargs['host']}:{kwargs['port']} as {kwargs['user']}: "
            f"{str(error).strip()}. Locally, start it with `watchlake up postgres`."
        ) from None
