"""``watchlake stats``: descriptive statistics of the processed readings per activity class."""

from __future__ import annotations

import argparse
from typing import Any

from watchlake.cli import add_command, settings_of


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "stats",
        _stats,
        help="Spark: processed readings -> per-class statistics (the generator's input)",
        description=(
            "Read <lake>/processed/readings, give every reading its activity class (CASAS label spreading and "
            "conf/labels.yaml; unlabelled and Ignore rows count only overall) and compute, overall and per class: "
            "count, mean, sd, min, max, missing fraction and quantiles of every numeric field; correlations of "
            "the nine motion axes; shares of location_type, battery_state and the classes; raw label counts; "
            "the sampling interval and activity segment durations. Written as one tidy table (scope, "
            "activity_class, column, statistic, key, value) to <lake>/stats/activity_stats (Parquet, replaced "
            "on every run) and registered as <database>.activity_stats. With a warehouse (warehouse.*) the "
            "same rows replace those of its table <schema>.activity_stats in one transaction, with a row in "
            "<schema>.activity_stats_runs (when, from how many readings): stats.warehouse_copy auto skips an "
            "unreachable warehouse with a warning, required fails, off never copies."
        ),
    )
    parser.add_argument(
        "--no-warehouse",
        action="store_true",
        help="keep the statistics in the lake only (as stats.warehouse_copy=off)",
    )


def _stats(args: argparse.Namespace) -> int:
    from watchlake.settings import with_section
    from watchlake.spark import build_session
    from watchlake.stats.job import run, warehouse_location

    settings = settings_of(args)
    if args.no_warehouse:
        settings = with_section(settings, "stats", warehouse_copy="off")
    result = run(settings, build_session(settings, "watchlake-stats"))
    table = f" (table {result.table})" if result.table else ""
    copy = (
        f"copied to {warehouse_location(settings)}"
        if result.warehouse
        else "not copied to the warehouse (see the log)"
    )
    print(
        f"stats of {result.readings} readings: {result.statistics} statistics for {result.classes} classes "
        f"at {result.path}{table}; {copy}"
    )
    return 0
