"""The local Hive metastore: a database in the local PostgreSQL that several Spark processes share, or (by
choice) an embedded Derby database under ``runtime_dir`` that one process at a time may open. Used by spark.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from watchlake.errors import ServiceError
from watchlake.settings import Settings
from watchlake.warehouse.connection import connection_kwargs

log = logging.getLogger(__name__)

POSTGRES_DRIVER = "org.postgresql.Driver"
# The JVM reads the metastore password from this variable (Hadoop expands ``${env.NAME}`` when Hive reads its
# configuration): a password in the Spark configuration would stand on the spark-submit command line.
PASSWORD_ENV = "WATCHLAKE_WAREHOUSE__PASSWORD"
# The advisory lock that serialises first opens of the metastore (any fixed 64-bit key of watchlake's own).
LOCK_KEY = 0x7761_7463_686C_616B  # "watchlak"
LOCK_TIMEOUT = "180s"
_JDO = "spark.hadoop.javax.jdo.option."


def uses_postgres(settings: Settings) -> bool:
    """True when the session's catalog is Hive with its metastore in PostgreSQL."""
    return settings.catalog.kind == "hive" and settings.catalog.metastore == "postgres"


def metastore_conf(settings: Settings) -> tuple[dict[str, str], list[str]]:
    """Spark configuration and extra driver JVM options of the local Hive metastore (empty unless kind=hive)."""
    if settings.catalog.kind != "hive":
        return {}, []
    if settings.catalog.metastore == "derby":
        metastore = Path(settings.runtime_dir, "metastore", "metastore_db").resolve()
        url = f"jdbc:derby:;databaseName={metastore};create=true"
        # derby.log goes to derby.system.home (else the working folder).
        return {f"{_JDO}ConnectionURL": url}, [f"-Dderby.system.home={metastore.parent}"]
    warehouse = settings.warehouse
    conf = {
        f"{_JDO}ConnectionURL": (
            f"jdbc:postgresql://{warehouse.host}:{warehouse.port}/{settings.catalog.metastore_database}"
        ),
        f"{_JDO}ConnectionDriverName": POSTGRES_DRIVER,
        f"{_JDO}ConnectionUserName": warehouse.user,
        # Hive 2.3 (Spark's built-in client) creates its tables through DataNucleus; there is no schema version
        # to verify in a database it created itself.
        "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        # Create every table of Hive's model when the metastore opens. Left to create tables lazily, DataNucleus
        # adds a foreign key on a second connection while the first holds a lock on the referenced table: the
        # first CREATE TABLE of a fresh PostgreSQL metastore then hangs for ever (seen with saveAsTable).
        "spark.hadoop.datanucleus.autoStartMechanism": "MetaData",
        "spark.hadoop.datanucleus.autoStartMetaDataFiles": "package.jdo",
    }
    if warehouse.password.get_secret_value():
        conf[f"{_JDO}ConnectionPassword"] = "${env." + PASSWORD_ENV + "}"
    return conf, []


def _connect(settings: Settings) -> Any:
    """A connection to the metastore database; a ServiceError that says what to do when it does not answer."""
    import psycopg2

    warehouse, database = settings.warehouse, settings.catalog.metastore_database
    kwargs = connection_kwargs(settings, database)
    try:
        return psycopg2.connect(**kwargs)
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ServiceError(
            f"catalog: the Hive metastore database {database!r} on PostgreSQL {warehouse.host}:{warehouse.port} "
            f"(warehouse.host/port/user) does not answer ({reason}); run `watchlake up postgres` to start it and "
            "create the database, or set catalog.metastore=derby (WATCHLAKE_CATALOG__METASTORE=derby) for a "
            "metastore that one process at a time can open"
        ) from None


@contextmanager
def opening(settings: Settings) -> Iterator[None]:
    """Hold the metastore's advisory lock while a new Spark session opens the catalog for the first time.

    The first open of a fresh metastore creates Hive's tables; two processes doing that at once would race on
    the same CREATE TABLEs, so opens take turns (an open of a ready metastore takes a second or two). Raises
    ServiceError when the metastore's PostgreSQL or database does not answer, before any JVM starts. Does
    nothing unless the metastore is PostgreSQL.
    """
    if not uses_postgres(settings):
        yield
        return
    import psycopg2

    connection = _connect(settings)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            try:
                cursor.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            except psycopg2.errors.LockNotAvailable:
                raise ServiceError(
                    f"catalog: another process has been opening the Hive metastore for {LOCK_TIMEOUT}; "
                    "check for a stuck Spark job (ps -ef | grep SparkSubmit) and retry"
                ) from None
        yield
    finally:
        connection.close()  # a session-level advisory lock ends with its connection
