"""``watchlake stats``: descriptive statistics of the processed readings per activity class."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
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
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-warehouse",
        action="store_true",
        help="keep the statistics in the lake only (as stats.warehouse_copy=off)",
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"warehouse_copy": "off"} if args.no_warehouse else {}


def summary(result: Any) -> str:
    table = f" (table {result.table})" if result.table else ""
    copy = (
        f"copied to {result.warehouse}" if result.warehouse else "not copied to the warehouse (see the log)"
    )
    return (
        f"{result.statistics} statistics of {result.readings} readings in {result.classes} classes "
        f"at {result.path}{table}; {copy}"
    )
