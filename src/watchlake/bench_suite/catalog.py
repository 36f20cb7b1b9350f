"""The benchmarks ``watchlake bench`` runs and the figures it reads from each one's JSON.

Each benchmark is a script under bench/ that measures the project's path and a baseline in the same process run
and writes one JSON file. A figure names a value in that JSON and the baseline it is compared with, by dotted path
(``drain.noop.predictions_query.events_per_second``; ``[i]`` picks a list item). Its ratio is value / baseline,
whichever way is better; ``target`` is the ratio the project aims for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    baseline: str | None
    baseline_name: str
    unit: str
    higher_is_better: bool
    target: float | None = None


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    figures: tuple[Figure, ...]
    # The option through which the script repeats its own measurements and reports their median or best (its
    # process then runs once); without one, the suite runs the script that many times and takes medians itself.
    repeat_option: str | None = None
    # Python modules the script needs beyond the test environment, with how to get them.
    needs: tuple[str, ...] = ()


def _options(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BENCHES: tuple[Bench, ...] = (
    Bench(
        "clean",
        "bench.clean.run",
        full=("--gb", "1.0"),
        quick=_options("--gb 0.1"),
        repeat_option="--repeat",
        figures=(
            Figure(
                "clean, warm (best of runs), s", "spark.seconds", "duckdb.seconds", "DuckDB", "s", False, 2.0
            ),
            Figure(
                "clean, fresh process (median), s",
                "one_shot.spark.seconds",
                "one_shot.duckdb.seconds",
                "DuckDB, fresh process",
                "s",
                False,
                4.0,
            ),
        ),
    ),
    Bench(
        "generate",
        "bench.generate.run",
        full=(),
        quick=_options("--rates 100000 --seconds 8 --warmup-seconds 4 --batch-rows 300000"),
        figures=(
            Figure(
                "generate into Kafka, sustained readings/s",
                "sustained_rows_per_second",
                "transport_ceiling.readings_per_second",
                "Kafka's producer tool, same broker",
                "readings/s",
                True,
            ),
        ),
    ),
    Bench(
        "train",
        "bench.train.run",
        full=(),
        quick=_options("--train-windows 4000 --score-windows 40000 --udf-windows 4000 --trees 20"),
        figures=(
            Figure(
                "score, windows/s per core",
                "native_score.rows_per_second_per_core",
                "python_udf_score.rows_per_second_per_core",
                "Python UDF, same forest",
                "windows/s",
                True,
            ),
            Figure("train, s", "train_seconds", None, "", "s", False),
        ),
    ),
    Bench(
        "predict",
        "bench.predict.run",
        full=(),
        quick=_options(
            "--rates 10000 --paced-seconds 8 --warmup-seconds 4 --drain-messages 3000 "
            "--drain-batch-messages 1000 --devices 100 --skip-profile"
        ),
        needs=("confluent_kafka",),
        figures=(
            Figure(
                "predict, drain into PostgreSQL, events/s",
                "drain.warehouse.predictions_query.events_per_second",
                "drain.noop.predictions_query.events_per_second",
                "same query, no-op sink",
                "events/s",
                True,
            ),
        ),
    ),
    Bench(
        "active_learning",
        "bench.active_learning.run",
        full=(),
        quick=_options("--quick"),
        figures=(
            Figure(
                "active learning, labels to 95% of the ceiling",
                "strategies.margin.median_labels",
                "strategies.random.median_labels",
                "random sampling",
                "labels",
                False,
                0.5,
            ),
        ),
    ),
)


def bench_named(name: str) -> Bench:
    for bench in BENCHES:
        if bench.name == name:
            return bench
    raise KeyError(name)
