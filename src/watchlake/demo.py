"""``watchlake demo``: the whole pipeline on one machine, from a generated CASAS sample to predictions in SQL.

sample -> ingest -> clean -> stats -> train, then Kafka and PostgreSQL are started (unless they already run),
dbldatagen streams synthetic watches into Kafka, and the predictor scores them into the warehouse. Services the
demo started are stopped at the end; what the stages wrote stays in the lake for a look.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from watchlake.cli import add_command, settings_of
from watchlake.settings import Settings, with_section

log = logging.getLogger(__name__)

DEMO_WATCHES = 20

_DESCRIPTION = """\
Run the pipeline end to end on the local target with the embedded defaults: start Kafka and PostgreSQL
(watchlake up), generate a CASAS-format sample (sample.*), stage it (ingest), clean it with Spark, compute
per-activity statistics (kept in the lake and the warehouse), train and register the activity classifier, stream
synthetic watches generated from the statistics into kafka.topic and score them into the warehouse's predictions
table. With --batch-only: no services, the chain stops after training. Nothing leaves this
machine; everything is written under runtime_dir. Services the demo started are stopped when it ends.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "demo",
        _demo,
        help="run the whole pipeline locally on a generated sample",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--participants", type=int, default=None, help="sample participants (default: sample.*)"
    )
    parser.add_argument("--hours", type=float, default=None, help="hours per participant (default: sample.*)")
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=20.0,
        help="how long to stream synthetic watches (default: 20)",
    )
    parser.add_argument(
        "--batch-only", action="store_true", help="stop after training (no Kafka, no PostgreSQL)"
    )


@dataclass
class _Step:
    name: str
    seconds: float
    outcome: str


def _timed(steps: list[_Step], name: str, action: Callable[[], Any], describe: Callable[[Any], str]) -> Any:
    print(f"==> {name}", flush=True)
    started = time.perf_counter()
    result = action()
    steps.append(_Step(name, time.perf_counter() - started, describe(result)))
    print(f"    {steps[-1].outcome} ({steps[-1].seconds:.1f} s)", flush=True)
    return result


def _demo(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    sizes = {"participants": args.participants, "hours": args.hours}
    settings = with_section(
        settings, "sample", **{key: value for key, value in sizes.items() if value is not None}
    )
    steps: list[_Step] = []
    if args.batch_only:
        _batch_chain(with_section(settings, "stats", warehouse_copy="off"), steps)
    else:
        with _services(settings):  # up first, so the statistics reach the warehouse too
            spark = _batch_chain(settings, steps)
            _stream_chain(settings, spark, steps, args.stream_seconds)
    print("\nwatchlake demo finished:")
    for step in steps:
        print(f"  {step.name:<10} {step.seconds:7.1f} s  {step.outcome}")
    return 0


def _batch_chain(settings: Settings, steps: list[_Step]) -> Any:
    from watchlake.clean import job as clean
    from watchlake.ingest import job as ingest
    from watchlake.spark import build_session
    from watchlake.stats import job as stats
    from watchlake.train import job as train

    _timed(
        steps,
        "ingest",
        lambda: ingest.run(settings, source="sample"),
        lambda r: f"{r.files} sample files staged ({r.copied} copied, {r.skipped} unchanged)",
    )
    spark = _timed(
        steps,
        "spark",
        lambda: build_session(settings, "watchlake-demo", jars=("spark-kafka",)),
        lambda s: f"Spark {s.version} on {settings.spark.master}",
    )
    _timed(
        steps,
        "clean",
        lambda: clean.run(settings, spark),
        lambda r: f"{r.rows_kept} readings kept, {r.rows_rejected} rejected {dict(r.rejected_by_reason)}",
    )
    _timed(
        steps,
        "stats",
        lambda: stats.run(settings, spark),
        lambda r: (
            f"{r.statistics} statistics of {r.readings} readings in {r.classes} classes"
            + (" (also in the warehouse)" if r.warehouse else "")
        ),
    )
    _timed(steps, "train", lambda: train.run(settings, spark), _describe_training)
    return spark


def _describe_training(result: Any) -> str:
    metrics, baseline = result.metrics, result.baseline
    verdict = "champion" if result.promoted else f"not promoted ({result.reason})"
    return (
        f"model v{result.version} on {result.train_windows} windows: macro-F1 {metrics['macro_f1']:.2f}, "
        f"accuracy {metrics['accuracy']:.2f} on {result.test_windows} held-out windows "
        f"(majority baseline {baseline['macro_f1']:.2f} / {baseline['accuracy']:.2f}); {verdict}"
    )


@contextmanager
def _services(settings: Settings) -> Iterator[None]:
    """Kafka and PostgreSQL for the demo; those it had to start are stopped afterwards."""
    from watchlake.services import kafka, postgres

    started = []
    try:
        for service in (kafka, postgres):
            if service.status(settings).state not in ("running", "external"):
                service.start(settings)
                started.append(service)
            else:
                service.start(settings)  # already up: makes sure topics and database exist
        yield
    finally:
        for service in reversed(started):
            service.stop(settings)


def _stream_chain(settings: Settings, spark: Any, steps: list[_Step], seconds: float) -> None:
    from watchlake.predict import job as predict
    from watchlake.stats.job import load_activity_stats
    from watchlake.synth import job as synth

    # A small fleet, faster than real time: each watch sends its 10 Hz readings at 20x speed, so windows close
    # within seconds and the predictor has a few hundred windows to score.
    settings = with_section(settings, "generate", devices=DEMO_WATCHES)
    rate = DEMO_WATCHES * 10 * 20
    stats = load_activity_stats(spark, settings)
    _timed(
        steps,
        "generate",
        lambda: synth.run_stream(spark, settings, stats, rate, seconds, fresh=True),
        lambda r: (
            f"{r.rows} synthetic readings ({r.messages} messages) from {settings.generate.devices} watches "
            f"into {settings.kafka.topic} ({r.rows_per_second:,.0f}/s)"
        ),
    )
    _timed(
        steps,
        "predict",
        lambda: predict.run(settings, spark, available_now=True),
        lambda r: (
            f"{r.predictions} window predictions, {r.queued} queued for annotation, "
            f"{r.dead_letters} dead letters, {r.older_than_watermark} older than the watermark, "
            f"in {settings.warehouse.database}.predictions"
        ),
    )
