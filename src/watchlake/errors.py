"""Every error watchlake raises on purpose; each message tells the user what to do next."""

from __future__ import annotations

# The exit status of a stage that had nothing to do (its result says ``skipped``, e.g. retrain without new labels):
# not a failure, and not a run either. A DAG task shows it as skipped.
NOTHING_TO_DO_EXIT = 99


class WatchlakeError(Exception):
    """Base of all expected failures; the CLI prints the message and exits non-zero without a traceback."""

    exit_code = 1


class ConfigError(WatchlakeError):
    """A setting is missing or invalid; the message names the key."""

    exit_code = 2


class FormatError(WatchlakeError):
    """An input file does not follow the CASAS format; the message names the file and the row."""


class IngestError(WatchlakeError):
    """Downloading, unpacking or staging the archives failed."""


class ServiceError(WatchlakeError):
    """A local service (Kafka, PostgreSQL, moto) could not be started, reached or stopped."""


class DataQualityError(WatchlakeError):
    """A job's output broke an invariant (for example rows in != rows kept + rows rejected)."""


class ModelError(WatchlakeError):
    """No model is registered, or a model cannot be loaded or promoted."""


class StageSkipped(WatchlakeError):
    """A stage run by a DAG task exited with NOTHING_TO_DO_EXIT; the message is its summary line."""

    exit_code = NOTHING_TO_DO_EXIT


class OrchestrationError(WatchlakeError):
    """A DAG task's stage failed (its exit code or EMR step state says so) or its target is not set up."""


class AnnotationRefused(WatchlakeError):
    """The annotation service refuses a request; ``status`` is the HTTP status it answers with, the message the
    text the client sees (what was wrong and what to do)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
