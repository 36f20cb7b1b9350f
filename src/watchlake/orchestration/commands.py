"""``watchlake airflow``: Airflow standalone on loopback with the project's DAGs (the local PostgreSQL, started
when needed, holds its metadata); prints where the UI is and the admin login, runs until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import subprocess

from watchlake.commandline import add_command, settings_of
from watchlake.errors import OrchestrationError

_DESCRIPTION = """\
Run Airflow 3 standalone (scheduler, DAG processor, triggerer, API server and UI) bound to 127.0.0.1 with the DAGs
in dags/ (watchlake_batch, watchlake_train). Its metadata lives in the database 'airflow' on the PostgreSQL of
warehouse.* (`watchlake up postgres` is run first), its files in <runtime_dir>/airflow. Tasks run on
orchestration.target (local: the stage's CLI; emr: EMR steps). Parallelism is one task per core.
Needs Airflow: scripts/setup.sh --airflow. Stop with Ctrl-C.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "airflow",
        _airflow,
        help="run Airflow standalone locally with the project's DAGs (UI on 127.0.0.1)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8080, help="port of the UI and API (default: 8080)")


def _airflow(args: argparse.Namespace) -> int:
    import os

    from watchlake.orchestration import standalone
    from watchlake.services import postgres
    from watchlake.services.process import wait_for

    settings = settings_of(args)
    postgres.start(settings)
    standalone.ensure_metadata_database(settings)
    env = {**os.environ, **standalone.standalone_environment(settings, args.port)}
    standalone.airflow_home(settings).mkdir(parents=True, exist_ok=True)
    try:
        # Its own process group, so stopping it reaches the scheduler, API server and the rest it starts.
        child = subprocess.Popen(["airflow", "standalone"], env=env, start_new_session=True)
    except FileNotFoundError:
        raise OrchestrationError("airflow is not installed: run scripts/setup.sh --airflow") from None
    try:
        wait_for(
            lambda: standalone.admin_password(settings) is not None or child.poll() is not None, 180, 1.0
        )
        if child.poll() is not None:
            raise OrchestrationError(
                f"airflow standalone exited with code {child.returncode}; see its log above"
            )
        password = standalone.admin_password(settings)
        print(
            f"\nAirflow UI: http://127.0.0.1:{args.port}  login: admin / {password or '(see the log above)'}"
        )
        print(
            "DAGs: watchlake_batch, watchlake_train; trigger them from the UI (Ctrl-C stops Airflow)",
            flush=True,
        )
        return child.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop_group(child)


def _stop_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to standalone's process group; after it exits (60 s at most), SIGKILL to whatever of the group is
    left (its API server once outlived it)."""
    import os
    import signal

    try:
        os.killpg(child.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
