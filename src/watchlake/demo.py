"""``watchlake demo``: the whole pipeline on one machine, from a generated CASAS sample to predictions in SQL.

The demo is a list of stage-table entries (:mod:`watchlake.stages`) with their options: ingest (of a generated
sample) -> clean -> stats -> features -> train, then, with Kafka and PostgreSQL up (started unless they already
run), generate (synthetic watches into Kafka) -> predict (into the warehouse), and the active-learning loop: the
oracle labels the annotation queue through the annotation API (labels into the feature store) -> retrain (the
challenger is promoted only if it wins on the same held-out windows). It prints each stage's summary line and the
loop's before/after figures; services it started are stopped at the end, and what the stages wrote stays in the
lake for a look.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from watchlake.commandline import add_command, settings_of
from watchlake.progress import track
from watchlake.settings import Settings, with_section
from watchlake.stages import run_stage, stage, summary

log = logging.getLogger(__name__)

DEMO_WATCHES = 20

_DESCRIPTION = """\
Run the pipeline end to end on the local target with the embedded defaults: start Kafka and PostgreSQL
(watchlake up), generate a CASAS-format sample (sample.*), stage it (ingest), clean it with Spark, compute
per-activity statistics (kept in the lake and the warehouse), build the labelled feature windows (features),
train and register the activity classifier, stream synthetic watches generated from the statistics into
kafka.topic (generate) and score them into the warehouse's predictions table (predict), then close the
active-learning loop: the simulated annotator (watchlake annotate --oracle) labels the low-confidence windows
the predictor queued, from the generator's ground truth, through the annotation API into the feature store, and
retrain fits a challenger on them and promotes it only if it beats the champion on the same held-out windows.
Each stage prints the summary line its `watchlake <stage>` command prints; the end shows the labels taken and
macro-F1 before and after. With --batch-only: no services, the chain stops after training. Nothing leaves this machine; everything is written under runtime_dir. Services the demo started are
stopped when it ends.
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
    parser.add_argument(
        "--unless-champion",
        action="store_true",
        help="do nothing when the model registry has a champion already (docker-compose.yml's model service)",
    )


# The demo's chain: (stage, options). The stream runs faster than real time: each watch sends its 10 Hz readings
# at 20x speed, so windows close within seconds and the predictor has a few hundred windows to score.
BATCH_CHAIN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("ingest", {"source": "sample"}),
    ("clean", {}),
    ("stats", {}),
    ("features", {}),
    ("train", {}),
)
STREAM_CHAIN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("generate", {"kafka": True, "devices": DEMO_WATCHES, "rate": DEMO_WATCHES * 10 * 20, "fresh": True}),
    ("predict", {"available_now": True}),
)
# The active-learning loop: "oracle" is the demo's own step (the simulated annotator, not a pipeline stage).
LOOP_CHAIN: tuple[tuple[str, dict[str, Any]], ...] = (("oracle", {}), ("retrain", {}))


def _run_oracle(settings: Settings, spark: Any, **options: Any) -> Any:
    from watchlake.annotate.oracle import run_oracle

    return run_oracle(settings, **options)


def _oracle_summary(result: Any) -> str:
    from watchlake.annotate.oracle import summary as oracle_summary

    return oracle_summary(result)


# Demo steps that are not stages: name -> (run(settings, spark, **options), summary(result)).
_DEMO_STEPS = {"oracle": (_run_oracle, _oracle_summary)}


@dataclass
class _Step:
    name: str
    seconds: float
    outcome: str


@dataclass
class _Run:
    """The stages run so far, each with its time and summary line."""

    steps: list[_Step] = field(default_factory=list)

    results: dict[str, Any] = field(default_factory=dict)

    def stage(self, settings: Settings, spark: Any, name: str, options: dict[str, Any]) -> Any:
        print(f"==> {name}", flush=True)
        started = time.perf_counter()
        if name in _DEMO_STEPS:
            run, line = _DEMO_STEPS[name]
            result = run(settings, spark, **options)
            outcome = line(result)
        else:
            result = run_stage(name, settings, spark, **options)
            outcome = summary(name, result)
        self.results[name] = result
        self.steps.append(_Step(name, time.perf_counter() - started, outcome))
        print(f"    {self.steps[-1].outcome} ({self.steps[-1].seconds:.1f} s)", flush=True)
        return result


def _demo(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.unless_champion:
        from watchlake.registry.registry import ModelRegistry

        champion = ModelRegistry.from_settings(settings).champion()
        if champion is not None:
            print(
                f"demo: model {settings.train.model_name} has a champion (version {champion.version}); nothing to do"
            )
            return 0
    sizes = {"participants": args.participants, "hours": args.hours}
    settings = with_section(
        settings, "sample", **{key: value for key, value in sizes.items() if value is not None}
    )
    stream = (("generate", {**STREAM_CHAIN[0][1], "seconds": args.stream_seconds}), STREAM_CHAIN[1])
    demo = _Run()
    if args.batch_only:
        # No services: the statistics stay in the lake, and the catalog's metastore is the embedded one (only this
        # process opens it).
        settings = with_section(settings, "stats", warehouse_copy="off")
        settings = with_section(settings, "catalog", metastore="derby")
        _run_chain(demo, settings, BATCH_CHAIN)
    else:
        with _services(settings):  # up first, so the statistics reach the warehouse too
            _run_chain(demo, settings, BATCH_CHAIN + stream + LOOP_CHAIN)
    print("\nwatchlake demo finished:")
    for step in demo.steps:
        print(f"  {step.name:<10} {step.seconds:7.1f} s  {step.outcome}")
    if "retrain" in demo.results:
        print(f"\nactive learning: {loop_summary(demo.results['oracle'], demo.results['retrain'])}")
    return 0


def loop_summary(oracle: Any, retrain: Any) -> str:
    """Labels taken and macro-F1 before and after, on the same held-out windows."""
    if retrain.skipped:
        return f"{oracle.labelled} labels taken; retrain skipped ({retrain.reason})"
    before = "n/a" if retrain.champion_macro_f1 is None else f"{retrain.champion_macro_f1:.3f}"
    verdict = (
        f"v{retrain.version} is the champion now"
        if retrain.promoted
        else f"v{retrain.champion_version} stays champion ({retrain.reason})"
    )
    return (
        f"{oracle.labelled} labels taken; macro-F1 on the same {retrain.test_windows} held-out windows: "
        f"before {before} (champion v{retrain.champion_version}), after {retrain.challenger_macro_f1:.3f} "
        f"(challenger v{retrain.version}); {verdict}"
    )


def _run_chain(demo: _Run, settings: Settings, chain: tuple[tuple[str, dict[str, Any]], ...]) -> None:
    """Run the chain's stages in one process: one Spark session (with every jar the chain needs) for all."""
    from watchlake.spark import build_session

    entries = [None if name in _DEMO_STEPS else stage(name) for name, _ in chain]
    jars = tuple(dict.fromkeys(jar for entry in entries if entry for jar in entry.jars))
    spark = None
    with track("demo", len(chain), unit="stages", logged=False) as bar:
        for number, (entry, (name, options)) in enumerate(zip(entries, chain, strict=True)):
            bar.set(number, f"demo: {name}")
            if entry is not None and entry.spark and spark is None:
                spark = build_session(settings, "watchlake-demo", jars=jars)
            demo.stage(settings, spark, name, options)
            bar.set(number + 1)
    if spark is not None:
        spark.stop()  # before the services it talks to stop (its Kafka producers would keep calling the broker)


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
