"""The DAGs as data: each pipeline is a chain of stage-table entries with the options its tasks pass.

``dags/*.py`` turn one entry each into an Airflow DAG (:mod:`watchlake.orchestration.airflow_dag`); this module
imports neither Airflow nor any stage, so the table is checked (every name is a stage) by a plain test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watchlake.errors import ConfigError
from watchlake.stages import stage


@dataclass(frozen=True)
class Param:
    """A run parameter shown in the trigger form: its default, JSON-schema type and what it does."""

    default: Any
    type: str
    description: str


@dataclass(frozen=True)
class Pipeline:
    """``stages`` run one after the other, one task each; ``arguments`` gives a stage's CLI options as templates
    filled from the run's ``params`` (``"{source}"``). ``schedule`` is an Airflow schedule, None for manual runs."""

    dag_id: str
    description: str
    stages: tuple[str, ...]
    params: Mapping[str, Param] = field(default_factory=dict)
    arguments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    schedule: str | None = None

    def __post_init__(self) -> None:
        for name in (*self.stages, *self.arguments):
            stage(name)  # a ConfigError naming the known stages when a name is wrong
        unknown = set(self.arguments) - set(self.stages)
        if unknown:
            raise ConfigError(
                f"pipeline {self.dag_id}: arguments for stages it does not run: {sorted(unknown)}"
            )


PIPELINES: tuple[Pipeline, ...] = (
    Pipeline(
        "watchlake_batch",
        "Stage the CASAS archives, clean them into the lake and its catalog, describe them per activity",
        stages=("ingest", "clean", "stats"),
        params={
            "source": Param(
                "casas",
                "string",
                "casas (download the archives), sample (generate one offline) or a folder or zip path",
            )
        },
        arguments={"ingest": ("--source", "{source}")},
    ),
    Pipeline(
        "watchlake_train",
        "Build the labelled feature windows from the processed readings and train, evaluate and register the model",
        stages=("features", "train"),
    ),
    Pipeline(
        "watchlake_retrain",
        "Retrain with the feature store's labels (the annotators' and the oracle's); promote only a better model. "
        "Hourly: a run with no label newer than the champion's trains nothing",
        stages=("retrain",),
        schedule="@hourly",
    ),
)

_BY_ID = {entry.dag_id: entry for entry in PIPELINES}


def pipeline(dag_id: str) -> Pipeline:
    """The pipeline of ``dag_id``; ConfigError naming the known ones otherwise."""
    try:
        return _BY_ID[dag_id]
    except KeyError:
        raise ConfigError(f"unknown pipeline {dag_id!r}; pipelines: {', '.join(_BY_ID)}") from None


def stage_arguments(entry: Pipeline, name: str, params: Mapping[str, Any]) -> list[str]:
    """The CLI options of stage ``name`` in a run of ``entry`` with ``params`` (defaults fill what is missing)."""
    values = {key: param.default for key, param in entry.params.items()}
    values.update({key: value for key, value in params.items() if key in entry.params})
    try:
        return [template.format(**values) for template in entry.arguments.get(name, ())]
    except KeyError as error:
        raise ConfigError(
            f"pipeline {entry.dag_id}: stage {name} uses parameter {error} that it does not declare"
        ) from None
