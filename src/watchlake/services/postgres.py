"""The PostgreSQL warehouse of local runs: the server named in ``settings.warehouse`` if it answers, else a
private cluster (``initdb`` + ``pg_ctl``, Debian's ``postgresql`` package) under ``<runtime_dir>/postgres``.

The private cluster listens on 127.0.0.1 at ``warehouse.port`` only (no Unix socket). Its superuser is
``warehouse.user``; with ``WATCHLAKE_WAREHOUSE__PASSWORD`` set, loopback connections need that password
(scram-sha-256), otherwise loopback connections are trusted (fine on a one-user laptop or CI machine). PostgreSQL
refuses to run as root: as root the cluster runs as the system user ``postgres`` (created by the Debian package).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from watchlake.errors import ServiceError
from watchlake.metastore import uses_postgres
from watchlake.services import process
from watchlake.services.process import ServiceInfo
from watchlake.settings import Settings
from watchlake.warehouse.connection import connection_kwargs

log = logging.getLogger(__name__)

NAME = "postgres"
RUN_AS_ROOT_USER = "postgres"
START_TIMEOUT = 60


def answers(settings: Settings, database: str = "postgres") -> bool:
    """True when the warehouse accepts a login of ``warehouse.user`` to ``database``."""
    import psycopg2

    try:
        psycopg2.connect(**connection_kwargs(settings, database)).close()
        return True
    except psycopg2.OperationalError:
        return False


def _bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: next to ``pg_ctl`` on PATH, else the newest Debian install."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if installed:
        return installed[-1].parent
    raise ServiceError(
        "postgres: PostgreSQL server binaries (initdb, pg_ctl) not found; install them "
        "(apt-get install -y postgresql) or point warehouse.host/port at a running server"
    )


def _run_as() -> list[str]:
    """The command prefix that drops root to the ``postgres`` user (empty when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(RUN_AS_ROOT_USER)
    except KeyError:
        raise ServiceError(
            f"postgres: running as root needs the system user {RUN_AS_ROOT_USER!r} "
            "(apt-get install -y postgresql creates it), or run watchlake as a normal user"
        ) from None
    return ["runuser", "-u", RUN_AS_ROOT_USER, "--"]


def _paths(settings: Settings) -> dict[str, Path]:
    home = process.service_dir(settings.runtime_dir, NAME)
    return {
        "home": home,
        "data": home / "data",
        "log": home / "postgres.log",
        "pid": home / "data" / "postmaster.pid",
    }


def _run(command: list[str], what: str, log_file: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        tail = process.log_tail(log_file) if log_file else ""
        raise ServiceError(f"postgres: {what} failed:\n{result.stdout}{result.stderr}{tail}")


def _prepare_home(paths: dict[str, Path], run_as: list[str]) -> None:
    """As root, hand the cluster folder to the ``postgres`` user and check it can reach it."""
    if not run_as:
        return
    user = pwd.getpwnam(RUN_AS_ROOT_USER)
    os.chown(paths["home"], user.pw_uid, user.pw_gid)
    if subprocess.run([*run_as, "test", "-w", str(paths["home"])], check=False).returncode != 0:
        raise ServiceError(
            f"postgres: the {RUN_AS_ROOT_USER} user cannot reach {paths['home']}; make its parent folders "
            "traversable (chmod o+x) or choose another runtime_dir"
        )


def _init_cluster(settings: Settings, paths: dict[str, Path], bin_dir: Path, run_as: list[str]) -> None:
    """``initdb`` with ``warehouse.user`` as superuser; trust or scram-sha-256 on loopback (see module doc)."""
    password = settings.warehouse.password.get_secret_value()
    command = [*run_as, str(bin_dir / "initdb"), "-D", str(paths["data"]), "-U", settings.warehouse.user]
    command += ["-E", "UTF8", "--no-locale", "--auth-local=trust"]
    pwfile = paths["home"] / ".pwfile"
    if password:
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if run_as:
            user = pwd.getpwnam(RUN_AS_ROOT_USER)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        command += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
    else:
        command += ["--auth-host=trust"]
    try:
        _run(command, f"initdb of {paths['data']}")
    finally:
        pwfile.unlink(missing_ok=True)
    log.info("postgres: initialised a cluster in %s", paths["data"])


def _server_options(settings: Settings) -> str:
    port = settings.warehouse.port
    return f"-c listen_addresses={process.LOOPBACK} -p {port} -c unix_socket_directories='' -c max_connections=40"


def start(settings: Settings) -> ServiceInfo:
    """Use the configured server if it answers, else start (once) the private cluster; create the database."""
    host, port = settings.warehouse.host, settings.warehouse.port
    paths = _paths(settings)
    token = str(paths["data"])
    pid = process.live_pid(paths["pid"], token, NAME)
    if pid is None:
        if answers(settings):
            log.info("postgres: using the server that answers on %s:%d", host, port)
            _ensure_database(settings)
            return status(settings)
        if not process.is_loopback(host):
            raise ServiceError(f"postgres: no PostgreSQL answers on {host}:{port} (warehouse.host/port)")
        process.ensure_port_free(process.LOOPBACK, port, NAME, "warehouse.port")
        _start_cluster(settings, paths)
        pid = process.read_pid(paths["pid"])
    else:
        log.info("postgres: already running (pid %d on %s:%d)", pid, host, port)
    if pid is None or not process.wait_for(lambda: answers(settings), START_TIMEOUT, 0.3):
        raise ServiceError(
            f"postgres: the cluster does not accept logins on {host}:{port}; last lines of {paths['log']}:\n"
            f"{process.log_tail(paths['log'])}"
        )
    _ensure_database(settings)
    return status(settings)


def _start_cluster(settings: Settings, paths: dict[str, Path]) -> None:
    bin_dir, run_as = _bin_dir(), _run_as()
    _prepare_home(paths, run_as)
    if not (paths["data"] / "PG_VERSION").exists():
        _init_cluster(settings, paths, bin_dir, run_as)
    command = [*run_as, str(bin_dir / "pg_ctl"), "start", "-D", str(paths["data"]), "-l", str(paths["log"])]
    command += ["-w", "-t", str(START_TIMEOUT), "-o", _server_options(settings)]
    _run(command, "pg_ctl start (the server died at start)", paths["log"])
    log.info("postgres: private cluster on %s:%d", process.LOOPBACK, settings.warehouse.port)


def _ensure_database(settings: Settings) -> None:
    """Create ``warehouse.database`` and ``warehouse.schema_name`` when missing, and the (empty) database of the
    Hive metastore when the catalog keeps it here (Spark creates its tables on first use, see metastore.py)."""
    import psycopg2
    from psycopg2 import sql

    warehouse, catalog = settings.warehouse, settings.catalog
    databases = [warehouse.database]
    if uses_postgres(settings):
        databases.append(catalog.metastore_database)
    admin = psycopg2.connect(**connection_kwargs(settings, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            for database in dict.fromkeys(databases):
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                    log.info("postgres: created database %s", database)
    finally:
        admin.close()
    with psycopg2.connect(**connection_kwargs(settings)) as connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(warehouse.schema_name))
        )
    connection.close()


def stop(settings: Settings) -> ServiceInfo:
    """Stop the private cluster (fast shutdown); a server watchlake did not start is left alone."""
    paths = _paths(settings)
    token = str(paths["data"])
    pid = process.live_pid(paths["pid"], token, NAME)
    if pid is not None:
        command = [
            *_run_as(),
            str(_bin_dir() / "pg_ctl"),
            "stop",
            "-D",
            str(paths["data"]),
            "-m",
            "fast",
            "-w",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        if result.returncode != 0:
            log.warning("postgres: pg_ctl stop failed (%s); signalling pid %d", result.stderr.strip(), pid)
        process.stop_pid(pid, token, NAME, timeout=30.0)
        log.info("postgres: stopped pid %d", pid)
    return status(settings)


def status(settings: Settings) -> ServiceInfo:
    address = f"{settings.warehouse.host}:{settings.warehouse.port}"
    if not process.is_loopback(settings.warehouse.host):
        # Redshift or another remote server: nothing of it runs here, and probing it is not a local status.
        return ServiceInfo(
            NAME, "skipped", address, detail=f"warehouse.host is not on loopback ({settings.warehouse.kind})"
        )
    paths = _paths(settings)
    pid = process.live_pid(paths["pid"], str(paths["data"]), NAME)
    if pid is not None:
        return ServiceInfo(NAME, "running", address, pid, answers(settings), str(paths["log"]))
    if process.port_open(settings.warehouse.host, settings.warehouse.port) and answers(settings):
        return ServiceInfo(NAME, "external", address, healthy=True, detail="not started by watchlake")
    return ServiceInfo(NAME, "stopped", address, log_file=str(paths["log"]))
