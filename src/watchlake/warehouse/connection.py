"""Connections to the SQL warehouse named in the settings (PostgreSQL locally, Redshift through the same driver)."""

from __future__ import annotations

from typing import Any

from watchlake.errors import ServiceError
from watchlake.services.postgres import connection_kwargs
from watchlake.settings import Settings


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
