"""``watchlake airflow``'s pieces: the environment that runs Airflow standalone on loopback with the project's DAGs
and the local PostgreSQL as its metadata database, and the database itself."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

from watchlake.services.process import LOOPBACK
from watchlake.settings import Settings

METADATA_DATABASE = "airflow"
# The checkout's dags/ folder (the DAG files are wiring, kept beside the package, not inside it); an installed
# package (the Docker image) names its own with orchestration.dags_folder.
DAGS_FOLDER = Path(__file__).resolve().parents[3] / "dags"
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


def airflow_home(settings: Settings) -> Path:
    """``<runtime_dir>/airflow``: airflow.cfg, logs and the generated admin password."""
    return Path(settings.runtime_dir).expanduser().resolve() / "airflow"


def metadata_url(settings: Settings) -> str:
    """SQLAlchemy URL of the ``airflow`` database on the warehouse's PostgreSQL server."""
    warehouse = settings.warehouse
    password = warehouse.password.get_secret_value()
    login = quote(warehouse.user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql+psycopg2://{login}@{warehouse.host}:{warehouse.port}/{METADATA_DATABASE}"


def parallelism(cpus: int | None = None) -> int:
    """Task slots: one per core, at least two (Airflow's default of 32 would starve a laptop)."""
    return max(2, cpus if cpus is not None else (os.cpu_count() or 2))


def dags_folder(settings: Settings) -> Path:
    """``orchestration.dags_folder`` if set, else the checkout's ``dags/``."""
    chosen = settings.orchestration.dags_folder
    return Path(chosen).expanduser().resolve() if chosen else DAGS_FOLDER


def standalone_environment(settings: Settings, port: int) -> dict[str, str]:
    """The variables ``airflow standalone`` runs with (on top of this process's): the UI and API on
    ``orchestration.airflow_host`` (loopback, except in a container), its own parts calling it on loopback, this
    venv's ``airflow`` first on PATH (standalone starts its parts through it), no examples, one API worker."""
    home = airflow_home(settings)
    variables = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder(settings)),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism()),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism()),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(settings),
        "AIRFLOW__API__HOST": settings.orchestration.airflow_host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{LOOPBACK}:{port}/execution/",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "WATCHLAKE_ENV": settings.env,
    }
    if settings.aws.endpoint_url:  # moto or another S3/EMR stand-in: the provider's operators go there too
        extra = {"endpoint_url": settings.aws.endpoint_url, "region_name": settings.aws.region}
        variables["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps({"conn_type": "aws", "extra": extra})
    return variables


def ensure_metadata_database(settings: Settings) -> None:
    """Create the ``airflow`` database on the warehouse server when it is missing."""
    import psycopg2
    from psycopg2 import sql

    from watchlake.warehouse.connection import connection_kwargs

    admin = psycopg2.connect(**connection_kwargs(settings, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (METADATA_DATABASE,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(METADATA_DATABASE)))
    finally:
        admin.close()


def admin_password(settings: Settings) -> str | None:
    """The admin password standalone generated, once it has written it."""
    path = airflow_home(settings) / PASSWORD_FILE
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["admin"])
    except (OSError, ValueError, KeyError):
        return None
