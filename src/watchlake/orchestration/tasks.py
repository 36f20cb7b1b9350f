"""One DAG task = one stage on the target in ``orchestration.target``: the CLI in a subprocess (``local``, and
the stages without Spark on ``emr``) or an EMR step (Spark stages on ``emr``). Airflow-free except for the EMR path,
which imports the Amazon provider only when it runs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from watchlake.errors import NOTHING_TO_DO_EXIT, OrchestrationError, StageSkipped
from watchlake.settings import Settings, load_settings
from watchlake.stages import stage

log = logging.getLogger(__name__)

# Lines of a failed stage's output repeated in the error (the whole output is in the task log already).
ERROR_TAIL_LINES = 40


def stage_command(name: str, arguments: Sequence[str] = ()) -> list[str]:
    """The command that runs stage ``name``: this interpreter's ``python -m watchlake <name> <arguments>``."""
    return [sys.executable, "-m", "watchlake", name, *arguments]


def run_local(name: str, arguments: Sequence[str] = (), env: Mapping[str, str] | None = None) -> str:
    """Run stage ``name`` through the CLI in a subprocess (environment ``env``, default this process's), logging
    every output line; returns the stage's summary line (the ``<name>: ...`` line the CLI prints).
    Raises StageSkipped when the stage had nothing to do (exit NOTHING_TO_DO_EXIT), OrchestrationError with the
    output's last lines when it exits non-zero otherwise."""
    command = stage_command(name, arguments)
    log.info("running %s", " ".join(command))
    tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
    summary = ""
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env) if env is not None else dict(os.environ),
    ) as child:
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.rstrip("\n")
            log.info("%s | %s", name, line)
            tail.append(line)
            if line.startswith(f"{name}: "):
                summary = line
    if child.returncode == NOTHING_TO_DO_EXIT:
        raise StageSkipped(summary or f"{name}: nothing to do")
    if child.returncode != 0:
        raise OrchestrationError(
            f"stage {name} exited with code {child.returncode}; its last lines:\n" + "\n".join(tail)
        )
    log.info("%s", summary or f"{name}: finished (no summary line)")
    return summary


def runs_on_emr(settings: Settings, name: str) -> bool:
    """True when stage ``name`` runs as an EMR step: the emr target and a Spark stage. The others (ingest, the
    sample) are I/O against the lake and run beside Airflow on either target."""
    return settings.orchestration.target == "emr" and stage(name).spark


def run_task(
    name: str, arguments: Sequence[str] = (), context: Any = None, settings: Settings | None = None
) -> str:
    """Run stage ``name`` with CLI ``arguments`` on the target of ``settings`` (default: loaded from
    ``$WATCHLAKE_ENV`` and ``WATCHLAKE_*``); ``context`` is the Airflow task context the EMR operators need.
    Returns the summary line (local) or the step's id and state (emr)."""
    settings = settings or load_settings()
    if runs_on_emr(settings, name):
        from watchlake.orchestration.emr_runner import run_step

        return run_step(settings, name, arguments, context)
    return run_local(name, arguments)
