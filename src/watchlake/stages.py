"""The stage table: every stage of the pipeline once, with the function that runs it and what it reads and writes.

The CLI builds a subcommand per entry, ``spark_jobs/<stage>.py`` (spark-submit, EMR steps) runs the entry of its
name, the demo runs a list of names, and the Airflow DAGs make a task per entry. Adding a stage is one entry
here plus its ``run`` function and its ``commands`` module (arguments, the options they give ``run``, the summary
line of a result). Entries name code by import path, so reading the table imports no stage and no PySpark.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchlake.errors import ConfigError
from watchlake.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """One stage. ``run`` is ``"module:function"``, called ``run(settings, spark, **options)`` when ``spark`` is
    set, else ``run(settings, **options)``; it returns a small result (a dataclass of counts and paths).
    ``commands`` is the module with ``DESCRIPTION``, ``add_arguments(parser)``, ``options(args)`` (the keyword
    options for ``run``) and ``summary(result)`` (one line). ``reads`` and ``writes`` name lake layers
    (``lake.Lake`` properties) and services; ``jars`` the jar folders its Spark session adds."""

    name: str
    help: str
    run: str
    commands: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    spark: bool = False
    jars: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tool:
    """Subcommands that are not pipeline stages (services, reports, the demo): ``module.register(subparsers)``
    adds exactly ``names``."""

    names: tuple[str, ...]
    module: str


STAGES: tuple[Stage, ...] = (
    Stage(
        "sample",
        "write CASAS-format sample archives (group zips of sw1.pN.csv) with planted defects",
        run="watchlake.casas.job:run",
        commands="watchlake.casas.commands",
        writes=("sample",),
    ),
    Stage(
        "ingest",
        "bulk load: CASAS archives (download, folder, zip or sample) -> lake staging",
        run="watchlake.ingest.job:run",
        commands="watchlake.ingest.commands",
        reads=("archives",),
        writes=("staging", "manifests"),
    ),
    Stage(
        "clean",
        "Spark: staged CASAS CSVs -> processed readings (Parquet) + rejected lines with a reason",
        run="watchlake.clean.job:run",
        commands="watchlake.clean.commands",
        reads=("staging",),
        writes=("readings", "rejected_readings", "catalog"),
        spark=True,
    ),
    Stage(
        "stats",
        "Spark: processed readings -> per-class statistics (the generator's input)",
        run="watchlake.stats.job:run",
        commands="watchlake.stats.commands",
        reads=("readings",),
        writes=("activity_stats", "catalog", "warehouse"),
        spark=True,
    ),
    Stage(
        "features",
        "Spark: processed readings -> labelled feature windows (the training set)",
        run="watchlake.features.job:run",
        commands="watchlake.features.commands",
        reads=("readings",),
        writes=("windows", "catalog"),
        spark=True,
    ),
    Stage(
        "train",
        "train the activity classifier on the feature windows; --rollback / --show for the registry",
        run="watchlake.train.job:run",
        commands="watchlake.train.commands",
        reads=("windows", "models"),
        writes=("models", "train_reports"),
        spark=True,
    ),
    Stage(
        "retrain",
        "retrain with the feature store's labels; the challenger replaces the champion only if it wins",
        run="watchlake.retrain.job:run",
        commands="watchlake.retrain.commands",
        reads=("windows", "models", "feature_store"),
        writes=("models", "retrain_reports"),
        spark=True,
    ),
    Stage(
        "score",
        "batch inference: the champion over the lake's readings or a staging folder -> predictions (+ report)",
        run="watchlake.score.job:run",
        commands="watchlake.score.commands",
        reads=("readings", "models"),
        writes=("predictions", "score_reports", "catalog", "warehouse"),
        spark=True,
    ),
    Stage(
        "generate",
        "dbldatagen: synthetic watches from the activity statistics, to staging (CASAS) or into Kafka",
        run="watchlake.synth.stage:run",
        commands="watchlake.synth.commands",
        reads=("activity_stats",),
        writes=("synthetic_staging", "kafka"),
        spark=True,
        jars=("spark-kafka",),
    ),
    Stage(
        "predict",
        "score the Kafka stream with the champion model into the warehouse",
        run="watchlake.predict.job:run",
        commands="watchlake.predict.commands",
        reads=("kafka", "models"),
        writes=("warehouse", "checkpoints"),
        spark=True,
        jars=("spark-kafka",),
    ),
)

TOOLS: tuple[Tool, ...] = (
    Tool(("up", "down", "status"), "watchlake.services.commands"),
    Tool(("fidelity",), "watchlake.synth.fidelity_commands"),
    Tool(("demo",), "watchlake.demo"),
    Tool(("airflow",), "watchlake.orchestration.commands"),
    Tool(("aws",), "watchlake.orchestration.deploy_commands"),
    Tool(("annotate",), "watchlake.annotate.commands"),
    Tool(("bench",), "watchlake.bench_suite.commands"),
)

_BY_NAME = {stage.name: stage for stage in STAGES}


def stage(name: str) -> Stage:
    """The entry called ``name``; ConfigError naming the known stages otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(f"unknown stage {name!r}; stages: {', '.join(_BY_NAME)}") from None


def resolve(path: str) -> Any:
    """The object behind ``"module:attribute"``."""
    module, _, attribute = path.partition(":")
    target = importlib.import_module(module)
    return getattr(target, attribute) if attribute else target


def commands_of(entry: Stage) -> Any:
    """The stage's commands module (arguments, options, summary)."""
    return resolve(entry.commands)


def session_for(entry: Stage, settings: Settings) -> Any:
    """The Spark session a stage runs in (built once per process: later stages reuse it)."""
    from watchlake.spark import build_session

    return build_session(settings, f"watchlake-{entry.name}", jars=entry.jars)


def run_stage(name: str, settings: Settings, spark: Any = None, **options: Any) -> Any:
    """Run stage ``name`` with ``settings`` (and ``spark``, built here when the stage needs one and none is
    given) and the stage's keyword ``options``; returns its result."""
    entry = stage(name)
    function: Callable[..., Any] = resolve(entry.run)
    if not entry.spark:
        return function(settings, **options)
    return function(settings, spark if spark is not None else session_for(entry, settings), **options)


def summary(name: str, result: Any) -> str:
    """The one-line account of a stage's result (what the CLI prints, the demo lists and a DAG task logs)."""
    return str(commands_of(stage(name)).summary(result))
